"""An API key limited to some storefronts (`sfs`): orders of another storefront do not exist to it."""

from __future__ import annotations

import uuid

from atelier_testing import ServiceHarness, TestKeys

from ..conftest import Customer, FakePlatform, Staff, assert_error
from .test_returns import delivered_order, opened


def _key(test_keys: TestKeys, *storefronts: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {test_keys.api_key_token(uuid.uuid4(), ['support'], storefronts)}"}


async def test_orders_of_other_storefronts_are_not_found(harness: ServiceHarness, customer: Customer,
                                                         platform: FakePlatform, test_keys: TestKeys) -> None:
    lamp = platform.product()
    order = await customer.placed(items=[{"product_id": lamp["id"]}],
                                  shipping_address_id=platform.address(customer.owner_id))
    assert order["storefront"] == "default"
    client = harness.client
    for scope in (("default",), ("*",), ("outlet", "default")):
        headers = _key(test_keys, *scope)
        assert (await client.get(f"/api/v1/staff/orders/{order['id']}", headers=headers)).status_code == 200
        found = (await client.get("/api/v1/staff/orders", headers=headers)).json()
        assert [o["id"] for o in found["results"]] == [order["id"]]
        assert (await client.get(f"/api/v1/staff/orders/{order['id']}/edits", headers=headers)).status_code == 200
    outside = _key(test_keys, "outlet")
    assert_error(await client.get(f"/api/v1/staff/orders/{order['id']}", headers=outside), 404, "NOT_FOUND")
    assert_error(await client.get(f"/api/v1/staff/orders/{order['id']}/edits", headers=outside), 404,
                 "NOT_FOUND")
    line = order["items"][0]["id"]
    assert_error(await client.post(f"/api/v1/staff/orders/{order['id']}/edits/preview",
                                   json={"lines": [{"item_id": line, "quantity": 0}]}, headers=outside),
                 404, "NOT_FOUND")
    found = (await client.get("/api/v1/staff/orders", headers=outside)).json()
    assert found["count"] == 0 and found["results"] == []
    report = (await client.get("/api/v1/staff/reports/daily", headers=outside)).json()
    assert report["results"] == []
    assert (await client.get("/api/v1/staff/reports/daily", headers=_key(test_keys, "default"))).json()["results"]
    # The customer-facing routes' staff reads too: `GET /orders/{id}` and `GET /orders?all=true`.
    assert (await client.get(f"/api/v1/orders/{order['id']}", headers=_key(test_keys, "default"))).status_code == 200
    assert_error(await client.get(f"/api/v1/orders/{order['id']}", headers=outside), 404, "NOT_FOUND")
    listed = (await client.get("/api/v1/orders", params={"all": "true"}, headers=outside)).json()
    assert listed["count"] == 0
    listed = (await client.get("/api/v1/orders", params={"all": "true"}, headers=_key(test_keys, "default"))).json()
    assert [o["id"] for o in listed["results"]] == [order["id"]]
    # A person's token has no scope: every storefront, as before.
    staff = test_keys.staff_headers("support")
    assert (await client.get(f"/api/v1/staff/orders/{order['id']}", headers=staff)).status_code == 200


async def test_returns_of_other_storefronts_are_not_found(harness: ServiceHarness, customer: Customer, staff: Staff,
                                                          platform: FakePlatform, test_keys: TestKeys) -> None:
    order = await delivered_order(harness, customer, staff, platform, ("10.00", 1, "physical"))
    ret = await opened(customer, order, (0, 1))
    client = harness.client
    inside = _key(test_keys, "default")
    assert (await client.get(f"/api/v1/staff/returns/{ret['id']}", headers=inside)).status_code == 200
    assert [r["id"] for r in (await client.get("/api/v1/staff/returns", headers=inside)).json()["results"]] == [ret["id"]]
    outside = _key(test_keys, "outlet")
    assert_error(await client.get(f"/api/v1/staff/returns/{ret['id']}", headers=outside), 404, "NOT_FOUND")
    for action in ("approve", "reject"):
        assert_error(await client.post(f"/api/v1/staff/returns/{ret['id']}/{action}", headers=outside), 404,
                     "NOT_FOUND")
    assert (await client.get("/api/v1/staff/returns", headers=outside)).json()["results"] == []
    # Untouched by the refused writes: still requested.
    assert (await client.get(f"/api/v1/staff/returns/{ret['id']}", headers=inside)).json()["status"] == "requested"
