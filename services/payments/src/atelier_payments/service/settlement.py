"""What happens when money moves: a payment succeeds, fails, or is refunded (wholly or in part).

Every route, webhook and event that learns such a fact ends here, so the effects (status,
ledger, outbox event) are written once, in the caller's transaction. Exactly once holds because
each status change is a guarded UPDATE (`PaymentRepository.transition`) and an order's payments
are settled one at a time (`lock_for_order`).

A payment is a row (`rows.PaymentRow`) here: a change is a statement that returns the row after
it, and a step that needs the payment as it is now reads it again under the lock (`relock`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import outbox
from atelier_common.contracts.payments import OrderEditPaid, OrderPaid, PaymentFailed, PaymentRefunded, PaymentReturned
from atelier_payments import domain, metrics
from atelier_payments.domain import REACHABLE_FROM, LedgerKind, PaymentStatus, RefundStatus
from atelier_payments.errors import PaymentProviderError
from atelier_payments.models import LedgerEntry, Refund, utcnow
from atelier_payments.providers import PaymentProvider, Providers
from atelier_payments.repository import (
    CheckoutSessionRepository,
    LedgerRepository,
    PaymentRepository,
    RefundRepository,
)
from atelier_payments.rows import EarlyRow, PaymentRow
from atelier_payments.service.gift_cards import GiftCardSpending

log = logging.getLogger("atelier.payments.settlement")
S = PaymentStatus
_NO_MONEY = {"amount": None, "currency": None}


@dataclass(frozen=True)
class Settling:
    """What `Settlement.succeed` did: whether it changed anything, and the payment after it."""

    changed: bool
    payment: PaymentRow


class Settlement:
    def __init__(self, session: AsyncSession, providers: Providers, *,
                 gift_card_validity_days: int | None = None) -> None:
        self.session = session
        self.providers = providers
        # How long a gift card bought in an order lasts (payments' `gift_card_validity_days`).
        self.gift_card_validity_days = gift_card_validity_days
        self.payments = PaymentRepository(session)
        self.ledger = LedgerRepository(session)
        self.checkouts = CheckoutSessionRepository(session)
        self.refunds = RefundRepository(session)
        self.gift_cards = GiftCardSpending(session)

    def provider_of(self, payment: PaymentRow) -> PaymentProvider:
        provider = self.providers.get(payment.provider)
        if provider is None:
            raise PaymentProviderError(f"The {payment.provider} provider is not configured")
        return provider

    async def succeed(self, payment: PaymentRow, *, charge_id: str | None = None,
                      intent_id: str | None = None, locked: Sequence[PaymentRow] | None = None,
                      customer_id: uuid.UUID | None = None) -> Settling:
        """The provider confirmed the money: whether this call changed anything, and the payment now.

        `locked`: the order's payments, already locked by the caller (`lock_for_event`). The rows
        read under the lock decide, not `payment`'s values.
        `customer_id`: the buyer's account as the provider names it (S0), told to identity.
        """
        order_payments = locked if locked is not None else await self.payments.lock_for_order(payment.order_id)
        current = next(p for p in order_payments if p.id == payment.id)
        was_canceled = current.status == S.CANCELED
        # An edit's supplementary payment competes only with that edit's others (paying its link twice
        # charges once); the order's own payments only with each other.
        settled_by_other = any(p.id != current.id and p.edit_id == current.edit_id
                               and (p.pays_order or p.status in (S.SUCCEEDED, S.REFUNDED)) for p in order_payments)
        # The order (or the edit) was cancelled, or another payment paid it: this money is not wanted.
        wanted = not (was_canceled or settled_by_other)
        charge = charge_id if charge_id and not current.provider_charge_id else current.provider_charge_id
        intent = intent_id if intent_id and not current.provider_intent_id else current.provider_intent_id
        # The entry is written with the change (one statement on PostgreSQL): from the row as it will be.
        # One entry per source of the money: the provider's part, and each gift card's.
        money = await self._payment_entries(replace(current, provider_charge_id=charge, provider_intent_id=intent))
        moved = await self.payments.settle(current, REACHABLE_FROM[S.SUCCEEDED], now=utcnow(), charge_id=charge,
                                           intent_id=intent, pays_order=current.pays_order or wanted, entry=money[0])
        if moved is None:
            return Settling(False, current)
        if money[1:]:
            await self.ledger.insert(money[1:])
        settled = moved.payment
        if not wanted:
            log.warning("payment %s of order %s is not needed; refunding it", settled.id, settled.order_id)
            await self._apply_early_refunds(settled)  # what the provider already gave back is not asked twice
            # Gift cards a cancellation released before this late success are theirs already:
            # only what the payment holds now goes back.
            kept = settled.amount - settled.gift_card_amount + sum(
                (h.amount for h in await self.gift_cards.held_by(settled.id)), Decimal("0.00"))
            await self.refund(await self.payments.relock(settled), amount=kept if kept < settled.amount else None)
            return Settling(True, await self.payments.relock(settled))
        entries: list[dict[str, Any]] = []
        for grant in domain.credit_grants(domain.snapshot_lines(settled.order_snapshot)):
            entries.append({**_NO_MONEY, "id": uuid.uuid4(), "owner_id": settled.owner_id, "user_id": settled.user_id,
                            "storefront": settled.storefront, "kind": LedgerKind.CREDIT_PURCHASE.value,
                            "credits": grant.credits,
                            "payment_id": settled.id, "order_id": settled.order_id, "reference_id": grant.sku,
                            "description": f"Purchased {grant.credits} credits ({grant.sku})", "created_at": utcnow()})
        if entries:
            await self.ledger.insert(entries)
        if settled.edit_id is None:
            # Issued with the transition that settles the payment, so a redelivered confirmation
            # (which moves nothing) issues nothing; the order unit's unique key stands behind it.
            await self.gift_cards.issue_sold(settled, validity_days=self.gift_card_validity_days)
        if settled.edit_id is not None:
            await outbox.add(self.session, OrderEditPaid(
                storefront=settled.storefront, order_id=settled.order_id,
                order_number=settled.order_snapshot.get("order_number"), edit_id=settled.edit_id,
                owner_id=settled.owner_id, user_id=settled.user_id, amount=settled.amount, currency=settled.currency,
                payment_id=settled.id, provider=settled.provider))
        else:
            await outbox.add(self.session, OrderPaid(
                storefront=settled.storefront, order_id=settled.order_id,
                order_number=settled.order_snapshot.get("order_number"),
                owner_id=settled.owner_id, user_id=settled.user_id,
                anon_id=settled.anon_id if settled.user_id is None else None,
                amount=settled.amount, currency=settled.currency, payment_id=settled.id, provider=settled.provider,
                lines=domain.snapshot_lines(settled.order_snapshot), buyer=domain.snapshot_buyer(settled.order_snapshot),
                customer_id=customer_id, register_buyer=domain.snapshot_registers_buyer(settled.order_snapshot)))
        metrics.paid_when_committed(self.session, storefront=settled.storefront, currency=settled.currency,
                                    amount=settled.amount)
        await self.session.flush()
        if moved.kept_refunds and (early := await self.refunds.take_early(settled.id)):
            await self._apply_early_refunds(settled, early)
            settled = await self.payments.relock(settled)
        return Settling(True, settled)

    async def fail(self, payment: PaymentRow, reason: str | None) -> bool:
        if await self.payments.transition(payment, S.FAILED, REACHABLE_FROM[S.FAILED],
                                          failure_reason=(reason or "")[:500] or None) is None:
            return False
        await outbox.add(self.session, PaymentFailed(order_id=payment.order_id, payment_id=payment.id, reason=reason))
        return True

    async def processing(self, payment: PaymentRow) -> bool:
        return await self.payments.transition(payment, S.PROCESSING, REACHABLE_FROM[S.PROCESSING]) is not None

    async def cancel(self, payment: PaymentRow) -> bool:
        """The payment will not be paid: what it held of gift cards goes back to them."""
        if await self.payments.transition(payment, S.CANCELED, REACHABLE_FROM[S.CANCELED]) is None:
            return False
        if payment.provider_session_id:
            await self.checkouts.close(payment.provider_session_id, "expired")
        if payment.gift_card_amount > 0:
            await self.gift_cards.release(payment)
        await self.provider_of(payment).cancel(payment)
        return True

    async def refund(self, payment: PaymentRow, *, amount: Decimal | None = None, reason: str = "",
                     staff_id: uuid.UUID | None = None, return_id: uuid.UUID | None = None) -> Refund | None:
        """Give `amount` (omitted: all that remains) of a succeeded payment back through its provider.

        The caller holds the order's payments locked (`lock_for_order`). Pending refunds count
        against what remains, so a refund awaiting its webhook is never asked for twice. Returns
        the refund, or None when nothing may be refunded.
        """
        if payment.status != S.SUCCEEDED:
            return None
        remaining = domain.refundable(payment.amount, await self.refunds.total(payment.id, domain.RESERVED))
        value = domain.refund_amount(amount, remaining)
        if value is None:
            return None
        # The provider gives back first, up to what it took; the rest goes back to the gift cards.
        split = domain.split_refund(value, provider_paid=payment.amount - payment.gift_card_amount,
                                    provider_refunded=await self.refunds.provider_total(payment.id, domain.RESERVED))
        refund = Refund(payment_id=payment.id, order_id=payment.order_id, storefront=payment.storefront, amount=value,
                        currency=payment.currency, reason=reason, provider=payment.provider, staff_id=staff_id,
                        return_id=return_id, gift_card_amount=split.gift_cards)
        self.refunds.add(refund)
        await self.session.flush()
        if split.provider <= 0:  # all of it to gift cards: nothing to ask a provider
            await self.refund_succeeded(payment, refund)
            return refund
        made = await self.provider_of(payment).refund(payment, _provider_part(refund, split.provider))
        refund.provider_refund_id = made.id
        # The payment names its latest refund at the provider.
        payment = await self.payments.update_ids(payment, provider_refund_id=made.id)
        if made.succeeded:
            await self.refund_succeeded(payment, refund)
        return refund

    async def refund_succeeded(self, payment: PaymentRow, refund: Refund) -> bool:
        """The money of `refund` is back with the buyer: ledger entry, event, and the payment is
        `refunded` once refunds add up to what it paid. Once per refund (guarded UPDATE)."""
        if not await self.refunds.transition(refund, RefundStatus.SUCCEEDED, {RefundStatus.PENDING}):
            return False
        total = await self.refunds.total(payment.id, {RefundStatus.SUCCEEDED})
        is_full = total >= payment.amount
        if is_full:
            await self.payments.transition(payment, S.REFUNDED, REACHABLE_FROM[S.REFUNDED])
        # The order is refunded in full only once every payment that paid it (its own, its edits'
        # supplementary ones) is: orders reads `is_full` as the order's.
        order_full = is_full and not any(
            p.id != payment.id and p.pays_order and p.status == S.SUCCEEDED
            for p in await self.payments.lock_for_order(payment.order_id))
        number = payment.order_snapshot.get('order_number') or payment.order_id
        if (provider_part := refund.amount - refund.gift_card_amount) > 0:
            self._record(payment, LedgerKind.REFUND, -provider_part, f"Refund for order {number}"
                         + ("" if is_full else f" (partial, {provider_part} {refund.currency})"))
        if refund.gift_card_amount > 0:
            for back in await self.gift_cards.credit(payment, refund.gift_card_amount, refund.id):
                self.ledger.add(LedgerEntry(**{
                    **self._entry(payment, LedgerKind.REFUND, -back.amount,
                                  f"Refund for order {number} to gift card ****{back.card.last4}"),
                    "reference_id": _card_reference(back.card.id)}))
        if order_full and payment.pays_order:
            # An order refunded whole takes back the gift cards it bought.
            await self.gift_cards.deactivate_sold(payment.order_id)
        if payment.pays_order:
            # Only the payment that paid the order refunds it; a duplicate's refund is ours alone.
            await outbox.add(self.session, PaymentRefunded(
                storefront=payment.storefront, order_id=payment.order_id, payment_id=payment.id, amount=refund.amount,
                currency=refund.currency,
                refund_id=refund.id, total_refunded=total, is_full=order_full, reason=refund.reason or None,
                return_id=refund.return_id))
            metrics.refunded_when_committed(self.session, storefront=payment.storefront, currency=refund.currency,
                                            amount=refund.amount)
        else:
            # Money the order never took (paid after its cancellation, or twice): orders notes it.
            await outbox.add(self.session, PaymentReturned(
                order_id=payment.order_id, payment_id=payment.id, amount=refund.amount, currency=refund.currency,
                refund_id=refund.id, is_full=is_full))
        await self.session.flush()
        return True

    async def refund_failed(self, payment: PaymentRow, refund: Refund, reason: str | None) -> bool:
        """The provider could not give the money back. A pending refund had no ledger entry and
        no event: it is only marked failed (its amount may be refunded again). A refund that had
        succeeded and fails later (a bank returns it) gets a reversing ledger entry."""
        failure = (reason or "")[:500] or None
        if await self.refunds.transition(refund, RefundStatus.FAILED, {RefundStatus.PENDING}, failure_reason=failure):
            return True
        if not await self.refunds.transition(refund, RefundStatus.FAILED, {RefundStatus.SUCCEEDED},
                                             failure_reason=failure):
            return False
        log.error("refund %s of payment %s failed after it had succeeded (%s); ledger reversed", refund.id,
                  payment.id, reason)
        # Only the provider's part can fail: what went back to gift cards stays there.
        self._record(payment, LedgerKind.REFUND, refund.amount - refund.gift_card_amount,
                     f"Refund for order {payment.order_snapshot.get('order_number') or payment.order_id} failed")
        await self.session.flush()
        return True

    async def refund_event(self, payment: PaymentRow, provider_refund_id: str | None, *, succeeded: bool,
                           amount: Decimal | None, reason: str | None) -> bool:
        """A provider's Refund object settled (Stripe `charge.refund.updated`, `refund.updated`,
        `refund.failed`). A refund we did not ask for (made in the provider's dashboard) that
        succeeded is recorded, up to what remains of the payment. Before the payment's success:
        kept for it (`_keep_early`)."""
        payment = await self.payments.relock(payment)
        if succeeded and await self._keep_early(payment, provider_refund_id, amount):
            return True
        refund = await self.refunds.by_provider_id(payment.provider, provider_refund_id) if provider_refund_id else None
        if refund is None:
            if not succeeded or not provider_refund_id:
                return False
            refund = await self._provider_made(payment, amount, provider_refund_id)
            if refund is None:
                return False
        if succeeded:
            return await self.refund_succeeded(payment, refund)
        return await self.refund_failed(payment, refund, reason)

    async def refunded(self, payment: PaymentRow, *, refund_id: str | None = None) -> bool:
        """The provider says the payment is refunded entirely (Stripe `charge.refunded`): its
        pending refunds succeeded; without any, what remains was refunded at the provider.
        Before the payment's success: kept for it (`_keep_early`)."""
        payment = await self.payments.relock(payment)
        if await self._keep_early(payment, refund_id, None):
            return True
        pending = await self.refunds.pending_of(payment.id)
        if not pending:
            made = await self._provider_made(payment, None, refund_id)
            pending = [made] if made is not None else []
        changed = False
        for refund in pending:
            changed = await self.refund_succeeded(payment, refund) or changed
        return changed

    async def _keep_early(self, payment: PaymentRow, provider_refund_id: str | None, amount: Decimal | None) -> bool:
        """A refund reported while the payment has not succeeded yet but still may (the provider's
        events crossed): keep it, so that the success applies it. Whether it was kept. The caller
        holds the order's payments locked, so a success being settled is seen."""
        if payment.status not in REACHABLE_FROM[S.SUCCEEDED]:
            return False
        log.info("refund %s of payment %s (%s) reported before its success; kept for it", provider_refund_id,
                 payment.id, payment.status)
        await self.refunds.keep_early(payment.id, provider_refund_id, amount)
        return True

    async def _apply_early_refunds(self, payment: PaymentRow, taken: Sequence[EarlyRow] | None = None) -> None:
        """The payment just succeeded: the refunds reported before (`taken`, else read now), in the
        order they came, as if they came now (ledger, `payment.refunded` after `order.paid`)."""
        for early in taken if taken is not None else await self.refunds.take_early(payment.id):
            if early.amount is None:
                await self.refunded(payment, refund_id=early.provider_refund_id)
            else:
                await self.refund_event(payment, early.provider_refund_id, succeeded=True, amount=early.amount,
                                        reason=None)

    async def _provider_made(self, payment: PaymentRow, amount: Decimal | None,
                             provider_refund_id: str | None) -> Refund | None:
        if payment.status != S.SUCCEEDED:
            return None
        # The provider can only have given back what it took (gift cards paid the rest).
        remaining = min(domain.refundable(payment.amount, await self.refunds.total(payment.id, domain.RESERVED)),
                        domain.refundable(payment.amount - payment.gift_card_amount,
                                          await self.refunds.provider_total(payment.id, domain.RESERVED)))
        value = min(amount, remaining) if amount is not None else remaining
        if value <= 0:
            return None
        refund = Refund(payment_id=payment.id, order_id=payment.order_id, storefront=payment.storefront, amount=value,
                        currency=payment.currency, reason="Refunded at the provider", provider=payment.provider,
                        provider_refund_id=provider_refund_id)
        self.refunds.add(refund)
        await self.session.flush()
        return refund

    async def _payment_entries(self, payment: PaymentRow) -> list[dict[str, Any]]:
        """The ledger entries of a payment's success: the provider's part (none when gift cards paid
        it all), then each gift card's, named by the card (`reference_id` `gift_card:<id>`)."""
        number = payment.order_snapshot.get('order_number') or payment.order_id
        entries = []
        if payment.amount - payment.gift_card_amount > 0 or payment.gift_card_amount <= 0:
            entries.append(self._entry(payment, LedgerKind.PAYMENT, payment.amount - payment.gift_card_amount,
                                       f"Payment for order {number}"))
        if payment.gift_card_amount > 0:
            for used in await self.gift_cards.held_by(payment.id):
                entries.append({**self._entry(payment, LedgerKind.PAYMENT, used.amount,
                                              f"Payment for order {number} by gift card ****{used.card.last4}"),
                                "reference_id": _card_reference(used.card.id)})
        return entries

    def _record(self, payment: PaymentRow, kind: LedgerKind, amount: Decimal, description: str) -> None:
        self.ledger.add(LedgerEntry(**self._entry(payment, kind, amount, description)))

    @staticmethod
    def _entry(payment: PaymentRow, kind: LedgerKind, amount: Decimal, description: str) -> dict[str, Any]:
        """A money entry of `payment`, as the columns of `LedgerEntry`."""
        reference = payment.provider_intent_id or payment.provider_session_id or payment.provider_charge_id
        return {"id": uuid.uuid4(), "owner_id": payment.owner_id, "user_id": payment.user_id,
                "storefront": payment.storefront, "kind": kind.value,
                "amount": amount, "currency": payment.currency, "credits": None, "payment_id": payment.id,
                "order_id": payment.order_id, "reference_id": reference, "description": description,
                "created_at": utcnow()}


def _card_reference(card_id: uuid.UUID) -> str:
    return f"gift_card:{card_id}"


def _provider_part(refund: Refund, amount: Decimal) -> Refund:
    """What the provider is asked to give back of `refund`: the same refund (its id keeps the
    provider's call idempotent), for its provider part only. Not added to the session."""
    return Refund(id=refund.id, payment_id=refund.payment_id, order_id=refund.order_id, storefront=refund.storefront,
                  amount=amount, currency=refund.currency, reason=refund.reason, provider=refund.provider,
                  staff_id=refund.staff_id, return_id=refund.return_id)
