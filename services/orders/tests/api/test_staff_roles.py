"""Orders' staff operations by role (#36): status changes are support's; every customer's orders
are read by support and finance, not by a merchandiser."""

from __future__ import annotations

from atelier_testing.staff import assert_staff_roles

EXPECTED = {("POST", "/api/v1/orders/{order_id}/status"): {"support"}}


async def test_orders_staff_operations_by_role(harness, test_keys) -> None:
    await assert_staff_roles(harness.app, harness.client, test_keys, EXPECTED)


async def test_every_customers_orders_are_listed_by_support_and_finance_only(harness, test_keys) -> None:
    for role, status in (("support", 200), ("finance", 200), ("admin", 200), ("merchandiser", 403)):
        response = await harness.client.get("/api/v1/orders", params={"all": "true"},
                                            headers=test_keys.staff_headers(role))
        assert response.status_code == status, (role, response.text)


async def test_a_status_change_writes_its_audit_row_and_a_refused_one_none(harness, customer, platform,
                                                                          test_keys) -> None:
    lamp = platform.product()
    order = await customer.placed(items=[{"product_id": lamp["id"]}],
                                  shipping_address_id=platform.address(customer.owner_id))
    url = f"/api/v1/orders/{order['id']}/status"
    refused = await harness.client.post(url, json={"status": "awaiting_payment"},
                                        headers=test_keys.staff_headers("merchandiser"))
    assert refused.status_code == 403
    moved = await harness.client.post(url, json={"status": "awaiting_payment", "note": "checked by phone"},
                                      headers=test_keys.staff_headers("support"))
    assert moved.status_code == 200, moved.text
    await harness.drain()
    [row] = [e.data for e in harness.published("staff.action_recorded")]
    assert (row["action"], row["target_id"], row["actor_roles"]) == ("order.status_change", order["id"], ["support"])
    assert row["before"]["status"] == "pending" and row["after"]["status"] == "awaiting_payment"
    assert row["reason"] == "checked by phone"
