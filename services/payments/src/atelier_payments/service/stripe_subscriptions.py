"""Stripe's subscription events: `checkout.session.*` in subscription mode,
`customer.subscription.created/updated/deleted`, `invoice.paid` / `invoice.payment_succeeded` /
`invoice.payment_failed`.

Called by the webhook use case after it claimed the event id (exactly once per id). Exactly one
effect per fact, whatever the deliveries and their order, because no event is applied as a
transition: the user's row is locked first, then the subscription is retrieved from Stripe and
the row made equal to it (`SubscriptionService.apply_stripe`), so an older event can never write
older state, and an event that brings nothing new publishes nothing. Invoices are keyed by their
Stripe id (one row, one ledger entry). An event about a subscription we do not have yet (an
invoice before the checkout's completion) creates the user's row from the subscription's metadata.
"""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.contracts.identity import DEFAULT_STOREFRONT
from atelier_common.service import UseCase
from atelier_payments import domain
from atelier_payments.bootstrap import PaymentsContext
from atelier_payments.domain import STRIPE, StripeSubscription, StripeSubscriptionEvent
from atelier_payments.errors import InvalidWebhookPayload
from atelier_payments.models import Subscription
from atelier_payments.repository import SubscriptionRepository
from atelier_payments.service.subscriptions import INCOMPLETE, SubscriptionService

log = logging.getLogger("atelier.payments.subscriptions")


class StripeSubscriptionEvents(UseCase[PaymentsContext]):
    def __init__(self, session: AsyncSession, context: PaymentsContext) -> None:
        super().__init__(session, context)
        self.subscriptions = SubscriptionRepository(session)
        self.lifecycle = SubscriptionService(session, context)

    async def handle(self, event: dict[str, Any]) -> str:
        try:
            facts = domain.stripe_subscription_event(event)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise InvalidWebhookPayload(f"The {event.get('type')} event cannot be read") from exc
        if not facts.subscription_id:
            log.info("stripe %s %s names no subscription", facts.type, event.get("id"))
            return "ignored"
        user_id = facts.user_id or await self.subscriptions.user_of(
            STRIPE, subscription_id=facts.subscription_id, customer_id=facts.customer_id)
        seen: StripeSubscription | None = None
        if user_id is None:
            seen = await self._retrieve(facts)
            user_id = seen.user_id if seen else None
        if user_id is None:
            log.info("stripe %s %s: subscription %s is not one of ours", facts.type, event.get("id"),
                     facts.subscription_id)
            return "ignored"
        row = await self.subscriptions.lock(user_id)
        if row is None:
            row = await self._create_row(user_id, seen or await self._retrieve(facts))
            if row is None:
                return "ignored"
        # Retrieved under the lock: whoever holds it next retrieves later, so sees newer state.
        remote = await self._retrieve(facts)
        if remote is None:
            log.info("stripe %s %s: subscription %s is unknown to Stripe", facts.type, event.get("id"),
                     facts.subscription_id)
            return "ignored"
        await self.lifecycle.apply_stripe(row, remote)
        if facts.invoice is not None:
            await self.lifecycle.record_stripe_invoice(row, facts.invoice)
        return "processed"

    async def _retrieve(self, facts: StripeSubscriptionEvent) -> StripeSubscription | None:
        assert facts.subscription_id is not None
        remote = await self.lifecycle.stripe_provider().retrieve_subscription(facts.subscription_id)
        if remote is None and facts.type == "customer.subscription.deleted":
            # Gone at Stripe: the deleted event's own object is the final state.
            return facts.subscription
        return remote

    async def _create_row(self, user_id: uuid.UUID, remote: StripeSubscription | None) -> Subscription | None:
        """The user's first row, for a subscription not started by our checkout (or whose
        checkout row is gone); `apply_stripe` fills it."""
        plan = await self.lifecycle.plan_of(remote) if remote is not None and not remote.ended else None
        if remote is None or plan is None:
            log.warning("stripe subscription %s of user %s has no plan of ours; ignored",
                        remote.id if remote else None, user_id)
            return None
        return await self.subscriptions.lock_or_create(Subscription(
            user_id=user_id, storefront=remote.metadata.get("storefront") or DEFAULT_STOREFRONT,
            plan_id=uuid.UUID(str(plan["id"])), plan_sku=plan["sku"], tier=plan["tier"],
            monthly_quota=plan["monthly_quota"], amount=Decimal(plan["price"]), currency=plan["currency"],
            provider=STRIPE, status=INCOMPLETE, provider_customer_id=remote.customer_id))
