"""Hostile input to every compatibility route, both run modes: no answer is a 5xx.

Each profile's routes are read from its own schema (`/compat/<name>/schema`), then called with
malformed cookies (JWT-shaped with a `[]`, `null` or number payload, bad base64), bodies that are
not objects, not JSON, deeply nested or typed wrongly, ids in odd UUID forms (upper case, braces,
no dashes, too long, unicode, encoded separators) of real resources of the caller, repeated and odd
query values and wrong content types. The three 500s the issue names are also checked for their
outcome. The fuzzing by schema is test_fuzz.py.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from infra.identity_steps import visitor_client
from infra.journeys import customer, staff

from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e

PROFILES = ("storybook", "marbelle", "reviv", "shop", "figureforge")
V1 = "/api/v1"
# The body fields the profiles read themselves (the rest go to the native schemas).
FIELDS = ("book", "book_id", "character", "page", "content_id", "content_type", "credential", "delivery_address_id",
          "email", "id", "items", "new_password", "order_id", "password", "product_id", "variant_id", "quantity",
          "prompt", "provider", "refresh", "retry_pack_order_id", "return_to", "tier_name", "username", "is_selected",
          "price_id", "pose_type", "success_url")
# A client keeps one address for this many requests, a customer for this many: the sweep stays
# within the per-address and per-user rate limits, so that its requests reach the profiles.
PER_ADDRESS, PER_CUSTOMER = 60, 250


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt_shaped(payload: bytes) -> str:
    return ".".join(b64(part) for part in (b'{"alg":"RS256"}', payload, b"signature"))


def attestation(raw: bytes) -> dict[str, Any]:
    return {"credential": {"clientDataJSON": "e30", "attestationObject": b64(raw)}}


DEEP_CBOR = b"\xa1\x68authData" + b"\x81" * 20_000 + b"\x00"


def bodies(path: str) -> Iterator[tuple[str, bytes, str]]:
    """(label, body, content type) of what no write route should answer with a 5xx."""
    for label, raw in (("list", b"[]"), ("null", b"null"), ("number", b"1e400"), ("broken", b'{"a":'),
                       ("deep list", b"[" * 5000 + b"]" * 5000), ("bad utf-8", b'{"email":"\xff\xfe"}')):
        yield label, raw, "application/json"
    yield "text", b"hello", "text/plain"
    yield "multipart", b"--x\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nabc\r\n--x--\r\n", \
        "multipart/form-data; boundary=x"
    for label, value in (("lists", []), ("huge numbers", 10**40), ("odd uuids", "{" + str(uuid.uuid4()).upper() + "}")):
        yield f"fields as {label}", json.dumps(dict.fromkeys(FIELDS, value)).encode(), "application/json"
    yield "odd items", json.dumps({"items": [1, "a", None, [], {"book_id": []}, {"quantity": "x"}],
                                   "credential": {"attestationObject": "!!", "clientDataJSON": 5}}).encode(), \
        "application/json"
    if "passkey" in path:
        for label, raw in (("deep cbor", DEEP_CBOR), ("truncated cbor", b"\xa1\x68authData\x5a\xff\xff\xff\xff"),
                           ("cbor list", b"\x80"), ("cbor short authData", b"\xa1\x68authData\x43abc")):
            yield label, json.dumps(attestation(raw)).encode(), "application/json"


def id_forms(value: str) -> list[str]:
    return [value.upper(), "{" + value + "}", value.replace("-", ""), value + "0" * 40, "\u00e9" + value[1:],
            "x%3Fy%23z", "%00"]


QUERIES = ("limit=99999999999999999999&offset=-5&page=0&page=x&book=%C3%A9&tag=a&tag=b",
           "limit=1e3&min_price=NaN&max_price=1e999&category=[]&search=%ff%fe&ordering=-;drop")
HEADERS = ({"authorization": "Bearer not.a.token"}, {"authorization": "Basic abc"},
           {"x-session-id": "[]", "x-anonymous-token": jwt_shaped(b"[]")})
COOKIES = {
    # the last payload: claims that have not expired, under a forged signature (the native check refuses it)
    "storybook": [f"sessionid={jwt_shaped(p)}" for p in (b"[]", b"null", b"5", b'{"exp":[1]}',
                                                         b'{"exp":4102444800,"sub":"x"}')]
    + ["sessionid=!!!.@@@.###", "storybook_refresh=[]; sessionid=a"],
    "reviv": ["reviv_refresh=[]"],
}


@dataclass
class Sweep:
    """The sweep's doors: clients that change address, customers that change (each with a resource of
    each kind of its own), every answer counted."""

    platform: Platform
    base: str
    clients: list[httpx.AsyncClient] = field(default_factory=list)
    sent: int = 0
    on_address: int = 0
    by_user: int = 0
    auth: dict[str, str] = field(default_factory=dict)
    real: dict[str, str] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)
    parallel: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(6))

    def client(self) -> httpx.AsyncClient:
        if not self.clients or self.on_address >= PER_ADDRESS:
            self.clients.append(visitor_client(self.platform.url))
            self.on_address = 0
        self.on_address += 1
        return self.clients[-1]

    async def user(self) -> dict[str, str]:
        if not self.auth or self.by_user >= PER_CUSTOMER:
            self.auth, self.by_user = await customer(self.client()), 0
            self.real = await _real_ids(self.client(), self.auth)
        self.by_user += 1
        return self.auth

    def param(self, path: str) -> str:
        """A real id for the resource the path names (a new UUID where the caller has none)."""
        return next((value for word, value in self.real.items() if f"/{word}/" in path), str(uuid.uuid4()))

    async def send(self, label: str, method: str, path: str, **kwargs: Any) -> None:
        async with self.parallel:
            self.sent += 1
            r = await self.client().request(method, self.base + path, **kwargs)
        self.statuses[r.status_code] = self.statuses.get(r.status_code, 0) + 1
        if r.status_code >= 500:
            self.server_errors.append(f"{r.status_code} {method} {path} [{label}]: {r.text[:120]}")

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()


async def _real_ids(api: httpx.AsyncClient, auth: dict[str, str]) -> dict[str, str]:
    """One resource of each kind the caller owns (or may read), by the path word that names it."""
    products = (await api.get(f"{V1}/products", params={"limit": 1})).json()["results"]
    cart = await api.post(f"{V1}/cart/items", headers=auth, json={"product_id": products[0]["id"], "quantity": 1})
    assert cart.status_code in (200, 201), cart.text
    book = await api.post(f"{V1}/books", headers=auth, json={"title": "Hostile"})
    assert book.status_code == 201, book.text
    return {"cart": cart.json()["items"][0]["id"], "products": products[0]["id"], "books": book.json()["id"]}


async def _sweep(platform: Platform, profile: str) -> Sweep:
    sweep = Sweep(platform, f"/compat/{profile}")
    schema = (await sweep.client().get(f"{sweep.base}/schema")).json()
    param = re.compile(r"\{\w+\}")
    try:
        for path, operations in schema["paths"].items():
            for method in (m.upper() for m in operations):
                auth = await sweep.user()
                plain = param.sub(sweep.param(path), path)
                calls: list[Any] = []
                if param.search(path):
                    calls += [sweep.send(f"id {form!r}", method, param.sub(form, path), headers=auth,
                                         json={} if method in ("POST", "PUT", "PATCH") else None)
                              for form in id_forms(sweep.param(path))]
                if method in ("POST", "PUT", "PATCH", "DELETE"):
                    calls += [sweep.send(f"body {label}", method, plain, content=raw,
                                         headers={**auth, "content-type": ctype})
                              for label, raw, ctype in bodies(path)]
                else:
                    calls += [sweep.send(f"query {q[:20]}", method, f"{plain}?{q}", headers=auth) for q in QUERIES]
                    calls += [sweep.send(f"cookie {c[:24]}", method, plain, headers={"cookie": c})
                              for c in COOKIES.get(profile, [])]
                calls += [sweep.send(f"headers {sorted(h)}", method, plain, headers=h) for h in HEADERS]
                sweep.by_user += len(calls)
                await asyncio.gather(*calls)
    finally:
        await sweep.close()
    return sweep


@pytest.mark.parametrize("profile", PROFILES)
async def test_no_hostile_input_makes_a_server_error(platform: Platform, profile: str) -> None:
    sweep = await _sweep(platform, profile)
    assert not sweep.server_errors, "\n".join(sweep.server_errors)
    # The requests reached the profiles: almost none were stopped by a rate limit.
    assert sweep.statuses.get(429, 0) <= sweep.sent // 20, sweep.statuses


# -- the three the issue names, by their outcome ------------------------------------------------

async def test_a_storybook_session_cookie_whose_payload_is_a_list_ends_the_session(platform: Platform) -> None:
    async with visitor_client(f"{platform.url}/compat/storybook") as seed:
        r = await seed.get("/api/customer/status/", headers={"cookie": f"sessionid={jwt_shaped(b'[]')}"})
        assert r.status_code == 200, r.text
        assert r.json() == {"loggedIn": False}
        assert any(c.startswith("sessionid=;") and "Max-Age=0" in c for c in r.headers.get_list("set-cookie"))


async def test_deeply_nested_cbor_in_a_reviv_passkey_registers_nothing(platform: Platform) -> None:
    async with visitor_client(platform.url) as api:
        auth = await customer(api)
        begun = await api.post("/compat/reviv/api/auth/passkey/register/begin/", headers=auth, json={})
        assert begun.status_code == 200, begun.text
        r = await api.post("/compat/reviv/api/auth/passkey/register/complete/", headers=auth,
                           json={"registration_id": begun.json()["registration_id"], **attestation(DEEP_CBOR)})
        assert r.status_code == 400, r.text
        assert r.json()["error"]["code"] == "VALIDATION_ERROR"
        passkeys = await api.get(f"{V1}/auth/passkeys", headers=auth)
        assert passkeys.status_code == 200 and passkeys.json()["results"] == []
        email = f"deep-{uuid.uuid4().hex[:10]}@example.com"
        begun = await api.post("/compat/reviv/api/auth/email-passkey/register/begin/", json={"email": email})
        assert begun.status_code == 200, begun.text
        r = await api.post("/compat/reviv/api/auth/email-passkey/register/complete/",
                           json={"registration_id": begun.json()["registration_id"], **attestation(DEEP_CBOR)})
        assert r.status_code == 400, r.text
        assert r.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_a_shop_cart_line_named_in_upper_case_after_an_add_is_that_line(platform: Platform) -> None:
    async with visitor_client(platform.url) as api:
        auth = await customer(api)
        # A product of its own: the platform is shared, and another test may have sold the first one out.
        r = await api.post(f"{V1}/products", headers=await staff(api), json={
            "name": f"Upper {uuid.uuid4().hex[:8]}", "sku": f"E2E-U-{uuid.uuid4().hex[:8]}", "price": "12.00",
            "stock_quantity": 10, "kind": "physical"})
        assert r.status_code == 201, r.text
        product = r.json()["id"]
        r = await api.post("/compat/shop/api/v1/cart/items/", headers=auth, json={"product_id": product.upper()})
        assert r.status_code == 201, r.text
        line = r.json()["id"]
        r = await api.put(f"/compat/shop/api/v1/cart/items/{line.upper()}/", headers=auth, json={"quantity": 3})
        assert r.status_code == 200, r.text
        assert r.json()["id"] == line and r.json()["quantity"] == 3
        # The shop's profile is the shop's storefront, and a cart is one storefront's.
        on_shop = {**auth, "X-Atelier-Storefront": "shop"}
        cart = (await api.get(f"{V1}/cart", headers=on_shop)).json()
        assert [(i["id"], i["quantity"]) for i in cart["items"]] == [(line, 3)]
        r = await api.delete(f"/compat/shop/api/v1/cart/items/{line.upper()}/", headers=auth)
        assert r.status_code == 204, r.text
        assert (await api.get(f"{V1}/cart", headers=on_shop)).json()["items"] == []
