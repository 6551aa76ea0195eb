"""An API key limited to some storefronts (`sfs`): orders of another storefront do not exist to it."""

from __future__ import annotations

import uuid

from atelier_testing import ServiceHarness, TestKeys
from atelier_testing.staff import assert_api_key_limits

from ..conftest import Customer, FakePlatform, Staff, assert_error
from .test_draft_orders import Drafts
from .test_promotions import Promotions
from .test_returns import delivered_order, opened
from .test_staff_roles import EXPECTED

# Every staff route of orders honours the key's storefront scope.
STOREFRONT_SCOPED = set(EXPECTED)
ORDER, R = "/api/v1/staff/orders/{order_id}", "/api/v1/staff/returns"
SCOPED_IN = {
    "orders:read": {("GET", "/api/v1/staff/orders"), ("GET", ORDER), ("GET", "/api/v1/staff/reports/daily"),
                    ("GET", "/api/v1/staff/orders/paid"),
                    ("GET", f"{ORDER}/edits"), ("GET", R), ("GET", f"{R}/{{return_id}}")},
    "invoices:read": {("GET", f"{ORDER}/invoice"), ("GET", f"{ORDER}/invoice.pdf"),
                      ("GET", f"{ORDER}/credit-notes/{{number}}.pdf"), ("GET", "/api/v1/staff/invoices"),
                      ("GET", f"{ORDER}/supplementary-invoices/{{number}}.pdf"),
                      ("GET", "/api/v1/staff/credit-notes")},
}


async def test_orders_staff_routes_by_api_key(harness: ServiceHarness, test_keys: TestKeys) -> None:
    await assert_api_key_limits(harness.app, harness.client, test_keys, storefront_scoped=STOREFRONT_SCOPED,
                                scoped_in=SCOPED_IN)


async def test_promotions_and_drafts_of_other_storefronts_are_not_found(harness: ServiceHarness,
                                                                        test_keys: TestKeys) -> None:
    promotion = await Promotions(harness, test_keys).create()
    draft = await Drafts(harness.client, test_keys.staff_headers("support")).created(email="a@example.com")
    client = harness.client
    for path, item in (("/api/v1/staff/promotions", promotion), ("/api/v1/staff/draft-orders", draft)):
        inside = test_keys.api_key_headers(["admin"], ["default"])
        outside = test_keys.api_key_headers(["admin"], ["outlet"])
        assert (await client.get(f"{path}/{item['id']}", headers=inside)).status_code == 200
        assert [x["id"] for x in (await client.get(path, headers=inside)).json()["results"]] == [item["id"]]
        assert_error(await client.get(f"{path}/{item['id']}", headers=outside), 404, "NOT_FOUND")
        assert_error(await client.patch(f"{path}/{item['id']}", json={"name": "Theirs"}, headers=outside), 404,
                     "NOT_FOUND")
        listed = (await client.get(path, headers=outside)).json()
        assert (listed["count"], listed["results"]) == (0, [])
    outside = test_keys.api_key_headers(["admin"], ["outlet"])
    assert_error(await client.post(f"/api/v1/staff/draft-orders/{draft['id']}/send", headers=outside), 404,
                 "NOT_FOUND")
    # A write naming another storefront (the request's, here `default`) is refused as unknown.
    assert_error(await client.post("/api/v1/staff/promotions", json={"name": "P", "kind": "percentage",
                                                                     "value": "5"}, headers=outside),
                 404, "NOT_FOUND")
    assert_error(await client.post("/api/v1/staff/draft-orders", json={"email": "b@example.com"}, headers=outside),
                 404, "NOT_FOUND")


async def test_an_orders_read_key_reads_orders_and_writes_nothing(harness: ServiceHarness, customer: Customer,
                                                                  platform: FakePlatform, test_keys: TestKeys) -> None:
    lamp = platform.product()
    order = await customer.placed(items=[{"product_id": lamp["id"]}],
                                  shipping_address_id=platform.address(customer.owner_id))
    reader = test_keys.api_key_headers([], ["default"], scopes=["orders:read"])
    client = harness.client
    assert (await client.get(f"/api/v1/staff/orders/{order['id']}", headers=reader)).status_code == 200
    assert (await client.get("/api/v1/staff/orders", headers=reader)).json()["count"] == 1
    assert_error(await client.post(f"/api/v1/orders/{order['id']}/status", json={"status": "cancelled"},
                                   headers=reader), 403, "PERMISSION_DENIED")
    assert_error(await client.get(f"/api/v1/staff/orders/{order['id']}/invoice", headers=reader), 403,
                 "PERMISSION_DENIED")
    assert_error(await client.get("/api/v1/staff/promotions", headers=reader), 403, "PERMISSION_DENIED")


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
    # The customer-facing reads that show order readers any order's: scoped as the staff routes are.
    assert (await client.get(f"/api/v1/orders/{order['id']}/returns", headers=inside)).status_code == 200
    assert_error(await client.get(f"/api/v1/orders/{order['id']}/returns", headers=outside), 404, "NOT_FOUND")
    assert (await client.get(f"/api/v1/orders/{order['id']}/invoice", headers=inside)).status_code == 200
    assert_error(await client.get(f"/api/v1/orders/{order['id']}/invoice", headers=outside), 404, "NOT_FOUND")
    # Untouched by the refused writes: still requested.
    assert (await client.get(f"/api/v1/staff/returns/{ret['id']}", headers=inside)).json()["status"] == "requested"
