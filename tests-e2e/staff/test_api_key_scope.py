"""Every staff route of the merged OpenAPI document, called through the gateway (distributed mode)
with two API keys, so that a route added later is tried without a test written for it:

- a key with every role but made for the `shop` storefront, against `marbelle`'s order, product
  (its stock), customer, customer group, shipping zone, promotion and storefront settings: none of
  them is found or changed, no list shows them, no write naming `marbelle` is accepted;
- a read-only `orders:read` key against every staff write: each is refused (403).

Never a 2xx where the key may not act, never a 5xx (docs/security.md, "API keys")."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from infra.identity_steps import visitor_client
from infra.journeys import ADDRESS, login, poll, register_verified, staff

from atelier_testing.platform import Platform

pytestmark = [pytest.mark.e2e]

MARBELLE = {"X-Atelier-Storefront": "marbelle"}
WRITES = ("post", "put", "patch", "delete")
_PARAM = re.compile(r"\{([^}]+)\}")
# The gateway's own staff routes (dead letters) verify the bearer themselves and refuse any API key.
GATEWAY_OWN = "/api/v1/ops/"


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def _key(api: httpx.AsyncClient, admin: dict[str, str], **body: Any) -> str:
    made = await api.post("/api/v1/staff/api-keys", headers=admin, json={"name": f"key-{uuid.uuid4().hex[:6]}",
                                                                          **body})
    assert made.status_code == 201, made.text
    return str(made.json()["secret"])


async def _marbelle(api: httpx.AsyncClient, admin: dict[str, str], platform: Platform) -> dict[str, str]:
    """Marbelle's resources, by the path parameter (or body field) that names them."""
    tag = uuid.uuid4().hex[:8].upper()
    made = await api.post("/api/v1/products", headers=admin, json={
        "name": f"Onyx tile {tag}", "sku": f"ONYX-{tag}", "price": "30.00", "stock_quantity": 20,
        "storefronts": ["marbelle"]})
    assert made.status_code == 201, made.text
    product = made.json()
    async with visitor_client(platform.url) as shopper:
        shopper.headers.update(MARBELLE)
        account = await register_verified(shopper)
        tokens = await login(shopper, account["email"], **MARBELLE)
        auth = {"Authorization": f"Bearer {tokens['access']}"}
        me = (await shopper.get("/api/v1/users/me", headers=auth)).json()
        added = await shopper.post("/api/v1/cart/items", headers=auth, json={"product_id": product["id"], "quantity": 1})
        assert added.status_code == 201, added.text
        address = (await shopper.post("/api/v1/addresses", headers=auth, json=ADDRESS)).json()
        placed = await shopper.post("/api/v1/orders", headers=auth, json={"shipping_address_id": address["id"]})
        assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["storefront"] == "marbelle"
    # Any of marbelle's groups (other tests on this platform may add some).
    group = (await api.get("/api/v1/staff/customer-groups", headers=admin,
                           params={"storefront": "marbelle"})).json()["results"][0]
    zones = (await api.get("/api/v1/staff/shipping-zones", headers=admin, params={"storefront": "marbelle"})).json()
    promotion = await api.post("/api/v1/staff/promotions", headers=admin, json={
        "name": f"Marbelle {tag}", "kind": "percentage", "value": "10", "storefront": "marbelle"})
    assert promotion.status_code == 201, promotion.text

    async def reserved() -> bool:
        seen = await api.get(f"/api/v1/staff/orders/{order['id']}", headers=admin)
        return seen.status_code == 200 and seen.json()["status"] == "awaiting_payment"

    await poll(reserved, timeout=30, message="marbelle's order, its stock reserved")
    return {"order_id": order["id"], "product_ref": product["id"], "user_id": me["id"],
            "group_id": group["id"], "zone_id": zones["results"][0]["id"], "promotion_id": promotion.json()["id"],
            "slug": "marbelle", "customer": me["id"], "sku": product["sku"]}


def _staff_operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, operation) for path, item in schema["paths"].items()
            for method, operation in item.items() if isinstance(operation, dict) and "x-staff-roles" in operation]


def _resolved(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _body(schema: dict[str, Any], operation: dict[str, Any], marbelle: dict[str, str]) -> Any:
    """The operation's documented example body, aimed at marbelle: its storefront, its order, its customer."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    body = content.get("example")
    if body is None:
        examples = content.get("examples") or {}
        body = next(iter(examples.values()), {}).get("value") if examples else None
    if body is None:
        body = (_resolved(schema, content.get("schema", {})).get("examples") or [{}])[0]
    if isinstance(body, dict):
        body = dict(body)
        for field, value in (("storefront", "marbelle"), ("order_id", marbelle["order_id"]),
                             ("user_id", marbelle["user_id"]), ("customers", [marbelle["customer"]]),
                             ("storefronts", ["marbelle"]), ("product_id", marbelle["product_ref"])):
            if field in body:
                body[field] = value
    return body


def _url(path: str, marbelle: dict[str, str]) -> str:
    return _PARAM.sub(lambda m: marbelle.get(m.group(1), str(uuid.uuid4())), path)


async def test_a_shop_key_touches_nothing_of_marbelle_and_a_read_key_writes_nothing(
        platform: Platform, api: httpx.AsyncClient) -> None:
    admin = await staff(api)
    marbelle = await _marbelle(api, admin, platform)
    schema_response = await api.get("/api/schema", timeout=180)
    assert schema_response.status_code == 200
    schema = schema_response.json()
    operations = _staff_operations(schema)
    writes = [(m, p, o) for m, p, o in operations if m in WRITES]
    # Enough that the test cannot pass by trying nothing: every service's staff routes are there.
    assert len(operations) >= 100 and len(writes) >= 60, (len(operations), len(writes))

    shop = _bearer(await _key(api, admin, roles=["admin"], storefronts=["shop"]))
    reader = _bearer(await _key(api, admin, scopes=["orders:read"], storefronts=["*"]))
    # The keys work where they may: the shop key reads shop's orders, the reader reads marbelle's.
    assert (await api.get("/api/v1/staff/orders", headers=shop)).status_code == 200
    assert (await api.get(f"/api/v1/staff/orders/{marbelle['order_id']}", headers=reader)).status_code == 200

    before = await _state(api, admin, marbelle)
    marks = [marbelle[name] for name in ("order_id", "product_ref", "user_id", "group_id", "zone_id",
                                         "promotion_id", "sku")]
    accepted, errors, answers = [], [], Counter[int]()
    for method, path, operation in operations:
        response = await api.request(method.upper(), _url(path, marbelle), headers=shop,
                                     json=_body(schema, operation, marbelle))
        answers[response.status_code] += 1
        if response.status_code >= 500:
            errors.append((method, path, response.status_code, response.text[:200]))
        elif response.status_code < 300 and (method in WRITES or "{" in path
                                             or any(mark in response.text for mark in marks)):
            accepted.append((method, path, response.status_code, response.text[:200]))
    assert errors == [], errors
    assert accepted == [], accepted
    # Refused as not found (per storefront) or forbidden (not per storefront), both many times.
    assert answers[404] >= 60 and answers[403] >= 15, answers

    refused = Counter[int]()
    for method, path, operation in writes:
        response = await api.request(method.upper(), _url(path, marbelle), headers=reader,
                                     json=_body(schema, operation, marbelle))
        refused[response.status_code] += 1
        wanted = (401, 403) if path.startswith(GATEWAY_OWN) else (403, 404, 405)
        assert response.status_code in wanted, (method, path, response.status_code, response.text[:200])
        if response.status_code == 403:
            assert response.json()["error"]["code"] == "PERMISSION_DENIED"
    assert refused[403] >= len(writes) - 5, refused

    # Nothing of marbelle's changed: its order, its product and stock, its customer, its promotion.
    assert await _state(api, admin, marbelle) == before


async def _state(api: httpx.AsyncClient, admin: dict[str, str], marbelle: dict[str, str]) -> dict[str, Any]:
    order = (await api.get(f"/api/v1/staff/orders/{marbelle['order_id']}", headers=admin)).json()
    product = (await api.get(f"/api/v1/products/{marbelle['product_ref']}", headers={**admin, **MARBELLE})).json()
    customer = (await api.get(f"/api/v1/staff/customers/{marbelle['user_id']}", headers=admin)).json()
    promotion = (await api.get(f"/api/v1/staff/promotions/{marbelle['promotion_id']}", headers=admin)).json()
    group = (await api.get(f"/api/v1/staff/customer-groups/{marbelle['group_id']}", headers=admin)).json()
    return {"order": (order["status"], order["version"], order["edit_version"]),
            "product": (product["name"], product["is_active"], product["stock_quantity"]),
            "customer": (customer["is_active"], customer.get("version")),
            "promotion": (promotion["name"], promotion["is_active"], promotion["version"]),
            "group": (group["name"], group["members"])}
