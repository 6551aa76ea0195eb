"""Payments' staff operations by role: refunds and the ledger are finance's; a customer's plan
is cancelled at period end or reactivated by support or finance."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from atelier_common.contracts.generation import CreditConsumed
from atelier_testing.staff import assert_staff_roles

from ..conftest import assert_error

EXPECTED = {("POST", "/api/v1/payments/refunds"): {"finance"},
            ("GET", "/api/v1/staff/payments/orders/{order_id}"): {"support", "finance"},
            ("GET", "/api/v1/staff/ledger"): {"finance"},
            ("GET", "/api/v1/staff/subscriptions"): {"support", "finance"},
            ("POST", "/api/v1/staff/subscriptions/{subscription_id}/cancel"): {"support", "finance"},
            ("POST", "/api/v1/staff/subscriptions/{subscription_id}/reactivate"): {"support", "finance"},
            ("POST", "/api/v1/staff/gift-cards"): {"support"},
            ("GET", "/api/v1/staff/gift-cards"): {"support"},
            ("GET", "/api/v1/staff/gift-cards/{gift_card_id}"): {"support"},
            ("POST", "/api/v1/staff/gift-cards/{gift_card_id}/deactivate"): {"support"},
            ("POST", "/api/v1/staff/gift-cards/{gift_card_id}/reactivate"): {"support"}}


async def test_payments_staff_operations_by_role(api) -> None:
    await assert_staff_roles(api.h.app, api.client, api.keys, EXPECTED)


async def test_a_refund_writes_its_audit_row_and_a_refused_one_none(api) -> None:
    from .test_refunds import _refund

    order, _ = await api.paid_locally(total="59.48")
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
    from .test_refunds import _refund

    order, _ = await api.paid_locally(total="59.48")
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


async def test_finance_reads_every_customers_ledger_by_customer_kind_and_time(api) -> None:
    from .test_refunds import _refund

    order, _ = await api.paid_locally(total="59.48")
    assert (await _refund(api, order["id"], "9.48")).status_code == 201
    user_id = uuid.uuid4()
    await api.h.deliver(CreditConsumed(user_id=user_id, credits=2, reason="unlock", balance_after=3))
    finance = api.keys.staff_headers("finance")

    async def ledger(**params) -> dict:
        r = await api.client.get("/api/v1/staff/ledger", params=params, headers=finance)
        assert r.status_code == 200, r.text
        return r.json()

    everything = await ledger()
    assert [e["kind"] for e in everything["results"]] == ["credit_consumed", "refund", "payment"]  # newest first
    [used] = (await ledger(customer=str(user_id)))["results"]
    assert (used["owner_id"], used["credits"], used["amount"]) == (str(user_id), -2, None)
    [refund] = (await ledger(kind="refund"))["results"]
    assert (refund["order_id"], refund["amount"], refund["currency"]) == (order["id"], "-9.48", "USD")
    later = (datetime.fromisoformat(used["created_at"]) + timedelta(seconds=1)).isoformat()
    assert (await ledger(created_after=later))["count"] == 0
    assert (await ledger(created_before=later, limit=1))["count"] == 3
    assert (await ledger(storefront="nowhere"))["count"] == 0
    assert_error(await api.client.get("/api/v1/staff/ledger", params={"kind": "gift"}, headers=finance),
                 400, "VALIDATION_ERROR")
    assert_error(await api.client.get("/api/v1/staff/ledger", headers=api.keys.staff_headers("support")),
                 403, "PERMISSION_DENIED")


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


class TestStaffSubscriptionActions:
    """Staff cancel a customer's plan at period end and reactivate it: the customer's own
    rules, `subscription.changed` through the outbox, an audit row per change."""

    async def _plan(self, api) -> tuple[uuid.UUID, dict[str, str], dict]:
        from .test_subscriptions import _subscribe

        user_id, headers = api.user()
        await _subscribe(api, headers)
        listed = await api.client.get("/api/v1/staff/subscriptions", params={"customer": str(user_id)},
                                      headers=api.keys.staff_headers("support"))
        [plan] = listed.json()["results"]
        return user_id, headers, plan

    async def test_support_cancels_at_period_end_and_reactivates_as_the_customer_would(self, api) -> None:
        user_id, headers, plan = await self._plan(api)
        url = f"/api/v1/staff/subscriptions/{plan['id']}"
        support = api.keys.staff_headers("support")
        cancelled = await api.client.post(f"{url}/cancel", json={"reason": "asked by phone"}, headers=support)
        assert cancelled.status_code == 200, cancelled.text
        assert (cancelled.json()["cancel_at_period_end"], cancelled.json()["status"]) == (True, "active")
        current = (await api.client.get("/api/v1/subscriptions/current", headers=headers)).json()
        assert (current["tier"], current["cancel_at_period_end"]) == ("pro", True)
        assert (await api.outbox("subscription.changed"))[-1]["cancel_at_period_end"] is True
        # Again: the same plan, no second change or audit row.
        again = await api.client.post(f"{url}/cancel", headers=support)
        assert again.status_code == 200 and again.json()["cancel_at_period_end"] is True
        assert len(await api.outbox("subscription.changed")) == 2  # paid, cancelled

        kept = await api.client.post(f"{url}/reactivate", headers=api.keys.staff_headers("finance"))
        assert kept.status_code == 200, kept.text
        assert kept.json()["cancel_at_period_end"] is False
        assert (await api.outbox("subscription.changed"))[-1]["cancel_at_period_end"] is False
        # Reactivating a plan that is not ending is refused, as the customer's own reactivate is.
        assert_error(await api.client.post(f"{url}/reactivate", headers=support), 400, "INVALID_STATE")
        audit = [e for e in await api.outbox("staff.action_recorded") if e["target_type"] == "subscription"]
        assert [(e["action"], e["before"], e["after"]["cancel_at_period_end"], e["reason"]) for e in audit] == [
            ("subscription.cancel", {"cancel_at_period_end": False}, True, "asked by phone"),
            ("subscription.reactivate", {"cancel_at_period_end": True}, False, None)]
        assert {(e["target_id"], e["after"]["user_id"]) for e in audit} == {(plan["id"], str(user_id))}
        assert [e["actor_roles"] for e in audit] == [["support"], ["finance"]]

    async def test_an_ended_plan_is_not_cancelled_or_reactivated_and_a_merchandiser_is_refused(self, api) -> None:
        user_id, _, plan = await self._plan(api)
        url = f"/api/v1/staff/subscriptions/{plan['id']}"
        support = api.keys.staff_headers("support")
        assert_error(await api.client.post(f"{url}/cancel", headers=api.keys.staff_headers("merchandiser")),
                     403, "PERMISSION_DENIED")
        await api.client.post(f"{url}/cancel", headers=support)
        ended = await api.client.post("/api/dev/subscriptions/advance", json={"user_id": str(user_id), "outcome": "paid"})
        assert ended.json()["status"] == "canceled"
        assert_error(await api.client.post(f"{url}/reactivate", headers=support), 400, "INVALID_STATE")
        assert_error(await api.client.post(f"{url}/cancel", headers=support), 400, "INVALID_STATE")
        assert_error(await api.client.post(f"/api/v1/staff/subscriptions/{uuid.uuid4()}/cancel", headers=support),
                     404, "NOT_FOUND")
