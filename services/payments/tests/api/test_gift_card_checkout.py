"""Gift cards at checkout: they pay first, each up to its balance, under the card's row lock; the
provider's page takes the rest, or the order is paid at once. A cancelled payment gives the cards
back; refunds go to the provider first, then to the cards (charged − refunded = kept, per source)."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from atelier_common.contracts.orders import OrderCancelled
from atelier_payments.models import CheckoutSession, GiftCard, GiftCardTransaction

from ..conftest import assert_error, money
from .test_gift_cards import STAFF, issued_code

pytestmark = pytest.mark.databases("sqlite", "postgres", why="balances move under row locks and CHECKs")
CHECKOUT = {"success_url": "http://shop.test/ok?session={CHECKOUT_SESSION_ID}", "cancel_url": "http://shop.test/no"}


async def checkout(api, order_id: str, headers: dict[str, str], codes: list[str], **extra_headers: str
                   ) -> httpx.Response:
    return await api.client.post("/api/v1/payments/checkout", headers={**headers, **extra_headers},
                                 json={"order_id": order_id, "gift_cards": codes, **CHECKOUT})


async def card(api, card_id: str) -> dict[str, Any]:
    response = await api.client.get(f"{STAFF}/{card_id}", headers=api.keys.staff_headers("support"))
    assert response.status_code == 200, response.text
    return response.json()


async def pay_locally(api, session_id: str) -> None:
    assert (await api.client.post(f"/api/dev/checkout/{session_id}/pay")).status_code == 303


async def refund(api, order_id: str, amount: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"order_id": order_id, "reason": "returned"}
    if amount is not None:
        body["amount"] = amount
    return await api.client.post("/api/v1/payments/refunds", json=body, headers=api.keys.staff_headers("finance"))


async def by_source(api, order_id: str) -> dict[str, Decimal]:
    """The ledger's money of an order per source: the provider's, and each card's (`gift_card:<id>`)."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for entry in await api.ledger():
        if entry.order_id == uuid.UUID(order_id) and entry.amount is not None:
            source = entry.reference_id if (entry.reference_id or "").startswith("gift_card:") else "provider"
            totals[source] += entry.amount
    return dict(totals)


class TestPartOfTheOrder:
    async def test_the_card_pays_first_and_the_provider_the_rest(self, api) -> None:
        card_id, code = await issued_code(api, "20.00")
        order, headers = api.guest_order(total="59.48")
        started = await checkout(api, order["id"], headers, [code])
        assert started.status_code == 200, started.text
        body = started.json()
        assert (body["status"], body["gift_card_amount"], body["amount_due"]) == ("requires_payment", "20.00", "39.48")
        async with api.db.read_only() as s:
            page = (await s.exec(select(CheckoutSession))).one()
        assert page.amount == money("39.48")  # the provider's page asks only for the rest
        # Held from now on.
        assert (await card(api, card_id))["balance"] == "0.00"
        await pay_locally(api, body["session_id"])
        [paid] = await api.outbox("order.paid")
        # Orders hears the order's total, as from any payment: its invoice is unchanged.
        assert (paid["amount"], paid["provider"]) == ("59.48", "local")
        assert await by_source(api, order["id"]) == {"provider": money("39.48"), f"gift_card:{card_id}": money("20.00")}
        read = await card(api, card_id)
        assert [(t["kind"], t["amount"], t["order_id"]) for t in read["transactions"]] == [
            ("issued", "20.00", None), ("used", "-20.00", order["id"])]

    async def test_cards_pay_in_the_order_given_each_up_to_its_balance(self, api) -> None:
        small_id, small = await issued_code(api, "10.00")
        big_id, big = await issued_code(api, "100.00")
        order, headers = api.guest_order(total="30.00")
        started = await checkout(api, order["id"], headers, [small, big])
        assert started.json()["status"] == "succeeded", started.text
        assert ((await card(api, small_id))["balance"], (await card(api, big_id))["balance"]) == ("0.00", "80.00")
        assert await by_source(api, order["id"]) == {f"gift_card:{small_id}": money("10.00"),
                                                     f"gift_card:{big_id}": money("20.00")}


    async def test_a_checkout_started_again_holds_the_cards_once(self, api) -> None:
        """Another tab, or a retry without its key: the earlier page's hold goes back to the card
        first, so the card is never held twice for one order; the earlier page is closed."""
        card_id, code = await issued_code(api, "30.00")
        order, headers = api.guest_order(total="50.00")
        first = (await checkout(api, order["id"], headers, [code])).json()
        assert (await card(api, card_id))["balance"] == "0.00"
        second = await checkout(api, order["id"], headers, [code])
        assert second.status_code == 200, second.text
        assert (second.json()["gift_card_amount"], second.json()["amount_due"]) == ("30.00", "20.00")
        assert (await card(api, card_id))["balance"] == "0.00"  # held once, by the second page
        kinds = [t["kind"] for t in (await card(api, card_id))["transactions"]]
        assert kinds == ["issued", "used", "released", "used"]
        payments = {p.id: p for p in await api.payments(order["id"])}
        assert payments[uuid.UUID(first["payment_id"])].status == "canceled"
        await pay_locally(api, second.json()["session_id"])
        [paid] = await api.outbox("order.paid")
        assert paid["amount"] == "50.00"
        assert await by_source(api, order["id"]) == {"provider": money("20.00"), f"gift_card:{card_id}": money("30.00")}


class TestWholeOrder:
    async def test_cards_that_cover_the_total_pay_the_order_without_a_provider(self, api) -> None:
        card_id, code = await issued_code(api, "100.00")
        order, headers = api.guest_order(total="59.48")
        started = await checkout(api, order["id"], headers, [code])
        assert started.status_code == 200, started.text
        body = started.json()
        assert (body["status"], body["session_id"], body["gift_card_amount"], body["amount_due"]) == (
            "succeeded", None, "59.48", "0.00")
        assert body["checkout_url"] == f"http://shop.test/ok?session={body['payment_id']}"
        [paid] = await api.outbox("order.paid")
        assert (paid["amount"], paid["provider"], paid["order_id"]) == ("59.48", "gift_card", order["id"])
        [payment] = await api.payments(order["id"])
        assert (payment.status, payment.pays_order, payment.gift_card_amount) == ("succeeded", True, money("59.48"))
        assert (await card(api, card_id))["balance"] == "40.52"
        assert await by_source(api, order["id"]) == {f"gift_card:{card_id}": money("59.48")}
        # Paid: another checkout of it is refused, and the card is not touched again.
        assert_error(await checkout(api, order["id"], headers, [code]), 409, "ORDER_NOT_PAYABLE")
        assert (await card(api, card_id))["balance"] == "40.52"

    async def test_a_retry_with_the_same_key_spends_the_card_once(self, api) -> None:
        card_id, code = await issued_code(api, "100.00")
        order, headers = api.guest_order(total="25.00")
        key = str(uuid.uuid4())
        first = await checkout(api, order["id"], headers, [code], **{"Idempotency-Key": key})
        again = await checkout(api, order["id"], headers, [code], **{"Idempotency-Key": key})
        assert first.status_code == again.status_code == 200, first.text
        assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
        assert (await card(api, card_id))["balance"] == "75.00"
        assert len(await api.outbox("order.paid")) == 1


class TestRefusedCodes:
    async def test_unknown_expired_and_deactivated_codes_answer_alike_and_hold_nothing(self, api) -> None:
        good_id, good = await issued_code(api, "50.00")
        _, expired = await issued_code(api, "50.00", expires_at=(datetime.now(UTC) - timedelta(days=1)).isoformat())
        off_id, off = await issued_code(api, "50.00")
        await api.client.post(f"{STAFF}/{off_id}/deactivate", headers=api.keys.staff_headers("support"))
        order, headers = api.guest_order(total="30.00")
        answers = [assert_error(await checkout(api, order["id"], headers, [good, bad]), 400, "GIFT_CARD_INVALID")
                   for bad in ("ABCD-EFGH-JKMN-PQRS", expired, off)]
        assert answers[0] == answers[1] == answers[2]
        # The good card named first is untouched: nothing of a refused checkout is kept.
        assert (await card(api, good_id))["balance"] == "50.00"
        assert await api.payments(order["id"]) == []

    async def test_another_currency_and_an_empty_card_are_refused(self, api) -> None:
        _, euros = await issued_code(api, "50.00", currency="EUR")
        anon_id, headers = api.anon()
        order = api.orders.add(anon_id, total="30.00")
        mismatch = assert_error(await checkout(api, order["id"], headers, [euros]), 409,
                                "GIFT_CARD_CURRENCY_MISMATCH")
        assert mismatch["details"]["currency"] == "EUR"
        empty_id, empty = await issued_code(api, "5.00")
        assert (await checkout(api, api.orders.add(anon_id, total="5.00")["id"], headers, [empty])).status_code == 200
        refused = assert_error(await checkout(api, order["id"], headers, [empty]), 409, "GIFT_CARD_EMPTY")
        assert refused["details"]["gift_card"] == empty[-4:]
        assert (await card(api, empty_id))["balance"] == "0.00"

    async def test_wrong_codes_at_checkout_count_as_guesses(self, start_payments) -> None:
        async with start_payments(gift_card_failures_per_caller="2/15 minutes") as api:
            _, code = await issued_code(api, "50.00")
            order, headers = api.guest_order(total="30.00")
            for _ in range(2):
                assert_error(await checkout(api, order["id"], headers, ["WRNG-WRNG-WRNG-WRNG"]), 400,
                             "GIFT_CARD_INVALID")
            assert_error(await checkout(api, order["id"], headers, [code]), 429, "RATE_LIMITED")


class TestGivenBack:
    async def test_a_cancelled_payment_releases_what_it_held(self, api) -> None:
        card_id, code = await issued_code(api, "20.00")
        order, headers = api.guest_order(total="59.48")
        assert (await checkout(api, order["id"], headers, [code])).status_code == 200
        assert (await card(api, card_id))["balance"] == "0.00"
        await api.h.deliver(OrderCancelled(order_id=order["id"], owner_id=order["owner_id"], was_paid=False))
        [payment] = await api.payments(order["id"])
        assert payment.status == "canceled"
        read = await card(api, card_id)
        assert read["balance"] == "20.00"
        assert [t["kind"] for t in read["transactions"]] == ["issued", "used", "released"]
        assert [e["change"] for e in await api.outbox("gift_card.changed")] == ["used", "released"]
        assert await by_source(api, order["id"]) == {}  # nothing was ever paid

    async def test_refunds_go_to_the_provider_first_then_to_the_card(self, api) -> None:
        card_id, code = await issued_code(api, "20.00")
        order, headers = api.guest_order(total="59.48")
        await pay_locally(api, (await checkout(api, order["id"], headers, [code])).json()["session_id"])
        first = await refund(api, order["id"], "50.00")
        assert first.status_code == 201, first.text
        assert (first.json()["amount"], first.json()["refundable"]) == ("50.00", "9.48")
        assert (await card(api, card_id))["balance"] == "10.52"
        assert await by_source(api, order["id"]) == {"provider": money("0.00"), f"gift_card:{card_id}": money("9.48")}
        assert (await refund(api, order["id"])).status_code == 201
        read = await card(api, card_id)
        assert read["balance"] == "20.00"
        assert [(t["kind"], t["amount"]) for t in read["transactions"]] == [
            ("issued", "20.00"), ("used", "-20.00"), ("refunded", "10.52"), ("refunded", "9.48")]
        # Each source gave back all it took; orders heard the refunds whole (its credit notes).
        assert await by_source(api, order["id"]) == {"provider": money("0.00"), f"gift_card:{card_id}": money("0.00")}
        refunds = await api.outbox("payment.refunded")
        assert [(r["amount"], r["is_full"]) for r in refunds] == [("50.00", False), ("9.48", True)]
        assert_error(await refund(api, order["id"], "0.01"), 400, "REFUND_EXCEEDS_PAYMENT")
        # Staff's picture of the order names each part.
        picture = (await api.client.get(f"/api/v1/staff/payments/orders/{order['id']}",
                                        headers=api.keys.staff_headers("finance"))).json()
        assert [p["gift_card_amount"] for p in picture["payments"]] == ["20.00"]
        assert [(r["amount"], r["gift_card_amount"]) for r in picture["refunds"]] == [("50.00", "10.52"),
                                                                                      ("9.48", "9.48")]

    async def test_an_order_paid_by_card_alone_is_refunded_to_it_when_cancelled(self, api) -> None:
        card_id, code = await issued_code(api, "100.00")
        order, headers = api.guest_order(total="59.48")
        assert (await checkout(api, order["id"], headers, [code])).json()["status"] == "succeeded"
        await api.h.deliver(OrderCancelled(order_id=order["id"], owner_id=order["owner_id"], was_paid=True))
        assert (await card(api, card_id))["balance"] == "100.00"
        [payment] = await api.payments(order["id"])
        assert payment.status == "refunded"
        [refunded] = await api.outbox("payment.refunded")
        assert (refunded["amount"], refunded["is_full"]) == ("59.48", True)
        assert await by_source(api, order["id"]) == {f"gift_card:{card_id}": money("0.00")}


@pytest.mark.databases("postgres", why="two transactions racing for one card's row lock")
class TestRace:
    async def test_two_checkouts_spending_a_cards_last_ten_one_wins(self, api) -> None:
        card_id, code = await issued_code(api, "10.00")
        orders = [api.guest_order(total="10.00") for _ in range(2)]
        answers = await asyncio.gather(*(checkout(api, order["id"], headers, [code]) for order, headers in orders))
        assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
        [lost] = [r for r in answers if r.status_code == 409]
        assert_error(lost, 409, "GIFT_CARD_EMPTY")
        assert (await card(api, card_id))["balance"] == "0.00"
        assert len(await api.outbox("order.paid")) == 1
        async with api.db.read_only() as s:
            moves = (await s.exec(select(GiftCardTransaction)
                                  .where(col(GiftCardTransaction.gift_card_id) == uuid.UUID(card_id)))).all()
            stored = (await s.exec(select(GiftCard))).one()
        assert sum(m.amount for m in moves) == stored.balance == money("0.00")


class TestStripe:
    async def test_stripe_charges_the_rest_and_refunds_its_part_first(self, stripe_api, fake_stripe) -> None:
        card_id, code = await issued_code(stripe_api, "2.34")
        order, headers = stripe_api.guest_order(total="12.34")
        body = (await checkout(stripe_api, order["id"], headers, [code])).json()
        session = fake_stripe.sessions[body["session_id"]]
        assert session["amount_total"] == 1000  # 12.34 less the card's 2.34
        completed = fake_stripe.complete_session(body["session_id"])
        sent = await stripe_api.stripe_webhooks.send(fake_stripe.event("checkout.session.completed", completed))
        assert sent.json()["status"] == "processed"
        [paid] = await stripe_api.outbox("order.paid")
        assert (paid["amount"], paid["provider"]) == ("12.34", "stripe")
        assert (await refund(stripe_api, order["id"])).status_code == 201
        [asked] = [r for r in fake_stripe.refunds.values() if r["payment_intent"] == completed["payment_intent"]]
        assert asked["amount"] == 1000  # Stripe gives back what it took; the card the rest
        assert (await card(stripe_api, card_id))["balance"] == "2.34"
        assert await by_source(stripe_api, order["id"]) == {"provider": money("0.00"),
                                                            f"gift_card:{card_id}": money("0.00")}

    async def test_a_late_success_after_the_cards_were_released_refunds_only_the_providers_part(
            self, stripe_api, fake_stripe) -> None:
        card_id, code = await issued_code(stripe_api, "2.34")
        order, headers = stripe_api.guest_order(total="12.34")
        body = (await checkout(stripe_api, order["id"], headers, [code])).json()
        await stripe_api.h.deliver(OrderCancelled(order_id=order["id"], owner_id=order["owner_id"], was_paid=False))
        assert (await card(stripe_api, card_id))["balance"] == "2.34"  # released
        # The buyer had paid the page before Stripe closed it: the money arrives anyway.
        completed = fake_stripe.complete_session(body["session_id"])
        await stripe_api.stripe_webhooks.send(fake_stripe.event("checkout.session.completed", completed))
        [asked] = [r for r in fake_stripe.refunds.values() if r["payment_intent"] == completed["payment_intent"]]
        assert asked["amount"] == 1000  # what Stripe took, not the order's total
        assert (await card(stripe_api, card_id))["balance"] == "2.34"  # not credited twice
        assert await by_source(stripe_api, order["id"]) == {"provider": money("0.00")}
        assert await stripe_api.outbox("order.paid") == []
