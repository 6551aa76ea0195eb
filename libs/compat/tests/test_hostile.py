"""Hostile input to the compatibility profiles: each answers a clear 4xx, or what a
well-formed request would get, and never a 500. The sweep over every route is tests-e2e/compat/test_hostile.py."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import cbor2
import orjson
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from atelier_compat.reviv import standard_credential
from atelier_gateway.settings import SERVICES
from atelier_gateway.upstream import AsgiUpstream
from atelier_testing import TestKeys
from atelier_testing.gateway import StartGateway, echo_service

ORIGIN = "http://localhost:3000"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _token(payload: bytes) -> str:
    """A JWT-shaped cookie whose payload is `payload` (the signature is not checked by the profile)."""
    return ".".join(_b64(part) for part in (b'{"alg":"RS256"}', payload, b"signature"))


# -- storybook: the session cookie is the client's -----------------------------------------------

@pytest.mark.parametrize("payload", [b"[]", b"null", b"5", b'"text"', b'{"exp":[1]}', b'{"exp":null}',
                                     b'{"exp":true}', b"not json"])
async def test_a_session_cookie_whose_payload_is_not_claims_ends_the_session(start_gateway: StartGateway,
                                                                             payload: bytes) -> None:
    async with start_gateway(compat_profiles=["storybook"]) as gw:
        r = await gw.client.get("/compat/storybook/api/customer/status/", cookies={"sessionid": _token(payload)})
        assert r.status_code == 200, r.text
        assert r.json() == {"loggedIn": False}
        # Read as expired: without a refresh cookie the session is over and the cookie is cleared.
        assert "sessionid=; Path=/; Max-Age=0" in r.headers.get_list("set-cookie")[0]


async def test_a_session_cookie_with_a_future_expiry_still_stands_for_the_bearer(start_gateway: StartGateway) -> None:
    async with start_gateway(compat_profiles=["storybook"]) as gw:
        access = gw.keys.user_headers()["Authorization"].removeprefix("Bearer ")
        r = await gw.client.get("/compat/storybook/api/customer/user/", cookies={"sessionid": access})
        assert r.status_code == 200, r.text
        assert r.json()["id"] is None  # the echo's answer, shaped: the call went through with the bearer
        exp = orjson.loads(base64.urlsafe_b64decode(access.split(".")[1] + "=="))["exp"]
        assert exp > time.time() + 30


# -- reviv: passkey attestation objects are CBOR from the client -----------------------------------

def _attestation(credential_id: bytes) -> str:
    auth_data = b"\x11" * 32 + b"\x41" + b"\x00\x00\x00\x01" + b"\x00" * 16 + len(credential_id).to_bytes(2, "big") \
        + credential_id + cbor2.dumps({1: 2, 3: -7})
    return _b64(cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data}))


def test_the_credential_id_is_read_from_a_well_formed_attestation_object() -> None:
    flat = {"clientDataJSON": "e30", "attestationObject": _attestation(b"\x01\x02\x03credential")}
    out = standard_credential(flat, registration=True)
    assert out["id"] == out["rawId"] == _b64(b"\x01\x02\x03credential")
    assert out["response"] == flat


DEEP = b"\xa1\x68authData" + b"\x81" * 50_000 + b"\x00"  # {"authData": [[[…]]]}, 50,000 levels


@pytest.mark.parametrize("attestation", [
    DEEP, b"\x81" * 50_000 + b"\x00", b"\xa1\x68authData", b"\xbf\x68authData\x43abc",  # deep, truncated, indefinite
    cbor2.dumps([1, 2]), cbor2.dumps({"authData": "text"}), cbor2.dumps({"authData": b"short"}),
    cbor2.dumps({"authData": b"\x00" * 53 + b"\x00\x40" + b"\x01"}),  # an id longer than the data
    b"\xd8\x25\x41\x00",  # a malformed tagged UUID
])
async def test_malformed_or_deeply_nested_cbor_is_a_400_in_the_reviv_format(start_gateway: StartGateway,
                                                                             attestation: bytes) -> None:
    credential = {"clientDataJSON": "e30", "attestationObject": _b64(attestation)}
    async with start_gateway(compat_profiles=["reviv"]) as gw:
        for path, headers in (("/compat/reviv/api/auth/email-passkey/register/complete/", {}),
                              ("/compat/reviv/api/auth/passkey/register/complete/", gw.keys.user_headers())):
            r = await gw.client.post(path, headers=headers, json={"registration_id": "r", "credential": credential})
            assert r.status_code == 400, r.text
            assert r.json() == {"error": {"code": "VALIDATION_ERROR", "message": "The credential is not valid",
                                          "details": {"fields": {"credential": ["Malformed WebAuthn credential"]}}}}


async def test_a_bad_bearer_token_does_not_make_the_reviv_health_a_503(start_gateway: StartGateway) -> None:
    async with start_gateway(compat_profiles=["reviv"]) as gw:
        r = await gw.client.get("/compat/reviv/api/health/", headers={"Authorization": "Bearer not-a-token"})
        assert r.status_code == 200, r.text
        assert r.json() == {"status": "healthy", "checks": {"database": "ok", "cache": "ok", "celery": "ok"}}


# -- shop and marbelle: a cart line named by a UUID in another form ---------------------------------

class _Add(BaseModel):
    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    quantity: int = 1


class _Change(BaseModel):
    quantity: int


def fake_cart() -> FastAPI:
    """A cart service as the native one answers: ids in any UUID form in, canonical ones out."""
    app = FastAPI()
    lines: dict[uuid.UUID, dict[str, Any]] = {}

    def cart() -> dict[str, Any]:
        items = list(lines.values())
        total = str(sum(int(i["line_total"]) for i in items))
        return {"id": str(uuid.UUID(int=1)), "items": items, "item_count": sum(i["quantity"] for i in items),
                "subtotal": total, "tax_amount": "0", "total": total}

    @app.get("/api/v1/cart")
    async def read() -> dict[str, Any]:
        return cart()

    @app.post("/api/v1/cart/items")
    async def add(data: _Add) -> dict[str, Any]:
        line = next((x for x in lines.values() if x["product_id"] == str(data.product_id)), None)
        if line is None:
            line_id = uuid.uuid4()
            line = lines[line_id] = {"id": str(line_id), "product_id": str(data.product_id), "variant_id": None,
                                     "name": "Marble", "sku": "M-1", "quantity": 0, "unit_price": "10"}
        line["quantity"] += data.quantity
        line["line_total"] = str(10 * line["quantity"])
        return cart()

    @app.put("/api/v1/cart/items/{item_id}")
    async def change(item_id: uuid.UUID, data: _Change) -> dict[str, Any]:
        lines[item_id].update(quantity=data.quantity, line_total=str(10 * data.quantity))
        return cart()

    @app.delete("/api/v1/cart/items/{item_id}")
    async def remove(item_id: uuid.UUID) -> dict[str, Any]:
        del lines[item_id]
        return cart()

    return app


def _with_fake_cart(keys: TestKeys) -> tuple[AsgiUpstream, FastAPI]:
    services: dict[str, Any] = {s: echo_service(s, keys) for s in SERVICES}
    services["cart"] = fake_cart()
    return AsgiUpstream(services), services["cart"]


def _forms(value: str) -> list[str]:
    return [value.upper(), "{" + value + "}", value.replace("-", ""), f"urn:uuid:{value}"]


@pytest.mark.parametrize("form", range(4))
async def test_shop_cart_takes_a_uuid_in_any_form_the_native_cart_takes(start_gateway: StartGateway,
                                                                        test_keys: TestKeys, form: int) -> None:
    upstream, _ = _with_fake_cart(test_keys)
    product = str(uuid.uuid4())
    async with start_gateway(upstream=upstream, compat_profiles=["shop"]) as gw:
        gw.client.headers.update(gw.keys.user_headers())
        r = await gw.client.post("/compat/shop/api/v1/cart/items/", json={"product_id": _forms(product)[form]})
        assert r.status_code == 201, r.text
        line = r.json()
        assert line["product"]["id"] == product and line["quantity"] == 1
        r = await gw.client.put(f"/compat/shop/api/v1/cart/items/{_forms(line['id'])[form]}/", json={"quantity": 3})
        assert r.status_code == 200, r.text
        assert r.json()["id"] == line["id"] and r.json()["quantity"] == 3
        cart = (await gw.client.get("/compat/shop/api/v1/cart/")).json()
        assert [(i["id"], i["quantity"]) for i in cart["items"]] == [(line["id"], 3)]


async def test_marbelle_cart_takes_a_uuid_in_any_form_the_native_cart_takes(start_gateway: StartGateway,
                                                                           test_keys: TestKeys) -> None:
    upstream, _ = _with_fake_cart(test_keys)
    product = str(uuid.uuid4())
    async with start_gateway(upstream=upstream, compat_profiles=["marbelle"]) as gw:
        gw.client.headers.update(gw.keys.user_headers())
        r = await gw.client.post("/compat/marbelle/api/v1/cart/items/", json={"product_id": product.upper()})
        assert r.status_code == 200, r.text
        item = r.json()["data"]["item"]
        assert item["product"]["id"] == product
        r = await gw.client.put(f"/compat/marbelle/api/v1/cart/items/{item['id'].upper()}/", json={"quantity": 2})
        assert r.status_code == 200, r.text
        assert r.json()["data"]["item"]["quantity"] == 2
        r = await gw.client.delete(f"/compat/marbelle/api/v1/cart/items/{item['id'].replace('-', '')}/remove/")
        assert r.status_code == 200, r.text
        assert r.json()["data"]["cart_totals"]["item_count"] == 0
        assert (await gw.client.get("/compat/marbelle/api/v1/cart/")).json()["data"]["items"] == []
