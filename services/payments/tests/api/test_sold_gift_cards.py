"""Gift cards bought as products: a paid order issues one card per unit of its gift card lines."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from atelier_common.settings import DEV_SECRET
from atelier_payments.domain import gift_card_digest, sign_simple_webhook
from atelier_payments.models import GiftCard, GiftCardTransaction

from ..conftest import line


async def _paid(api, order: dict) -> int:
    raw = json.dumps({"order_id": order["id"], "status": "paid", "transaction_id": "tx-1"}).encode()
    response = await api.client.post("/api/v1/payments/webhooks/local", content=raw, headers={
        "X-Signature": sign_simple_webhook(raw, DEV_SECRET), "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    return response.status_code


async def _cards(api, order_id: str) -> list[GiftCard]:
    async with api.db.read_only() as s:
        stmt = select(GiftCard).where(col(GiftCard.order_id) == uuid.UUID(order_id)).order_by(col(GiftCard.order_unit))
        return list((await s.exec(stmt)).all())


@pytest.mark.databases("sqlite", "postgres", why="the order unit's unique index and the payment's row lock")
class TestSoldGiftCards:
    async def test_one_card_per_unit_once_however_often_the_payment_is_confirmed(self, api) -> None:
        order = api.orders.add(uuid.uuid4(), total="135.00", currency="EUR", items=[
            line("GIFT-50", kind="gift_card", quantity=2, unit_price="50.00"),
            line("STONE-1", unit_price="10.00"),
            line("GIFT-25", kind="gift_card", unit_price="25.00")])
        for _ in range(3):  # the provider's confirmation, delivered again
            await _paid(api, order)
        cards = await _cards(api, order["id"])
        assert [(c.order_unit, c.initial_balance, c.balance, c.currency, c.storefront, c.recipient_email)
                for c in cards] == [("0:0", 50, 50, "EUR", "default", "buyer@example.com"),
                                    ("0:1", 50, 50, "EUR", "default", "buyer@example.com"),
                                    ("2:0", 25, 25, "EUR", "default", "buyer@example.com")]
        # They last payments' default validity, and each has its `issued` movement.
        assert all(c.expires_at is not None and c.is_active for c in cards)
        async with api.db.read_only() as s:
            moves = (await s.exec(select(GiftCardTransaction).where(
                col(GiftCardTransaction.gift_card_id).in_([c.id for c in cards])))).all()
        assert sorted((m.kind, m.amount, str(m.order_id)) for m in moves) == [
            ("issued", 25, order["id"]), ("issued", 50, order["id"]), ("issued", 50, order["id"])]
        # The events name the order and the recipient, never the code.
        issued = await api.outbox("gift_card.issued")
        assert len(issued) == 3 and {e["order_id"] for e in issued} == {order["id"]}
        assert {e["last4"] for e in issued} == {c.last4 for c in cards}
        assert all(set(e) >= {"recipient_email", "initial_balance"} and "code" not in e for e in issued)
        assert len(await api.outbox("order.paid")) == 1
        # The code goes to identity alone, once per card, to mail the buyer: it is that card's.
        deliveries = await api.outbox("gift_card.delivery")
        by_card = {str(c.id): c for c in cards}
        assert sorted(d["gift_card_id"] for d in deliveries) == sorted(by_card)
        for d in deliveries:
            card = by_card[d["gift_card_id"]]
            assert gift_card_digest(d["code"]) == card.code_digest and d["amount"] == str(card.initial_balance)
            assert d["recipient_email"] == "buyer@example.com" and d["order_id"] == order["id"]

    async def test_an_order_without_gift_cards_issues_none(self, api) -> None:
        order = api.orders.add(uuid.uuid4(), total="10.00")
        await _paid(api, order)
        assert await _cards(api, order["id"]) == []
        assert await api.outbox("gift_card.issued") == [] and await api.outbox("gift_card.delivery") == []

    async def test_a_line_for_someone_else_is_mailed_to_them_on_its_date(self, api) -> None:
        gift = line("GIFT-50", kind="gift_card", unit_price="50.00")
        gift.update(gift_recipient_email="friend@example.com", gift_message="Happy birthday!",
                    gift_send_at="2027-01-15T09:00:00Z")
        order = api.orders.add(uuid.uuid4(), total="50.00", items=[gift])
        await _paid(api, order)
        [card] = await _cards(api, order["id"])
        assert card.recipient_email == "friend@example.com"
        [delivery] = await api.outbox("gift_card.delivery")
        assert (delivery["recipient_email"], delivery["message"], delivery["send_at"]) == (
            "friend@example.com", "Happy birthday!", "2027-01-15T09:00:00Z")
        [issued] = await api.outbox("gift_card.issued")
        assert (issued["recipient_email"], issued["send_at"]) == ("friend@example.com", "2027-01-15T09:00:00Z")


async def _refund(api, order_id: str, amount: str | None = None):
    body = {"order_id": order_id, "reason": "changed their mind", **({"amount": amount} if amount else {})}
    return await api.client.post("/api/v1/payments/refunds", json=body, headers=api.keys.staff_headers())


class TestRefundingSoldGiftCards:
    ITEMS = [line("GIFT-50", kind="gift_card", unit_price="50.00"), line("STONE-1", unit_price="10.00")]

    async def test_a_full_refund_deactivates_the_cards_the_order_bought(self, api) -> None:
        order, _ = await api.paid_locally(total="60.00", items=self.ITEMS)
        [card] = await _cards(api, order["id"])
        assert card.is_active
        assert (await _refund(api, order["id"], "10.00")).status_code == 201  # a part: the card stays
        assert (await _cards(api, order["id"]))[0].is_active
        response = await _refund(api, order["id"])
        assert response.status_code == 201, response.text
        [card] = await _cards(api, order["id"])
        assert not card.is_active
        [changed] = await api.outbox("gift_card.changed")
        assert (changed["change"], changed["is_active"], changed["order_id"]) == ("deactivated", False, order["id"])

    async def test_a_full_refund_is_refused_once_a_bought_card_was_spent(self, api) -> None:
        order, _ = await api.paid_locally(total="60.00", items=self.ITEMS)
        [card] = await _cards(api, order["id"])
        async with api.db.transaction() as s:
            await s.execute(update(GiftCard).where(col(GiftCard.id) == card.id).values(balance=Decimal("20.00")))
        response = await _refund(api, order["id"])
        assert response.status_code == 409 and response.json()["error"]["code"] == "GIFT_CARD_USED", response.text
        assert (await _cards(api, order["id"]))[0].is_active
        # The other lines are still refunded by amount.
        assert (await _refund(api, order["id"], "10.00")).status_code == 201
