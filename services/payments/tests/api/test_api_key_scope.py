"""API keys on payments' staff routes: a key limited to some storefronts reads and refunds only
their orders, lists only their rows, and changes only their plans and gift cards; a scope-only key
(none of whose scopes names a payments route) is refused everywhere (docs/security.md, "API keys")."""

from __future__ import annotations

import uuid

from atelier_testing import assert_error
from atelier_testing.staff import assert_api_key_limits

from .test_staff_roles import EXPECTED


async def test_payments_staff_routes_by_api_key(api) -> None:
    await assert_api_key_limits(api.h.app, api.client, api.keys, storefront_scoped=set(EXPECTED), scoped_in={})


async def test_a_key_limited_to_another_storefront_finds_nothing_of_this_one(api) -> None:
    from .test_refunds import _refund
    from .test_subscriptions import _subscribe

    order, _ = await api.paid_locally(total="59.48")
    user_id, headers = api.user()
    await _subscribe(api, headers)
    outside = api.keys.api_key_headers(["admin"], ["outlet"])
    inside = api.keys.api_key_headers(["admin"], ["default"])
    client = api.client
    assert (await client.get(f"/api/v1/staff/payments/orders/{order['id']}", headers=inside)).status_code == 200
    assert_error(await client.get(f"/api/v1/staff/payments/orders/{order['id']}", headers=outside), 404, "NOT_FOUND")
    assert_error(await _refund(api, order["id"], "5.00", headers=outside), 404, "NOT_FOUND")
    for path in ("/api/v1/staff/ledger", "/api/v1/staff/subscriptions"):
        assert (await client.get(path, headers=inside)).json()["count"] >= 1
        assert (await client.get(path, headers=outside)).json()["count"] == 0
    [plan] = (await client.get("/api/v1/staff/subscriptions", params={"customer": str(user_id)},
                               headers=inside)).json()["results"]
    assert_error(await client.post(f"/api/v1/staff/subscriptions/{plan['id']}/cancel", headers=outside), 404,
                 "NOT_FOUND")
    issued = await client.post("/api/v1/staff/gift-cards", json={"storefront": "default", "amount": "25.00"},
                               headers=inside)
    assert issued.status_code == 201, issued.text
    card = issued.json()
    assert_error(await client.get(f"/api/v1/staff/gift-cards/{card['id']}", headers=outside), 404, "NOT_FOUND")
    assert_error(await client.post(f"/api/v1/staff/gift-cards/{card['id']}/deactivate", headers=outside), 404,
                 "NOT_FOUND")
    assert (await client.get("/api/v1/staff/gift-cards", headers=outside)).json()["count"] == 0
    # A write naming another storefront is refused as an unknown one.
    assert_error(await client.post("/api/v1/staff/gift-cards", json={"storefront": "default", "amount": "5.00"},
                                   headers=outside), 404, "NOT_FOUND")
    assert (await client.get(f"/api/v1/staff/gift-cards/{card['id']}", headers=inside)).json()["is_active"] is True
    # A read-only key writes nothing here.
    reader = api.keys.api_key_headers([], ["*"], scopes=["orders:read", "invoices:read"])
    assert_error(await _refund(api, order["id"], "5.00", headers=reader), 403, "PERMISSION_DENIED")
    assert_error(await client.get(f"/api/v1/staff/payments/orders/{uuid.uuid4()}", headers=reader), 403,
                 "PERMISSION_DENIED")
