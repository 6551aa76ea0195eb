"""Payments' part of staff's picture of an order: its payments and refunds, with what is
refunded and what may still be; and a customer's plan, cancelled at period end or kept by
the customer's own rules. Who may read or write is the route's `RequireRole`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from atelier_common import audit
from atelier_common.auth import Principal
from atelier_common.service import UseCase
from atelier_payments import domain
from atelier_payments.bootstrap import PaymentsContext
from atelier_payments.errors import OrderNotFound, SubscriptionNotFound
from atelier_payments.models import LedgerEntry, Subscription
from atelier_payments.queries import PaymentQueries
from atelier_payments.repository import RefundRepository, SubscriptionRepository
from atelier_payments.schemas import OrderPaymentsRead, PaymentRead, StaffLedgerQuery, StaffRefundRead
from atelier_payments.service.subscriptions import INCOMPLETE, SubscriptionService


class StaffPayments(UseCase[PaymentsContext]):
    """An API key limited to some storefronts (`Principal.may_touch`) reads only their rows: another
    storefront's order is not found, lists leave its rows out (docs/security.md, "API keys")."""

    async def ledger(self, query: StaffLedgerQuery, staff: Principal, *, limit: int, offset: int
                     ) -> tuple[int, bool, Sequence[LedgerEntry]]:
        """(count, whether it is an estimate, the page): see `PaymentQueries.ledger_search`."""
        return await PaymentQueries(self.session).ledger_search(
            query, limit=limit, offset=offset, exact_count_limit=self.context.settings.exact_count_limit,
            estimates=self.context.estimates, storefronts=staff.storefronts)

    async def subscriptions(self, staff: Principal, *, customer: uuid.UUID | None, status: str | None, limit: int,
                            offset: int) -> tuple[int, Sequence[Subscription]]:
        return await PaymentQueries(self.session).subscriptions_page(user_id=customer, status=status, limit=limit,
                                                                      offset=offset, storefronts=staff.storefronts)

    async def of_order(self, order_id: uuid.UUID, staff: Principal) -> OrderPaymentsRead:
        payments = await PaymentQueries(self.session).of_order(order_id)
        if not payments or not staff.may_touch(payments[0].storefront):
            raise OrderNotFound()
        refunds = await RefundRepository(self.session).list_for_order(order_id)
        # What the order's own payment and its edits' supplementary ones have left.
        refundable = sum((domain.still_refundable(p, refunds) for p in domain.paying_payments(payments)),
                         Decimal("0"))
        return OrderPaymentsRead(
            order_id=order_id, payments=[PaymentRead.model_validate(p) for p in payments],
            refunds=[StaffRefundRead.model_validate(r) for r in refunds], total_refunded=domain.refunded_total(refunds),
            refundable=refundable)


class StaffSubscriptions(UseCase[PaymentsContext]):
    """`POST /api/v1/staff/subscriptions/{id}/cancel` and `/reactivate`: the customer's own
    `cancel`/`reactivate` rules on the plan's row (`subscription.changed` through the outbox, the
    provider told first with Stripe), and an audit row when something changed."""

    async def cancel(self, subscription_id: uuid.UUID, staff: Principal, *, reason: str | None = None
                     ) -> Subscription:
        subscription = await self._load(subscription_id, staff)
        before = subscription.cancel_at_period_end
        await SubscriptionService(self.session, self.context).cancel_at_period_end(subscription)
        return await self._recorded(subscription, staff, "subscription.cancel", before=before, reason=reason)

    async def reactivate(self, subscription_id: uuid.UUID, staff: Principal, *, reason: str | None = None
                         ) -> Subscription:
        subscription = await self._load(subscription_id, staff)
        before = subscription.cancel_at_period_end
        await SubscriptionService(self.session, self.context).keep_after_period_end(subscription)
        return await self._recorded(subscription, staff, "subscription.reactivate", before=before, reason=reason)

    async def _load(self, subscription_id: uuid.UUID, staff: Principal) -> Subscription:
        subscription = await SubscriptionRepository(self.session).lock_by_id(subscription_id)
        # A checkout never paid is no plan yet (as the customer's `_held` says).
        if subscription is None or subscription.status == INCOMPLETE or not staff.may_touch(subscription.storefront):
            raise SubscriptionNotFound()
        return subscription

    async def _recorded(self, subscription: Subscription, staff: Principal, action: str, *, before: bool,
                        reason: str | None) -> Subscription:
        if subscription.cancel_at_period_end != before:  # again (a double submit): no second row
            await audit.record(self.session, staff, action, "subscription", subscription.id, reason=reason,
                               before={"cancel_at_period_end": before},
                               after={"cancel_at_period_end": subscription.cancel_at_period_end,
                                      "user_id": subscription.user_id})
        return subscription
