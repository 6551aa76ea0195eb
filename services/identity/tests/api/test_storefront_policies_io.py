"""A storefront's `policies` through the staff API: stored, answered, and patched field by field."""

from __future__ import annotations


async def test_policies_are_stored_and_patched_field_by_field(api, test_keys) -> None:
    admin = test_keys.staff_headers()
    r = await api.client.post("/api/v1/storefronts", headers=admin, json={
        "slug": "shop", "name": "Shop", "frontend_url": "https://shop.example",
        "policies": {"cart_line_limit": 0, "low_stock_threshold": 10, "alert_emails": ["stock@shop.example"]}})
    assert r.status_code == 201, r.text
    assert r.json()["policies"]["cart_line_limit"] == 0
    r = await api.client.patch("/api/v1/storefronts/shop", headers=admin, json={"policies": {"cart_line_limit": 99}})
    assert r.status_code == 200, r.text
    policies = r.json()["policies"]
    assert (policies["cart_line_limit"], policies["low_stock_threshold"], policies["alert_emails"]) == (
        99, 10, ["stock@shop.example"])
    assert (await api.client.get("/api/v1/storefronts/shop", headers=admin)).json()["policies"] == policies
