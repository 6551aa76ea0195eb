"""Starting payments: intents, checkout sessions, credit-pack purchases, client confirmation.

The amount is always the order's total as orders reports it; nothing the client sends
changes it. Another owner's order is not found (404).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import payment_links
from atelier_common.auth import Principal
from atelier_common.money import quantize
from atelier_common.service import UseCase
from atelier_common.storefronts import Storefront
from atelier_payments import domain
from atelier_payments.bootstrap import PaymentsContext
from atelier_payments.domain import OPEN_STATUSES, OrderView, PaymentKind, PaymentStatus
from atelier_payments.errors import (
    GiftCardInvalid,
    OrderAlreadyPaid,
    OrderNotFound,
    OrderNotPayable,
    PaymentNotCompleted,
    PaymentNotFound,
)
from atelier_payments.models import utcnow
from atelier_payments.providers import ChargeRequest, PaymentProvider
from atelier_payments.queries import PaymentQueries
from atelier_payments.repository import PaymentRepository
from atelier_payments.rows import CheckoutRow, PaymentRow
from atelier_payments.service.gift_cards import GiftCardSpending, guesses
from atelier_payments.service.settlement import Settlement

S = PaymentStatus


@dataclass(frozen=True)
class StartedIntent:
    payment: PaymentRow
    client_secret: str
    intent_id: str
    status: str


@dataclass(frozen=True)
class StartedCheckout:
    payment: PaymentRow
    # None: gift cards paid the whole order, no provider page.
    session_id: str | None
    url: str


@dataclass(frozen=True)
class Confirmed:
    payment: PaymentRow
    intent_id: str


class PaymentService(UseCase[PaymentsContext]):
    def __init__(self, session: AsyncSession, context: PaymentsContext) -> None:
        super().__init__(session, context)
        self.payments = PaymentRepository(session)
        self.settlement = Settlement(session, context.providers,
                                gift_card_validity_days=context.settings.gift_card_validity_days)

    async def start_intent(self, principal: Principal, order_id: uuid.UUID) -> StartedIntent:
        order = await self._payable_order(principal, order_id)
        provider = self.context.providers.default
        if existing := await self.payments.get_open_intent(order.id, provider.name):
            if reused := await self._reuse_intent(provider, existing):
                return reused
        payment = self._new_payment(order, provider, PaymentKind.INTENT)
        if not await self.payments.insert_if_no_open_intent(payment):
            # A concurrent request of the same order won: its intent is the order's.
            existing = await self.payments.get_open_intent(order.id, provider.name)
            if existing is not None and (reused := await self._reuse_intent(provider, existing)):
                return reused
            raise OrderNotPayable("A payment of this order is already being started; try again")
        return await self._create_intent(provider, payment)

    async def _create_intent(self, provider: PaymentProvider, payment: PaymentRow) -> StartedIntent:
        storefront = await self.context.storefront(payment.storefront)
        intent = await provider.create_intent(self._charge(payment, storefront))
        payment = await self.payments.update_ids(payment, provider_intent_id=intent.id, status=S.REQUIRES_PAYMENT)
        return StartedIntent(payment=payment, client_secret=intent.client_secret, intent_id=intent.id,
                             status=intent.provider_status)

    async def _reuse_intent(self, provider: PaymentProvider, payment: PaymentRow) -> StartedIntent | None:
        if not payment.provider_intent_id:
            # Same idempotency key as the first attempt: the provider answers with that intent.
            return await self._create_intent(provider, payment)
        intent = await provider.retrieve_intent(payment)
        if intent.status == S.SUCCEEDED:
            # The webhook has not arrived yet: settle now, the client sees a finished intent.
            payment = (await self.settlement.succeed(payment, charge_id=intent.charge_id)).payment
        elif intent.status not in OPEN_STATUSES:
            await self.settlement.cancel(payment)
            return None
        return StartedIntent(payment=payment, client_secret=intent.client_secret, intent_id=intent.id,
                             status=intent.provider_status)

    async def start_checkout(self, principal: Principal, order_id: uuid.UUID, *, success_url: str,
                             cancel_url: str, gift_cards: Sequence[str] = (),
                             address: str | None = None, payment_token: str | None = None,
                             edit_id: uuid.UUID | None = None) -> StartedCheckout:
        """A checkout page for the order; it returns to the order's storefront's success and cancel
        pages when the storefront names them, else to `success_url` / `cancel_url`.

        `gift_cards` pay first (`GiftCardSpending.hold`, the cards locked until the commit, so a
        parallel checkout spending the same card sees what this one left); the provider's page is
        for the rest. Cards that cover the whole total pay the order now, through the same
        settlement (and `order.paid`) a provider's payment takes. Wrong codes count as guesses
        of the caller and of `address`. `payment_token`: a payment link's
        (`atelier_common.payment_links`), which pays that one order whoever asks.

        `edit_id`: a supplementary payment of what that edit of the (paid) order leaves due, not of
        the order's total; its link's token is signed for the edit. No gift cards for it."""
        if edit_id is not None:
            if gift_cards:
                raise OrderNotPayable("Gift cards pay an order, not what an edit of it leaves due",
                                      details={"reason": "gift_cards_on_edit"})
            order = await self._payable_edit(principal, order_id, edit_id, payment_token=payment_token)
            return await self._checkout(order, success_url=success_url, cancel_url=cancel_url, edit_id=edit_id)
        order = await self._payable_order(principal, order_id, payment_token=payment_token)
        if not gift_cards:
            return await self._checkout(order, success_url=success_url, cancel_url=cancel_url)
        payment_id = uuid.uuid4()
        # The order's payments first, then the cards: the order in which a cancellation (or a
        # refund) of this order takes them, so the two queue instead of deadlocking.
        for earlier in await self.payments.lock_for_order(order.id):
            # A checkout started again (another tab, a retry without its key): the cards are held
            # once, for this one. An earlier page still paid is refunded what its provider took.
            if earlier.gift_card_amount > 0 and earlier.status in domain.ABANDONABLE:
                await self.settlement.cancel(earlier)
        async with guesses(self.context).typed(principal.owner_id, address, GiftCardInvalid):
            held = await GiftCardSpending(self.session).hold(
                gift_cards, storefront=order.storefront, currency=order.currency, order_id=order.id,
                payment_id=payment_id, amount=order.total_amount)
        covered = sum((h.amount for h in held), Decimal("0.00"))
        if covered >= quantize(order.total_amount):
            return await self._paid_by_gift_cards(order, payment_id, covered, success_url, cancel_url)
        return await self._checkout(order, success_url=success_url, cancel_url=cancel_url, payment_id=payment_id,
                                    gift_card_amount=covered)

    async def _paid_by_gift_cards(self, order: OrderView, payment_id: uuid.UUID, covered: Decimal, success_url: str,
                                  cancel_url: str) -> StartedCheckout:
        storefront = await self.context.storefront(order.storefront)
        success_url, _ = domain.checkout_redirects(storefront, success_url, cancel_url)
        payment = replace(new_payment(order, domain.GIFT_CARD, PaymentKind.CHECKOUT, S.CREATED), id=payment_id,
                          gift_card_amount=covered)
        await self.payments.insert(payment)
        settled = (await self.settlement.succeed(payment)).payment
        return StartedCheckout(payment=settled, session_id=None,
                               url=success_url.replace("{CHECKOUT_SESSION_ID}", str(payment.id)))

    async def purchase_credits(self, principal: Principal, sku: str, storefront: Storefront) -> StartedCheckout:
        """S2: a credit pack bought through a checkout page; orders prices it from the catalog, as
        an order of the request's `storefront`."""
        order = await self.context.orders.create_for_sku(owner_id=principal.owner_id, user_id=principal.user_id,
                                                         sku=sku, storefront=storefront.slug)
        settings = self.context.settings
        return await self._checkout(order, success_url=settings.credits_success_url,
                                    cancel_url=settings.credits_cancel_url)

    async def _checkout(self, order: OrderView, *, success_url: str, cancel_url: str,
                        payment_id: uuid.UUID | None = None, gift_card_amount: Decimal = Decimal("0.00"),
                        edit_id: uuid.UUID | None = None) -> StartedCheckout:
        provider = self.context.providers.default
        payment = replace(self._new_payment(order, provider, PaymentKind.CHECKOUT), id=payment_id or uuid.uuid4(),
                          gift_card_amount=gift_card_amount, edit_id=edit_id)
        storefront = await self.context.storefront(payment.storefront)
        success_url, cancel_url = domain.checkout_redirects(storefront, success_url, cancel_url)
        checkout = await provider.create_checkout(self._charge(payment, storefront), success_url=success_url,
                                                  cancel_url=cancel_url)
        # Written once the provider answered, with its ids: one INSERT where an INSERT and an UPDATE
        # were (the provider call is inside the transaction either way; a failure rolls back).
        payment = replace(payment, provider_session_id=checkout.id, provider_intent_id=checkout.intent_id,
                          status=S.REQUIRES_PAYMENT.value)
        page = None
        if checkout.hosted_here and checkout.expires_at is not None:
            page = CheckoutRow(id=checkout.id, payment_id=payment.id, order_id=order.id,
                               storefront=payment.storefront, amount=payment.amount - payment.gift_card_amount,
                               currency=payment.currency,
                               success_url=success_url, cancel_url=cancel_url, status="open",
                               expires_at=checkout.expires_at, created_at=utcnow())
        await self.payments.insert(payment, page)
        return StartedCheckout(payment=payment, session_id=checkout.id, url=checkout.url)

    async def confirm(self, principal: Principal, order_id: uuid.UUID, intent_id: str) -> Confirmed:
        """S3: the client says it paid; the provider's intent decides."""
        payment = await self.payments.get_owned_by_intent(_owner_ids(principal), order_id, intent_id)
        if payment is None:
            raise PaymentNotFound()
        intent = await self.settlement.provider_of(payment).retrieve_intent(payment)
        if intent.status == S.SUCCEEDED and domain.intent_amount_matches(intent.amount_minor, intent.currency,
                                                                         payment.amount, payment.currency):
            settling = await self.settlement.succeed(payment, charge_id=intent.charge_id)
            return Confirmed(payment=settling.payment, intent_id=intent_id)
        if payment.status in (S.SUCCEEDED, S.REFUNDED):
            return Confirmed(payment=payment, intent_id=intent_id)
        raise PaymentNotCompleted(details={"status": intent.provider_status})

    async def of_order(self, order_id: uuid.UUID) -> list[PaymentRow]:
        """Every payment of an order, oldest first (other services, through /internal)."""
        return await PaymentQueries(self.session).of_order(order_id)

    async def _payable_order(self, principal: Principal, order_id: uuid.UUID, *,
                             payment_token: str | None = None) -> OrderView:
        order = await self.context.orders.get(order_id)
        linked = payment_token is not None and payment_links.verify(self.context.settings.service_token, order_id,
                                                                    payment_token)
        if order is None or not (linked or domain.owns(order.owner_id, principal.user_id, principal.anon_id)):
            raise OrderNotFound()
        if not order.is_payable:
            raise OrderNotPayable(details={"status": order.status})
        if await self.payments.already_paid(order.id):
            raise OrderAlreadyPaid(details={"status": "paid"})
        return order

    async def _payable_edit(self, principal: Principal, order_id: uuid.UUID, edit_id: uuid.UUID, *,
                            payment_token: str | None) -> OrderView:
        """The order as a supplementary payment charges it: its total is what the edit leaves due,
        its lines none (an edit adds goods from stock: no credits to grant). The edit's own link
        (signed for the edit's id) or the order's owner may pay it, once: an edit whose supplementary
        payment succeeded is paid (409), and one no longer waiting for it is not payable (409)."""
        edit = await self.context.orders.edit(order_id, edit_id)
        linked = payment_token is not None and payment_links.verify(self.context.settings.service_token, edit_id,
                                                                    payment_token)
        if edit is None or not (linked or domain.owns(edit.order.owner_id, principal.user_id, principal.anon_id)):
            raise OrderNotFound()
        if any(p.edit_id == edit_id and (p.pays_order or p.status in (S.SUCCEEDED, S.REFUNDED))
               for p in await PaymentQueries(self.session).of_order(order_id)):
            raise OrderAlreadyPaid("This edit of the order is already paid", details={"status": "paid"})
        if not edit.is_payable:
            raise OrderNotPayable("This edit of the order does not wait for a payment",
                                  details={"status": edit.status})
        return replace(edit.order, total_amount=edit.amount_due, currency=edit.currency, lines=[])

    @staticmethod
    def _new_payment(order: OrderView, provider: PaymentProvider, kind: PaymentKind) -> PaymentRow:
        return new_payment(order, provider.name, kind, S.CREATED)

    @staticmethod
    def _charge(payment: PaymentRow, storefront: Storefront | None) -> ChargeRequest:
        """What the provider is asked to charge: the order's total less what gift cards paid, in its
        currency, with the statement descriptor of the payment's `storefront` (None: the account's own)."""
        buyer = domain.snapshot_buyer(payment.order_snapshot)
        return ChargeRequest(payment_id=payment.id, order_id=payment.order_id,
                             order_number=payment.order_snapshot.get("order_number"),
                             amount=Decimal(payment.amount) - Decimal(payment.gift_card_amount),
                             currency=payment.currency,
                             email=buyer.email if buyer else None, storefront=payment.storefront,
                             statement_descriptor=domain.statement_descriptor_suffix(
                                 storefront.statement_descriptor if storefront else None))


def new_payment(order: OrderView, provider: str, kind: PaymentKind, status: PaymentStatus) -> PaymentRow:
    """A payment of the order's total, not written yet."""
    now = utcnow()
    return PaymentRow(id=uuid.uuid4(), order_id=order.id, owner_id=order.owner_id, user_id=order.user_id,
                      anon_id=order.owner_id if order.user_id is None else None, storefront=order.storefront,
                      provider=provider, kind=kind.value, provider_intent_id=None, provider_session_id=None,
                      provider_charge_id=None, provider_refund_id=None, amount=order.total_amount,
                      currency=order.currency, status=status.value, failure_reason=None, pays_order=False,
                      order_snapshot=domain.order_snapshot(order), created_at=now, updated_at=now,
                      gift_card_amount=Decimal("0.00"))


def _owner_ids(principal: Principal) -> list[uuid.UUID]:
    return [i for i in (principal.user_id, principal.anon_id) if i is not None]
