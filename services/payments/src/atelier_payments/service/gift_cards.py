"""Gift cards: staff issue them, their holder reads a code's balance, checkouts spend them.

A card's balance moves only here, each time under its row lock (`GiftCardRepository.lock`) and
with a `gift_card_transaction` row and a `gift_card.changed` event in the same transaction, so
two checkouts spending one card queue and the second sees what the first left. The DB's CHECK
(balance >= 0) stands behind the rule.

A payment's gift card part is taken (`used`) when its checkout starts, not when it succeeds: the
money is then held for that payment; it goes back (`released`) if the payment is cancelled (its
session expired, its order was cancelled), and a refund credits it back (`refunded`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import audit, outbox
from atelier_common.auth import Principal
from atelier_common.contracts.payments import GiftCardChanged, GiftCardDelivery, GiftCardIssued
from atelier_common.guesses import Guesses, GuessRules
from atelier_common.money import quantize
from atelier_common.service import UseCase
from atelier_common.storefronts import Storefront
from atelier_payments import domain
from atelier_payments.bootstrap import PaymentsContext
from atelier_payments.errors import (
    GiftCardAlreadyUsed,
    GiftCardCurrencyMismatch,
    GiftCardEmpty,
    GiftCardInvalid,
    GiftCardNotFound,
    StorefrontNotFound,
)
from atelier_payments.models import GiftCard, GiftCardTransaction, utcnow
from atelier_payments.repository import GiftCardRepository
from atelier_payments.rows import PaymentRow
from atelier_payments.settings import PaymentsSettings

ZERO = Decimal("0.00")
USED, RELEASED, REFUNDED, ISSUED = "used", "released", "refunded", "issued"


def guesses(context: PaymentsContext) -> Guesses:
    settings: PaymentsSettings = context.settings
    return Guesses(GuessRules(
        name="gift-card", per_caller=settings.gift_card_failures_per_caller,
        per_address=settings.gift_card_failures_per_ip, caller_setting="gift_card_failures_per_caller",
        address_setting="gift_card_failures_per_ip", message="Too many wrong gift card codes; try again later"),
        context.limiter)


@dataclass(frozen=True)
class Issued:
    card: GiftCard
    # The whole code: answered once, never stored.
    code: str


@dataclass(frozen=True)
class Held:
    card: GiftCard
    amount: Decimal


class StaffGiftCards(UseCase[PaymentsContext]):
    """Staff's gift cards: issue, list, read, deactivate and reactivate; every write audited."""

    async def issue(self, staff: Principal, *, storefront: str, amount: Decimal, currency: str | None,
                    expires_at: datetime | None, note: str | None, recipient_email: str | None) -> Issued:
        """A new card of `storefront` (its currency unless named); no `expires_at`: it lasts
        `gift_card_validity_days` (forever when that is unset). An unknown storefront is a 400; one
        an API key may not touch, a 404 (docs/security.md, "API keys")."""
        if not staff.may_touch(storefront):
            raise StorefrontNotFound()
        repo = GiftCardRepository(self.session)
        if self.context.storefronts is not None:
            known = await self.context.storefronts.get(storefront)
            currency = currency or known.currency
        currency = currency or "USD"
        code = domain.new_gift_card_code()
        now = utcnow()
        if expires_at is None and (days := self.context.settings.gift_card_validity_days) is not None:
            expires_at = now + timedelta(days=days)
        value = quantize(amount)
        card = GiftCard(storefront=storefront, code_digest=domain.gift_card_digest(code), last4=code[-4:],
                        initial_balance=value, balance=value, currency=currency.upper(), expires_at=expires_at,
                        note=note, recipient_email=recipient_email, created_by=staff.user_id, created_at=now,
                        updated_at=now)
        repo.add(card)
        repo.add_transaction(GiftCardTransaction(gift_card_id=card.id, kind=ISSUED, amount=value,
                                                 currency=card.currency, created_at=now))
        await outbox.add(self.session, GiftCardIssued(storefront=card.storefront, gift_card_id=card.id,
                                                      last4=card.last4, initial_balance=value,
                                                      currency=card.currency, expires_at=expires_at))
        await audit.record(self.session, staff, "gift_card.issue", "gift_card", card.id, after={
            "storefront": card.storefront, "last4": card.last4, "initial_balance": str(value),
            "currency": card.currency, "expires_at": expires_at, "recipient_email": recipient_email})
        await self.session.flush()
        return Issued(card=card, code=code)

    async def page(self, staff: Principal, *, storefront: str | None, last4: str | None, active: bool | None,
                   limit: int, offset: int) -> tuple[int, Sequence[GiftCard]]:
        return await GiftCardRepository(self.session).page(storefront=storefront, last4=last4, active=active,
                                                           limit=limit, offset=offset, storefronts=staff.storefronts)

    async def get(self, card_id: uuid.UUID, staff: Principal) -> tuple[GiftCard, Sequence[GiftCardTransaction]]:
        repo = GiftCardRepository(self.session)
        card = await repo.get(card_id)
        if card is None or not staff.may_touch(card.storefront):
            raise GiftCardNotFound()
        return card, await repo.transactions(card_id)

    async def set_active(self, staff: Principal, card_id: uuid.UUID, active: bool, *,
                         reason: str | None) -> GiftCard:
        """Deactivate (no checkout may use it; what payments hold stays theirs) or reactivate.
        Again: no change, no audit row, no event."""
        repo = GiftCardRepository(self.session)
        locked = await repo.lock([card_id])
        if not locked or not staff.may_touch(locked[0].storefront):
            raise GiftCardNotFound()
        card = locked[0]
        if card.is_active != active:
            card.is_active = active
            card.updated_at = utcnow()
            await audit.record(self.session, staff, "gift_card.reactivate" if active else "gift_card.deactivate",
                               "gift_card", card.id, before={"is_active": not active}, after={"is_active": active},
                               reason=reason)
            await _changed(self.session, card, "reactivated" if active else "deactivated")
            await self.session.flush()
        return card


class GiftCardBalance(UseCase[PaymentsContext]):
    """A code's balance for whoever holds it; wrong codes are counted (`atelier_common.guesses`)."""

    async def check(self, code: str, storefront: Storefront, *, caller: uuid.UUID | None,
                    address: str | None) -> GiftCard:
        async with guesses(self.context).typed(caller, address, GiftCardInvalid):
            card = await GiftCardRepository(self.session).by_digest(domain.gift_card_digest(code))
            if card is None or card.storefront != storefront.slug or not domain.gift_card_usable(
                    card.is_active, card.expires_at, datetime.now(UTC)):
                raise GiftCardInvalid()
            return card


class GiftCardSpending:
    """The money paths' side of gift cards: hold for a payment, release, credit back a refund.
    The caller's transaction; `hold` locks the cards, the others the cards they touch."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.cards = GiftCardRepository(session)

    async def hold(self, codes: Sequence[str], *, storefront: str, currency: str, order_id: uuid.UUID,
                   payment_id: uuid.UUID, amount: Decimal) -> list[Held]:
        """Take up to `amount` from the cards of `codes`, in their order, each up to its balance.
        A code of no usable card of the storefront: `GiftCardInvalid` (whichever it is); a card
        another currency's: `GiftCardCurrencyMismatch`; a card that has nothing left while some
        of `amount` is still due: `GiftCardEmpty` (a parallel checkout spent it first)."""
        digests = list(dict.fromkeys(domain.gift_card_digest(code) for code in codes))
        found = {card.code_digest: card for card in await self.cards.lock_by_digests(digests)}
        now = datetime.now(UTC)
        ordered: list[GiftCard] = []
        for digest in digests:
            card = found.get(digest)
            if card is None or card.storefront != storefront or not domain.gift_card_usable(
                    card.is_active, card.expires_at, now):
                raise GiftCardInvalid()
            if card.currency != currency:
                raise GiftCardCurrencyMismatch(details={"gift_card": card.last4, "currency": card.currency})
            ordered.append(card)
        due = quantize(amount)
        held: list[Held] = []
        for card in ordered:
            if due <= 0:
                break
            take = min(quantize(card.balance), due)
            if take <= 0:
                raise GiftCardEmpty(details={"gift_card": card.last4})
            due -= take
            await self._move(card, USED, -take, payment_id=payment_id, order_id=order_id)
            held.append(Held(card=card, amount=take))
        return held

    async def issue_sold(self, payment: PaymentRow, *, validity_days: int | None) -> list[Issued]:
        """The gift cards an order paid by `payment` bought: one per unit of each gift card line,
        worth its unit price, in the order's currency and storefront, lasting `validity_days`.
        A unit already issued is skipped (the order unit is unique), so a second call adds none."""
        units = domain.gift_card_units(domain.snapshot_lines(payment.order_snapshot))
        if not units:
            return []
        done = await self.cards.issued_units(payment.order_id)
        buyer = domain.snapshot_buyer(payment.order_snapshot)
        now = utcnow()
        expires_at = None if validity_days is None else now + timedelta(days=validity_days)
        issued = []
        for unit in units:
            if unit.unit in done:
                continue
            code = domain.new_gift_card_code()
            card = GiftCard(storefront=payment.storefront, code_digest=domain.gift_card_digest(code),
                            last4=code[-4:], initial_balance=unit.amount, balance=unit.amount,
                            currency=payment.currency.upper(), expires_at=expires_at,
                            recipient_email=unit.recipient_email or (buyer.email if buyer is not None else None),
                            order_id=payment.order_id, order_unit=unit.unit, created_at=now, updated_at=now)
            self.cards.add(card)
            self.cards.add_transaction(GiftCardTransaction(gift_card_id=card.id, kind=ISSUED, amount=unit.amount,
                                                           currency=card.currency, order_id=payment.order_id,
                                                           created_at=now))
            await outbox.add(self.session, GiftCardIssued(
                storefront=card.storefront, gift_card_id=card.id, last4=card.last4, initial_balance=unit.amount,
                currency=card.currency, expires_at=expires_at, order_id=payment.order_id,
                recipient_email=card.recipient_email, message=unit.message, send_at=unit.send_at))
            if card.recipient_email:
                # The one place the code leaves payments: identity's mail to its recipient.
                await outbox.add(self.session, GiftCardDelivery(
                    storefront=card.storefront, gift_card_id=card.id, code=code,
                    recipient_email=card.recipient_email, amount=unit.amount, currency=card.currency,
                    expires_at=expires_at, order_id=payment.order_id,
                    order_number=payment.order_snapshot.get("order_number"), message=unit.message,
                    send_at=unit.send_at))
            issued.append(Issued(card=card, code=code))
        await self.session.flush()
        return issued

    async def check_sold_unused(self, order_id: uuid.UUID) -> None:
        """Refuse (409) to refund in full an order one of whose bought cards was spent."""
        if any(card.balance < card.initial_balance for card in await self.cards.lock_sold(order_id)):
            raise GiftCardAlreadyUsed()

    async def deactivate_sold(self, order_id: uuid.UUID) -> None:
        """The order that bought these cards was refunded in full: they pay nothing any more."""
        for card in await self.cards.lock_sold(order_id):
            if card.is_active:
                card.is_active = False
                card.updated_at = utcnow()
                await _changed(self.session, card, "deactivated", order_id=order_id)

    async def release(self, payment: PaymentRow) -> Decimal:
        """What `payment` holds goes back to its cards (it was cancelled); what was released."""
        released = ZERO
        for card_id, amount in (await self._outstanding(payment.id)).items():
            [card] = await self.cards.lock([card_id])
            await self._move(card, RELEASED, amount, payment_id=payment.id, order_id=payment.order_id)
            released += amount
        return released

    async def credit(self, payment: PaymentRow, amount: Decimal, refund_id: uuid.UUID) -> list[Held]:
        """`amount` of a refund of `payment` back to its cards: the card used last first, each up to
        what the payment took from it and has not given back."""
        left = quantize(amount)
        credited: list[Held] = []
        for card_id, outstanding in reversed(list((await self._outstanding(payment.id)).items())):
            if left <= 0:
                break
            value = min(outstanding, left)
            [card] = await self.cards.lock([card_id])
            await self._move(card, REFUNDED, value, payment_id=payment.id, order_id=payment.order_id,
                             refund_id=refund_id)
            credited.append(Held(card=card, amount=value))
            left -= value
        return credited

    async def held_by(self, payment_id: uuid.UUID) -> list[Held]:
        """The cards whose money `payment_id` holds now (taken, not released nor refunded), in the
        order it took them, and how much of each."""
        outstanding = await self._outstanding(payment_id)
        cards = {card.id: card for card in await self.cards.get_many(list(outstanding))}
        return [Held(card=cards[card_id], amount=value) for card_id, value in outstanding.items()]

    async def _outstanding(self, payment_id: uuid.UUID) -> dict[uuid.UUID, Decimal]:
        """Per card, in the order of use: what the payment took and has not given back yet."""
        out: dict[uuid.UUID, Decimal] = {}
        for tx in await self.cards.transactions_of_payment(payment_id):
            out[tx.gift_card_id] = out.get(tx.gift_card_id, ZERO) - tx.amount
        return {card_id: value for card_id, value in out.items() if value > 0}

    async def _move(self, card: GiftCard, kind: str, amount: Decimal, *, payment_id: uuid.UUID,
                    order_id: uuid.UUID, refund_id: uuid.UUID | None = None) -> None:
        now = utcnow()
        card.balance = quantize(card.balance) + amount
        card.updated_at = now
        self.cards.add_transaction(GiftCardTransaction(gift_card_id=card.id, kind=kind, amount=amount,
                                                       currency=card.currency, payment_id=payment_id,
                                                       order_id=order_id, refund_id=refund_id, created_at=now))
        await _changed(self.session, card, kind, order_id=order_id)
        await self.session.flush()


async def _changed(session: AsyncSession, card: GiftCard, change: str, *, order_id: uuid.UUID | None = None) -> None:
    await outbox.add(session, GiftCardChanged(storefront=card.storefront, gift_card_id=card.id, change=change,
                                              balance=quantize(card.balance), currency=card.currency,
                                              is_active=card.is_active, order_id=order_id))
