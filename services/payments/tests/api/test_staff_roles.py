"""Payments' staff operations by role (#36): refunds are finance's."""

from __future__ import annotations

import uuid

from atelier_testing.staff import assert_staff_roles

EXPECTED = {("POST", "/api/v1/payments/refunds"): {"finance"},
            ("GET", "/api/v1/staff/payments/orders/{order_id}"): {"support", "finance"},
            ("GET", "/api/v1/staff/subscriptions"): {"support", "finance"}}


async def test_payments_staff_operations_by_role(api) -> None:
    await assert_staff_roles(api.h.app, api.client, api.keys, EXPECTED)


async def test_a_refund_writes_its_audit_row_and_a_refused_one_none(api) -> None:
    from .test_refunds import _paid_locally, _refund

    order, _ = await _paid_locally(api, "59.48")
    refused = await _refund(api, order["id"], "5.00", headers=api.keys.staff_headers("merchandiser"))
    assert refused.status_code == 403
    staffer = uuid.uuid4()
    headers = {"Authorization": f"Bearer {api.keys.access_token(staffer, ['customer', 'staff', 'finance'])}"}
    made = await _refund(api, order["id"], "10.00", headers=headers, reason="scratched")
    assert made.status_code == 201, made.text
    await api.h.drain()
    [row] = [e.data for e in api.h.published("staff.action_recorded")]
    assert (row["actor_id"], row["actor_roles"], row["service"]) == (str(staffer), ["finance"], "payments")
    assert (row["action"], row["target_type"], row["target_id"]) == ("refund.create", "order", order["id"])
    assert row["before"] == {"refundable": "59.48"} and row["reason"] == "scratched"
    assert row["after"]["amount"] == "10.00" and row["after"]["refund_id"] == made.json()["id"]


async def test_staff_read_an_orders_payments_and_refunds(api) -> None:
    from .test_refunds import _paid_locally, _refund

    order, _ = await _paid_locally(api, "59.48")
    assert (await _refund(api, order["id"], "9.48")).status_code == 201
    response = await api.client.get(f"/api/v1/staff/payments/orders/{order['id']}",
                                    headers=api.keys.staff_headers("support"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert [p["status"] for p in body["payments"]] == ["succeeded"]
    assert [(r["amount"], r["reason"]) for r in body["refunds"]] == [("9.48", "damaged in transit")]
    assert (body["total_refunded"], body["refundable"]) == ("9.48", "50.00")
    missing = await api.client.get(f"/api/v1/staff/payments/orders/{uuid.uuid4()}", headers=api.keys.staff_headers())
    assert missing.status_code == 404


async def test_staff_find_a_customers_subscription(api) -> None:
    from .test_subscriptions import _subscribe

    user_id, headers = api.user()
    other_id, _ = api.user()
    await _subscribe(api, headers)
    support = api.keys.staff_headers("support")
    response = await api.client.get("/api/v1/staff/subscriptions", params={"customer": str(user_id)}, headers=support)
    assert response.status_code == 200, response.text
    [plan] = response.json()["results"]
    assert (plan["user_id"], plan["plan_sku"], plan["status"], plan["amount"]) == (
        str(user_id), "pro_monthly", "active", "19.99")
    none = await api.client.get("/api/v1/staff/subscriptions", params={"customer": str(other_id)}, headers=support)
    assert none.json()["count"] == 0
    past_due = await api.client.get("/api/v1/staff/subscriptions", params={"status": "past_due"}, headers=support)
    assert past_due.json()["count"] == 0
    refused = await api.client.get("/api/v1/staff/subscriptions", headers=api.keys.staff_headers("merchandiser"))
    assert refused.status_code == 403
