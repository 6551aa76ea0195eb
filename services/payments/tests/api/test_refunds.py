"""POST /api/v1/payments/refunds: staff refund part or all of a paid order, never more than paid."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from ..conftest import assert_error, money

TOTAL = "59.48"  # the orders these tests refund


def _stripe_refunds(fake, intent_id: str) -> list[dict[str, Any]]:
    return [r for r in fake.refunds.values() if r["payment_intent"] == intent_id]


async def _refund(api, order_id: str, amount: str | None = None, *, headers: dict[str, str] | None = None,
                  reason: str = "damaged in transit") -> httpx.Response:
    body: dict[str, Any] = {"order_id": order_id, "reason": reason}
    if amount is not None:
        body["amount"] = amount
    return await api.client.post("/api/v1/payments/refunds", json=body,
                                 headers=api.keys.staff_headers() if headers is None else headers)


class TestPartialRefunds:
    async def test_refunds_add_up_to_what_was_paid_and_no_more(self, api) -> None:
        order, owner_id = await api.paid_locally(total=TOTAL)
        first = await _refund(api, order["id"], "10.00")
        assert first.status_code == 201, first.text
        body = first.json()
        assert {k: body[k] for k in ("order_id", "amount", "currency", "status", "reason", "provider",
                                     "total_refunded", "refundable")} == {
            "order_id": order["id"], "amount": "10.00", "currency": "USD", "status": "succeeded",
            "reason": "damaged in transit", "provider": "local", "total_refunded": "10.00", "refundable": "49.48"}
        [payment] = await api.payments(order["id"])
        assert payment.status == "succeeded"  # a partial refund leaves the payment paid

        second = await _refund(api, order["id"], "49.48")
        assert second.status_code == 201, second.text
        assert (second.json()["total_refunded"], second.json()["refundable"]) == ("59.48", "0.00")
        [payment] = await api.payments(order["id"])
        assert payment.status == "refunded"

        details = assert_error(await _refund(api, order["id"], "0.01"), 400, "REFUND_EXCEEDS_PAYMENT")["details"]
        assert details["refundable"] == "0.00"
        assert_error(await _refund(api, order["id"]), 400, "REFUND_EXCEEDS_PAYMENT")

        assert [(e.kind, e.amount) for e in await api.ledger(owner_id)] == [
            ("payment", money("59.48")), ("refund", money("-10.00")), ("refund", money("-49.48"))]
        events = await api.outbox("payment.refunded")
        assert [(e["amount"], e["total_refunded"], e["is_full"]) for e in events] == [
            ("10.00", "10.00", False), ("49.48", "59.48", True)]
        assert {e["refund_id"] for e in events} == {first.json()["id"], second.json()["id"]}

    async def test_without_an_amount_the_rest_is_refunded(self, api) -> None:
        order, _ = await api.paid_locally(total=TOTAL)
        assert (await _refund(api, order["id"], "9.48")).status_code == 201
        rest = await _refund(api, order["id"])
        assert rest.status_code == 201, rest.text
        assert (rest.json()["amount"], rest.json()["refundable"]) == ("50.00", "0.00")
        assert [e["is_full"] for e in await api.outbox("payment.refunded")] == [False, True]

    async def test_more_than_paid_at_once_is_refused_and_changes_nothing(self, api) -> None:
        order, owner_id = await api.paid_locally(total=TOTAL)
        details = assert_error(await _refund(api, order["id"], "59.49"), 400, "REFUND_EXCEEDS_PAYMENT")["details"]
        assert details == {"refundable": "59.48", "requested": "59.49"}
        assert [e.kind for e in await api.ledger(owner_id)] == ["payment"]
        assert await api.outbox("payment.refunded") == []

    async def test_an_order_without_a_payment_is_not_found_and_an_unpaid_one_refunds_nothing(self, api) -> None:
        assert_error(await _refund(api, str(uuid.uuid4()), "1.00"), 404, "NOT_FOUND")
        anon_id, headers = api.anon()
        order = api.orders.add(anon_id, total="20.00")
        assert (await api.checkout(order["id"], headers)).status_code == 200  # open, not paid
        assert_error(await _refund(api, order["id"], "1.00"), 400, "REFUND_EXCEEDS_PAYMENT")

    async def test_staff_only(self, api) -> None:
        order, _ = await api.paid_locally(total=TOTAL)
        assert_error(await _refund(api, order["id"], "1.00", headers={}), 401, "AUTHENTICATION_REQUIRED")
        _, customer = api.user()
        assert_error(await _refund(api, order["id"], "1.00", headers=customer), 403, "PERMISSION_DENIED")
        assert await api.outbox("payment.refunded") == []

    async def test_bad_amounts_and_a_missing_reason_are_validation_errors(self, api) -> None:
        order, _ = await api.paid_locally(total=TOTAL)
        for amount in ("0", "-1.00", "1.001", "abc"):
            assert_error(await _refund(api, order["id"], amount), 400, "VALIDATION_ERROR")
        response = await api.client.post("/api/v1/payments/refunds", json={"order_id": order["id"]},
                                         headers=api.keys.staff_headers())
        assert_error(response, 400, "VALIDATION_ERROR")

    async def test_a_cancellation_after_a_partial_refund_refunds_only_the_rest(self, api) -> None:
        from atelier_common.contracts.orders import OrderCancelled

        order, owner_id = await api.paid_locally(total=TOTAL)
        assert (await _refund(api, order["id"], "10.00")).status_code == 201
        await api.h.deliver(OrderCancelled(order_id=order["id"], owner_id=order["owner_id"], was_paid=True))
        events = await api.outbox("payment.refunded")
        assert [(e["amount"], e["is_full"]) for e in events] == [("10.00", False), ("49.48", True)]
        assert sum(e.amount for e in await api.ledger(owner_id)) == 0


class TestStripeRefunds:
    async def test_a_partial_refund_is_a_stripe_refund_of_that_amount_with_its_own_key(self, stripe_api,
                                                                                      fake_stripe) -> None:
        order, intent_id = await stripe_api.paid_by_stripe(fake_stripe, total=TOTAL)
        first = await _refund(stripe_api, order["id"], "10.00")
        second = await _refund(stripe_api, order["id"], "49.48")
        assert first.status_code == second.status_code == 201, first.text
        made = sorted((r["amount"], r["status"]) for r in _stripe_refunds(fake_stripe, intent_id))
        assert made == [(1000, "succeeded"), (4948, "succeeded")]
        keys = {key for _, path, params, key in fake_stripe.requests
                if path == "/v1/refunds" and params.get("payment_intent") == intent_id}
        assert keys == {f"payment-refund-{first.json()['id']}", f"payment-refund-{second.json()['id']}"}
        assert_error(await _refund(stripe_api, order["id"], "0.01"), 400, "REFUND_EXCEEDS_PAYMENT")
        assert len(await stripe_api.outbox("payment.refunded")) == 2

    async def test_a_pending_refund_settles_on_charge_refund_updated(self, stripe_api, fake_stripe) -> None:
        order, intent_id = await stripe_api.paid_by_stripe(fake_stripe, total=TOTAL)
        fake_stripe.refund_status = "pending"
        response = await _refund(stripe_api, order["id"], "10.00")
        assert response.status_code == 201 and response.json()["status"] == "pending"
        assert response.json()["refundable"] == "49.48"  # a pending refund is reserved
        assert await stripe_api.outbox("payment.refunded") == []
        assert [e.kind for e in await stripe_api.ledger()] == ["payment"]
        [stripe_refund] = _stripe_refunds(fake_stripe, intent_id)
        event = fake_stripe.event("charge.refund.updated", fake_stripe.settle_refund(stripe_refund["id"]))
        for _ in range(2):  # a replayed event changes nothing
            assert (await stripe_api.stripe_webhooks.send(event)).status_code == 200
        [refunded] = await stripe_api.outbox("payment.refunded")
        assert (refunded["amount"], refunded["refund_id"], refunded["is_full"]) == (
            "10.00", response.json()["id"], False)
        assert [(e.kind, e.amount) for e in await stripe_api.ledger()] == [("payment", money("59.48")),
                                                                             ("refund", money("-10.00"))]

    async def test_a_failed_refund_writes_nothing_and_frees_its_amount(self, stripe_api, fake_stripe) -> None:
        order, intent_id = await stripe_api.paid_by_stripe(fake_stripe, total=TOTAL)
        fake_stripe.refund_status = "pending"
        assert (await _refund(stripe_api, order["id"], "59.48")).status_code == 201
        assert_error(await _refund(stripe_api, order["id"], "1.00"), 400, "REFUND_EXCEEDS_PAYMENT")
        [stripe_refund] = _stripe_refunds(fake_stripe, intent_id)
        failed = fake_stripe.settle_refund(stripe_refund["id"], "failed", "expired_or_canceled_card")
        assert (await stripe_api.stripe_webhooks.send(fake_stripe.event("refund.failed", failed))).status_code == 200
        assert await stripe_api.outbox("payment.refunded") == []
        assert [e.kind for e in await stripe_api.ledger()] == ["payment"]
        [payment] = await stripe_api.payments(order["id"])
        assert payment.status == "succeeded"
        fake_stripe.refund_status = "succeeded"
        again = await _refund(stripe_api, order["id"], "5.00")
        assert again.status_code == 201 and again.json()["refundable"] == "54.48"

    async def test_a_refund_that_fails_after_it_succeeded_is_reversed_in_the_ledger(self, stripe_api,
                                                                                     fake_stripe) -> None:
        order, intent_id = await stripe_api.paid_by_stripe(fake_stripe, total=TOTAL)
        assert (await _refund(stripe_api, order["id"], "10.00")).status_code == 201
        [stripe_refund] = _stripe_refunds(fake_stripe, intent_id)
        failed = fake_stripe.settle_refund(stripe_refund["id"], "failed", "lost_or_stolen_card")
        await stripe_api.stripe_webhooks.send(fake_stripe.event("charge.refund.updated", failed))
        assert [(e.kind, e.amount) for e in await stripe_api.ledger()] == [
            ("payment", money("59.48")), ("refund", money("-10.00")), ("refund", money("10.00"))]

    async def test_a_partial_refund_made_in_the_stripe_dashboard_is_recorded(self, stripe_api, fake_stripe) -> None:
        order, intent_id = await stripe_api.paid_by_stripe(fake_stripe, total=TOTAL)
        intent = fake_stripe.intents[intent_id]
        dashboard = {"id": "re_dashboard", "object": "refund", "amount": 1500, "currency": "usd",
                     "payment_intent": intent_id, "charge": intent["latest_charge"], "status": "succeeded",
                     "metadata": {}}
        await stripe_api.stripe_webhooks.send(fake_stripe.event("refund.created", dashboard))
        [refunded] = await stripe_api.outbox("payment.refunded")
        assert (refunded["amount"], refunded["is_full"]) == ("15.00", False)
        response = await _refund(stripe_api, order["id"])
        assert response.json()["amount"] == "44.48"


class TestStaleRefundForm:
    """A console refund form carries what it showed as refundable; a refund made since makes
    it stale, and it is refused with the current state rather than applied over it."""

    async def test_a_refund_made_since_the_form_was_read_is_a_conflict_and_changes_nothing(self, api) -> None:
        order, owner_id = await api.paid_locally(total=TOTAL)
        form = {"order_id": order["id"], "amount": "5.00", "reason": "late", "expected_refundable": "59.48"}
        assert (await _refund(api, order["id"], "10.00")).status_code == 201  # another staffer, meanwhile
        stale = await api.client.post("/api/v1/payments/refunds", json=form, headers=api.keys.staff_headers())
        details = assert_error(stale, 409, "STALE_VERSION")["details"]
        assert details["current"] == {"refundable": "49.48", "total_refunded": "10.00"}
        assert [e.amount for e in await api.ledger(owner_id) if e.kind == "refund"] == [money("-10.00")]

        fresh = await api.client.post("/api/v1/payments/refunds", headers=api.keys.staff_headers(),
                                      json={**form, "expected_refundable": details["current"]["refundable"]})
        assert fresh.status_code == 201, fresh.text
        assert fresh.json()["total_refunded"] == "15.00"


class TestRevenueMetrics:
    async def test_paid_and_refunded_money_is_counted_per_storefront_once_committed(self, api) -> None:
        """The dashboards' revenue per storefront (deploy/helm/atelier): what committed, nothing else."""
        def counted(name: str) -> float:
            return REGISTRY.get_sample_value(name, {"storefront": "marbelle", "currency": "USD"}) or 0.0

        paid, refunded = counted("atelier_payments_revenue_total"), counted("atelier_payments_refunded_total")
        anon_id, headers = api.anon()
        order = api.orders.add(anon_id, total="59.48", storefront="marbelle")
        session_id = (await api.checkout(order["id"], headers)).json()["session_id"]
        assert (await api.client.post(f"/api/dev/checkout/{session_id}/pay")).status_code == 303
        assert counted("atelier_payments_revenue_total") - paid == pytest.approx(59.48)
        assert (await _refund(api, order["id"], "10.00")).status_code == 201
        # Refused: nothing given back, nothing counted.
        assert_error(await _refund(api, order["id"], "60.00"), 400, "REFUND_EXCEEDS_PAYMENT")
        assert counted("atelier_payments_refunded_total") - refunded == pytest.approx(10.0)
        assert counted("atelier_payments_revenue_total") - paid == pytest.approx(59.48)


class TestTheCallerNow:
    """A refund moves money: identity says who the caller is at that moment, not the token
    alone, which lives on until `identity.token_revoked` reaches payments."""

    async def test_a_clerk_moved_out_of_finance_or_suspended_refunds_nothing(self, api) -> None:
        order, owner_id = await api.paid_locally(total=TOTAL)
        # A role the token lacks is refused before identity is asked.
        assert_error(await _refund(api, order["id"], "1.00", headers=api.keys.staff_headers("merchandiser")),
                     403, "PERMISSION_DENIED")
        clerk = uuid.uuid4()
        headers = api.keys.user_headers(clerk, ("customer", "staff", "finance"))
        api.staff_directory.set(clerk, "finance")
        assert (await _refund(api, order["id"], "1.00", headers=headers)).status_code == 201

        for change in (lambda: api.staff_directory.set(clerk, "support"),  # an admin moved them to support
                       lambda: api.staff_directory.set(clerk, "finance", active=False),  # suspended
                       lambda: api.staff_directory.gone(clerk)):  # deleted
            change()
            assert_error(await _refund(api, order["id"], "1.00", headers=headers), 401, "INVALID_TOKEN")
        assert [(e.kind, e.amount) for e in await api.ledger(owner_id)] == [
            ("payment", money("59.48")), ("refund", money("-1.00"))]
        assert len(await api.outbox("payment.refunded")) == 1
        assert api.staff_directory.asked == [clerk] * 4

    async def test_identity_unable_to_answer_refunds_nothing(self, api) -> None:
        order, owner_id = await api.paid_locally(total=TOTAL)
        api.staff_directory.unavailable = True
        assert_error(await _refund(api, order["id"], "1.00"), 503, "SERVICE_UNAVAILABLE")
        assert [e.kind for e in await api.ledger(owner_id)] == ["payment"]
        assert await api.outbox("payment.refunded") == []
