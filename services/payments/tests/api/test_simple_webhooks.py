"""POST /payments/webhooks/{provider}: S0's simple provider webhook with an HMAC signature."""

from __future__ import annotations

import json
import uuid

from atelier_common.settings import DEV_SECRET
from atelier_payments.domain import sign_simple_webhook

from ..conftest import assert_error

SECRET = "s0-provider-secret"


async def _post(api, provider: str, body: dict, *, secret: str = SECRET, signature: str | None = None):
    raw = json.dumps(body).encode()
    header = signature if signature is not None else sign_simple_webhook(raw, secret)
    return await api.client.post(f"/api/v1/payments/webhooks/{provider}", content=raw,
                                 headers={"X-Signature": header, "Content-Type": "application/json"})


class TestSimpleProvider:
    async def test_a_paid_order_reported_by_the_provider_is_paid(self, start_payments) -> None:
        async with start_payments(webhook_secrets={"local": "dev", "bog": SECRET}) as api:
            anon_id = uuid.uuid4()
            order = api.orders.add(anon_id, total="30.00", currency="GEL")
            body = {"order_id": order["id"], "status": "paid", "transaction_id": "tx-1", "customer_id": None}
            response = await _post(api, "bog", body)
            assert response.status_code == 200 and response.json()["status"] == "processed"
            [payment] = await api.payments(order["id"])
            assert (payment.provider, payment.kind, payment.status) == ("bog", "external", "succeeded")
            assert payment.amount == 30 and payment.currency == "GEL" and payment.provider_charge_id == "tx-1"
            [paid] = await api.outbox("order.paid")
            assert paid["anon_id"] == str(anon_id) and paid["buyer"]["email"] == "buyer@example.com"
            # The same message again (no event id: the body is its identity) changes nothing.
            assert (await _post(api, "bog", body)).json()["status"] == "duplicate"
            assert len(await api.outbox("order.paid")) == 1

    async def test_orders_decision_to_register_the_guest_travels_to_order_paid(self, start_payments) -> None:
        """docs/storefronts.md#guest-accounts: what orders decided when placing the order (its internal
        read's `register_buyer`) is what `order.paid` tells identity; an order read without it (an
        orders service from before the policy) registers nobody."""
        async with start_payments(webhook_secrets={"local": "dev", "bog": SECRET}) as api:
            decided = {}
            for register_buyer in (True, False, None):
                order = api.orders.add(uuid.uuid4(), total="12.00", currency="GEL", register_buyer=register_buyer)
                body = {"order_id": order["id"], "status": "paid", "customer_id": None}
                assert (await _post(api, "bog", body)).json()["status"] == "processed"
                [payment] = await api.payments(order["id"])
                [paid] = [e for e in await api.outbox("order.paid") if e["order_id"] == order["id"]]
                decided[register_buyer] = (payment.order_snapshot.get("register_buyer"), paid["register_buyer"])
            assert decided == {True: (True, True), False: (False, False), None: (False, False)}

    async def test_a_bad_signature_is_refused(self, start_payments) -> None:
        async with start_payments(webhook_secrets={"local": "dev", "bog": SECRET}) as api:
            order = api.orders.add(uuid.uuid4())
            body = {"order_id": order["id"], "status": "paid"}
            assert_error(await _post(api, "bog", body, secret="wrong"), 400, "INVALID_SIGNATURE")
            assert_error(await _post(api, "bog", body, signature=""), 400, "INVALID_SIGNATURE")
            assert await api.payments(order["id"]) == []

    async def test_the_s0_shared_secret_header_is_accepted_in_place_of_the_signature(self, start_payments) -> None:
        async with start_payments(webhook_secrets={"local": "dev", "bog": SECRET}) as api:
            order = api.orders.add(uuid.uuid4(), total="12.00", currency="GEL")
            raw = json.dumps({"order_id": order["id"], "status": "paid", "customer_id": None}).encode()
            url = "/api/v1/payments/webhooks/bog"
            for wrong in ("wrong-secret", "", SECRET + "x"):
                response = await api.client.post(url, content=raw, headers={"X-Webhook-Secret": wrong})
                assert_error(response, 400, "INVALID_SIGNATURE")
            assert_error(await api.client.post(url, content=raw), 400, "INVALID_SIGNATURE")  # never unsigned
            assert await api.payments(order["id"]) == []
            response = await api.client.post(url, content=raw, headers={"X-Webhook-Secret": SECRET})
            assert response.status_code == 200 and response.json()["status"] == "processed"
            assert [p.status for p in await api.payments(order["id"])] == ["succeeded"]
            assert len(await api.outbox("order.paid")) == 1

    async def test_an_unknown_provider_is_not_found(self, api) -> None:
        assert_error(await _post(api, "paypal", {"order_id": str(uuid.uuid4()), "status": "paid"}), 404, "NOT_FOUND")

    async def test_a_signed_but_invalid_body_is_a_validation_error(self, start_payments) -> None:
        async with start_payments(webhook_secrets={"local": "dev", "bog": SECRET}) as api:
            assert_error(await _post(api, "bog", {"order_id": "x", "status": "paid"}), 400, "VALIDATION_ERROR")
            assert_error(await _post(api, "bog", {"order_id": str(uuid.uuid4()), "status": "maybe"}), 400,
                         "VALIDATION_ERROR")

    async def test_failed_marks_the_open_payment_failed(self, api) -> None:
        anon_id, headers = api.anon()
        order = api.orders.add(anon_id)
        await api.intent(order["id"], headers)
        response = await _post(api, "local", {"order_id": order["id"], "status": "failed", "event_id": "e1"},
                               secret=DEV_SECRET)
        assert response.json()["status"] == "processed"
        assert (await api.payments(order["id"]))[0].status == "failed"
        assert len(await api.outbox("payment.failed")) == 1


class TestHealth:
    async def test_webhooks_health_is_public(self, api) -> None:
        response = await api.client.get("/api/v1/payments/webhooks/health")
        assert response.status_code == 200 and response.json() == {"status": "ok"}


def _reserialised(body: dict, variant: int) -> bytes:
    """The same notification as a provider may send it again: keys reordered, other spacing."""
    items = list(body.items())
    ordered = dict(reversed(items) if variant % 2 else items)
    separators = [(",", ":"), (", ", ": "), (",  ", " : "), (",\n", ":\t"), (" ,", ":")][variant % 5]
    return json.dumps(ordered, separators=separators).encode()


async def _refunds(api, order_id: str) -> list:
    from sqlmodel import col, select

    from atelier_payments.models import Refund

    async with api.db.read_only() as s:
        return list((await s.exec(select(Refund).where(col(Refund.order_id) == uuid.UUID(order_id)))).all())


class TestNotificationsWithoutEventId:
    """S0's provider sends no event id: a notification is known by what it means."""

    async def test_one_payment_reserialised_five_times_is_one_payment_and_no_refund(self, api) -> None:
        order = api.orders.add(uuid.uuid4(), total="30.00", currency="GEL")
        body = {"order_id": order["id"], "status": "paid", "customer_id": None}
        statuses = []
        for variant in range(5):
            raw = _reserialised(body, variant)
            response = await api.client.post("/api/v1/payments/webhooks/local", content=raw,
                                              headers={"X-Webhook-Secret": DEV_SECRET})
            assert response.status_code == 200, response.text
            statuses.append(response.json()["status"])
        assert statuses == ["processed"] + ["duplicate"] * 4
        [payment] = await api.payments(order["id"])
        assert payment.status == "succeeded" and payment.amount == 30
        assert await _refunds(api, order["id"]) == []
        assert len(await api.outbox("order.paid")) == 1
        assert [e.kind for e in await api.ledger()] == ["payment"]

    async def test_a_paid_order_notified_again_in_other_words_is_still_one_payment(self, api) -> None:
        order = api.orders.add(uuid.uuid4(), total="30.00", currency="GEL")
        first = {"order_id": order["id"], "status": "paid", "transaction_id": "tx-1"}
        assert (await _post(api, "local", first, secret=DEV_SECRET)).json()["status"] == "processed"
        # Without the transaction id, or with the amount spelled out: the payment already recorded.
        for again in ({"order_id": order["id"], "status": "paid"},
                      {"order_id": order["id"], "status": "paid", "amount": "30.00", "currency": "GEL"}):
            response = await _post(api, "local", again, secret=DEV_SECRET)
            assert response.status_code == 200, response.text
        assert [(p.status, p.provider_charge_id) for p in await api.payments(order["id"])] == [("succeeded", "tx-1")]
        assert await _refunds(api, order["id"]) == []
        assert len(await api.outbox("order.paid")) == 1

    async def test_two_provider_transactions_for_one_order_refund_the_second_once(self, api) -> None:
        order = api.orders.add(uuid.uuid4(), total="30.00", currency="GEL")
        for transaction in ("tx-1", "tx-2", "tx-2", "tx-1", "tx-2"):
            body = {"order_id": order["id"], "status": "paid", "transaction_id": transaction}
            assert (await _post(api, "local", body, secret=DEV_SECRET)).status_code == 200
        payments = await api.payments(order["id"])
        assert [(p.provider_charge_id, p.status, p.pays_order) for p in payments] == [
            ("tx-1", "succeeded", True), ("tx-2", "refunded", False)]
        [refund] = await _refunds(api, order["id"])
        assert (refund.payment_id, refund.amount, refund.status) == (payments[1].id, 30, "succeeded")
        assert len(await api.outbox("order.paid")) == 1
        # Orders hears of the money it did not take, and notes it in the order's history.
        [returned] = await api.outbox("payment.returned")
        assert returned["order_id"] == order["id"] and returned["payment_id"] == str(payments[1].id)
        assert await api.outbox("payment.refunded") == []

    async def test_the_customer_the_provider_names_is_told_to_identity(self, api) -> None:
        order = api.orders.add(uuid.uuid4(), total="30.00", currency="GEL")
        customer_id = str(uuid.uuid4())
        body = {"order_id": order["id"], "status": "paid", "customer_id": customer_id}
        assert (await _post(api, "local", body, secret=DEV_SECRET)).json()["status"] == "processed"
        [paid] = await api.outbox("order.paid")
        assert paid["customer_id"] == customer_id and paid["user_id"] is None
        bad = {"order_id": order["id"], "status": "paid", "customer_id": "42"}
        assert_error(await _post(api, "local", bad, secret=DEV_SECRET), 400, "VALIDATION_ERROR")

    async def test_an_amount_that_is_not_the_orders_pays_nothing(self, api) -> None:
        order = api.orders.add(uuid.uuid4(), total="30.00", currency="GEL")
        body = {"order_id": order["id"], "status": "paid", "amount": "3.00", "currency": "GEL"}
        assert (await _post(api, "local", body, secret=DEV_SECRET)).json()["status"] == "ignored"
        assert [p.status for p in await api.payments(order["id"])] in ([], ["requires_payment"])
        assert await api.outbox("order.paid") == []
