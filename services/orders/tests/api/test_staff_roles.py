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
