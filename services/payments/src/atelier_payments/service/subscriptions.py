"""Subscriptions (S4): plans from catalog, a user's plan and its lifecycle, invoices, the quota.

One `subscription` row per user mirrors the provider's subscription. Every change publishes
`subscription.changed` through the outbox (generation keeps the tier and the quota from it);
every paid invoice is a ledger entry. The local provider's lifecycle (checkout, renewals,
failures, the end of a cancelled period) is driven by the dev routes and the CLI. With Stripe,
checkout, portal, cancel and reactivate call Stripe, and the row is a copy of Stripe's
subscription (`apply_stripe`), written from what Stripe answers and from its webhooks
(`service/stripe_subscriptions.py`).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import outbox
from atelier_common.columns import utcnow
from atelier_common.contracts.payments import SubscriptionChanged
from atelier_common.service import UseCase
from atelier_common.storefronts import Storefront
from atelier_payments.bootstrap import PaymentsContext
from atelier_payments.domain import (
    LOCAL,
    NO_QUOTA,
    STRIPE,
    LedgerKind,
    StripeInvoice,
    StripeSubscription,
    checkout_redirects,
    plan_quota,
    to_minor_units,
)
from atelier_payments.errors import (
    AlreadySubscribed,
    InvalidSubscriptionState,
    PaymentProviderError,
    PlanNotFound,
    ServiceDependencyUnavailable,
    SubscriptionNotFound,
)
from atelier_payments.models import LedgerEntry, Subscription, SubscriptionInvoice
from atelier_payments.providers.stripe import StripeProvider
from atelier_payments.repository import SubscriptionRepository

FREE_TIER = "free"
INCOMPLETE, ACTIVE, PAST_DUE, CANCELED = "incomplete", "active", "past_due", "canceled"
# A plan the user holds (a new checkout answers 409 ALREADY_SUBSCRIBED).
HOLDING = (ACTIVE, PAST_DUE)


def plan_view(product: dict[str, Any]) -> dict[str, Any]:
    attributes = product.get("attributes") or {}
    quota = int(attributes.get("monthly_quota") or 0)
    features = [f"{quota} generations a month"]
    if attributes.get("tier") == "studio":
        features.append("Premium gallery access")
    return {"id": product["id"], "sku": product["sku"], "name": product["name"],
            "tier": attributes.get("tier") or FREE_TIER, "interval": attributes.get("interval") or "month",
            "monthly_quota": quota, "price": str(product["price"]), "currency": product["currency"],
            "features": features, "provider_price_id": attributes.get("provider_price_id") or None}


def holds_plan(subscription: Subscription | None, now: datetime) -> bool:
    """The user has the plan's tier now: active (or past due) and inside the paid period."""
    return (subscription is not None and subscription.status in HOLDING
            and (subscription.current_period_end is None or subscription.current_period_end > now))


@dataclass(frozen=True)
class LocalCheckoutView:
    subscription: Subscription
    plan_name: str
    period_days: int
    success_url: str
    cancel_url: str
    # The name of the storefront the plan is subscribed on.
    storefront_name: str


class SubscriptionService(UseCase[PaymentsContext]):
    def __init__(self, session: AsyncSession, context: PaymentsContext) -> None:
        super().__init__(session, context)
        self.subscriptions = SubscriptionRepository(session)

    # -- reading -------------------------------------------------------------------------------

    async def plans(self) -> list[dict[str, Any]]:
        if self.context.catalog is None:
            raise ServiceDependencyUnavailable()
        return [plan_view(p) for p in await self.context.catalog.plans()]

    async def plan(self, plan_ref: str) -> dict[str, Any]:
        """A plan by its product id or its SKU."""
        for plan in await self.plans():
            if plan_ref in (str(plan["id"]), plan["sku"]):
                return plan
        raise PlanNotFound(details={"plan_id": plan_ref})

    async def _get(self, user_id: uuid.UUID, *, for_update: bool = False) -> Subscription | None:
        stmt = select(Subscription).where(col(Subscription.user_id) == user_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalars().first()

    async def _held(self, user_id: uuid.UUID) -> Subscription:
        subscription = await self._get(user_id, for_update=True)
        if subscription is None or subscription.status == INCOMPLETE:
            raise SubscriptionNotFound()
        return subscription

    async def current(self, user_id: uuid.UUID) -> dict[str, Any]:
        subscription = await self._get(user_id)
        if self.context.generation is None:
            raise ServiceDependencyUnavailable()
        counted = await self.context.generation.quota(user_id)
        if subscription is None or subscription.status == INCOMPLETE:
            return {"plan_id": None, "tier": FREE_TIER, "status": None, "current_period_start": None,
                    "current_period_end": None, "cancel_at_period_end": False, "quota": dict(NO_QUOTA)}
        held = holds_plan(subscription, utcnow())
        # The plan's quota is shown with the plan, whether or not generation has heard of it yet.
        quota = (plan_quota(subscription.monthly_quota, subscription.current_period_end, counted) if held
                 else dict(NO_QUOTA))
        return {"plan_id": subscription.plan_sku if held else None,
                "tier": subscription.tier if held else FREE_TIER,
                "status": subscription.status if held or subscription.status == CANCELED else CANCELED,
                "current_period_start": subscription.current_period_start,
                "current_period_end": subscription.current_period_end,
                "cancel_at_period_end": subscription.cancel_at_period_end, "quota": quota}

    async def as_told(self, user_id: uuid.UUID) -> tuple[SubscriptionChanged, datetime]:
        """The user's plan as `subscription.changed` tells it, and when the row last changed (every
        later change's event is later): generation asks it when a job's charge would be refused
        before the event has reached it. `SubscriptionNotFound` while there is no plan (none, or a
        checkout not paid: no event tells those)."""
        subscription = await self._get(user_id)
        if subscription is None or subscription.status == INCOMPLETE:
            raise SubscriptionNotFound()
        return _told(subscription), subscription.updated_at

    async def history(self, user_id: uuid.UUID, *, limit: int, offset: int
                      ) -> tuple[int, list[SubscriptionInvoice]]:
        where = col(SubscriptionInvoice.user_id) == user_id
        count = (await self.session.execute(select(func.count()).select_from(SubscriptionInvoice).where(where)
                                            )).scalar_one()
        rows = (await self.session.execute(
            select(SubscriptionInvoice).where(where)
            # Provider times are whole seconds: the later period first among invoices of one second.
            .order_by(col(SubscriptionInvoice.created_at).desc(), col(SubscriptionInvoice.period_start).desc(),
                      col(SubscriptionInvoice.id).desc())
            .limit(limit).offset(offset))).scalars().all()
        return int(count), list(rows)

    # -- starting ------------------------------------------------------------------------------

    async def checkout(self, user_id: uuid.UUID, plan_ref: str, *, success_url: str, cancel_url: str,
                       storefront: Storefront, email: str | None = None) -> str:
        """Start subscribing the user to a plan on `storefront` (the request's): the subscription
        becomes that storefront's, and the checkout returns to its pages when it names them."""
        plan = await self.plan(plan_ref)
        provider = self.context.settings.provider
        subscription = await self.subscriptions.lock_or_create(Subscription(
            user_id=user_id, storefront=storefront.slug, plan_id=uuid.UUID(str(plan["id"])), plan_sku=plan["sku"],
            tier=plan["tier"], monthly_quota=plan["monthly_quota"], amount=Decimal(plan["price"]),
            currency=plan["currency"], provider=provider, status=INCOMPLETE))
        if holds_plan(subscription, utcnow()):
            raise AlreadySubscribed()
        subscription.storefront = storefront.slug
        success_url, cancel_url = checkout_redirects(storefront, success_url, cancel_url)
        if provider == STRIPE:
            return await self._stripe_checkout(subscription, plan, success_url=success_url, cancel_url=cancel_url,
                                               email=email)
        if provider != LOCAL:
            raise PaymentProviderError(f"Subscriptions are not available with the {provider} provider")
        subscription.plan_id, subscription.plan_sku = uuid.UUID(str(plan["id"])), plan["sku"]
        subscription.tier, subscription.monthly_quota = plan["tier"], plan["monthly_quota"]
        subscription.amount, subscription.currency = Decimal(plan["price"]), plan["currency"]
        subscription.provider, subscription.status = provider, INCOMPLETE
        subscription.cancel_at_period_end = False
        # The local checkout session: its id is the provider subscription id until paid.
        subscription.provider_subscription_id = f"lsub_{secrets.token_hex(12)}"
        subscription.provider_customer_id = f"lcus_{user_id.hex[:16]}"
        subscription.updated_at = utcnow()
        await self.session.flush()
        base = self.context.settings.public_base_url.rstrip("/")
        subscription.checkout_success_url, subscription.checkout_cancel_url = success_url, cancel_url
        return f"{base}/api/dev/subscriptions/checkout/{subscription.provider_subscription_id}"

    def stripe_provider(self) -> StripeProvider:
        provider = self.context.providers.get(STRIPE)
        if not isinstance(provider, StripeProvider):
            raise PaymentProviderError("The stripe provider is not configured")
        return provider

    async def _stripe_checkout(self, subscription: Subscription, plan: dict[str, Any], *, success_url: str,
                               cancel_url: str, email: str | None) -> str:
        """A Checkout Session in subscription mode for the plan's Stripe price, for the user's
        Customer (made once, then kept on the row). The row waits, `incomplete`, for Stripe's
        events to name the subscription the session makes."""
        stripe = self.stripe_provider()
        user_id = str(subscription.user_id)
        if subscription.provider != STRIPE or not subscription.provider_customer_id:
            subscription.provider_customer_id = await stripe.create_customer(user_id=user_id, email=email)
        self._set_plan(subscription, plan)
        subscription.provider, subscription.status = STRIPE, INCOMPLETE
        subscription.provider_subscription_id, subscription.cancel_at_period_end = None, False
        subscription.checkout_success_url, subscription.checkout_cancel_url = success_url, cancel_url
        subscription.updated_at = utcnow()
        await self.session.flush()
        line_item: dict[str, Any] = {"quantity": 1, "price": plan["provider_price_id"]} if plan.get(
            "provider_price_id") else {"quantity": 1, "price_data": {
                # A plan without a Stripe price is sold at its catalog price (tax included).
                "currency": plan["currency"].lower(), "unit_amount": to_minor_units(Decimal(plan["price"]),
                                                                                    plan["currency"]),
                "recurring": {"interval": plan["interval"]}, "product_data": {"name": plan["name"]}}}
        metadata = {"user_id": user_id, "plan_id": str(plan["id"]), "plan_sku": plan["sku"],
                    "storefront": subscription.storefront}
        checkout = await stripe.create_subscription_checkout(
            customer_id=subscription.provider_customer_id or "", line_item=line_item, metadata=metadata,
            client_reference_id=user_id, success_url=success_url, cancel_url=cancel_url,
            idempotency_key=f"subscription-checkout-{subscription.id}-{secrets.token_hex(8)}")
        return checkout.url

    @staticmethod
    def _set_plan(subscription: Subscription, plan: dict[str, Any]) -> None:
        subscription.plan_id, subscription.plan_sku = uuid.UUID(str(plan["id"])), plan["sku"]
        subscription.tier, subscription.monthly_quota = plan["tier"], plan["monthly_quota"]
        subscription.amount, subscription.currency = Decimal(plan["price"]), plan["currency"]

    async def local_checkout(self, session_id: str) -> LocalCheckoutView:
        subscription = await self._by_provider_id(session_id)
        storefront = await self.context.storefront(subscription.storefront)
        return LocalCheckoutView(subscription=subscription, plan_name=subscription.plan_sku,
                                 period_days=self.context.settings.local_subscription_period_days,
                                 success_url=subscription.checkout_success_url or "/",
                                 cancel_url=subscription.checkout_cancel_url or "/",
                                 storefront_name=storefront.name if storefront else subscription.storefront)

    async def _by_provider_id(self, provider_subscription_id: str, *, for_update: bool = True) -> Subscription:
        stmt = select(Subscription).where(col(Subscription.provider) == LOCAL,
                                          col(Subscription.provider_subscription_id) == provider_subscription_id)
        if for_update:
            stmt = stmt.with_for_update()
        subscription = (await self.session.execute(stmt)).scalars().first()
        if subscription is None:
            raise SubscriptionNotFound()
        return subscription

    async def local_portal(self, session_id: str, action: str | None = None,
                           payment_method_id: str | None = None) -> Subscription:
        """The local provider's portal page (keyed by the provider subscription id, like
        Stripe's portal session URL): show, cancel, reactivate or change the card."""
        subscription = await self._by_provider_id(session_id, for_update=False)
        if action == "cancel":
            await self.cancel(subscription.user_id)
        elif action == "reactivate":
            await self.reactivate(subscription.user_id)
        elif action == "payment-method" and payment_method_id:
            await self.set_payment_method(subscription.user_id, payment_method_id)
        return await self._by_provider_id(session_id, for_update=False)

    async def pay_local_checkout(self, session_id: str) -> Subscription:
        """The dev checkout's Pay: the first period starts now, its invoice is paid."""
        subscription = await self._by_provider_id(session_id)
        if subscription.status != INCOMPLETE:
            raise InvalidSubscriptionState("This checkout is no longer open")
        now = utcnow()
        self._start_period(subscription, now)
        subscription.status = ACTIVE
        self._invoice(subscription, "paid", now)
        await self._changed(subscription)
        return subscription

    # -- changing ------------------------------------------------------------------------------

    async def cancel(self, user_id: uuid.UUID) -> dict[str, Any]:
        await self.cancel_at_period_end(await self._held(user_id))
        return await self.current(user_id)

    async def reactivate(self, user_id: uuid.UUID) -> dict[str, Any]:
        await self.keep_after_period_end(await self._held(user_id))
        return await self.current(user_id)

    async def cancel_at_period_end(self, subscription: Subscription) -> None:
        """The locked plan ends at the end of its period (the customer's cancel and staff's); again:
        no change."""
        if not holds_plan(subscription, utcnow()):
            raise InvalidSubscriptionState("The subscription has ended")
        if subscription.provider == STRIPE:
            await self._update_stripe(subscription, {"cancel_at_period_end": True})
        elif not subscription.cancel_at_period_end:
            subscription.cancel_at_period_end = True
            await self._changed(subscription)

    async def keep_after_period_end(self, subscription: Subscription) -> None:
        """Undo a cancellation of the locked plan before its period ends (reactivate)."""
        if not holds_plan(subscription, utcnow()) or not subscription.cancel_at_period_end:
            raise InvalidSubscriptionState("Only a subscription cancelled at period end can be reactivated "
                                           "before that end")
        if subscription.provider == STRIPE:
            await self._update_stripe(subscription, {"cancel_at_period_end": False})
        else:
            subscription.cancel_at_period_end = False
            await self._changed(subscription)

    async def set_payment_method(self, user_id: uuid.UUID, payment_method_id: str) -> dict[str, Any]:
        subscription = await self._held(user_id)
        if subscription.provider == STRIPE:
            await self.stripe_provider().attach_payment_method(payment_method_id=payment_method_id,
                                                       customer_id=subscription.provider_customer_id or "")
            await self._update_stripe(subscription, {"default_payment_method": payment_method_id})
        subscription.payment_method_id = payment_method_id
        subscription.updated_at = utcnow()
        await self.session.flush()
        return await self.current(user_id)

    async def portal(self, user_id: uuid.UUID) -> str:
        subscription = await self._held(user_id)
        if subscription.provider == STRIPE:
            if not subscription.provider_customer_id:
                raise SubscriptionNotFound()
            return await self.stripe_provider().create_portal_session(
                customer_id=subscription.provider_customer_id,
                return_url=self.context.settings.subscription_portal_return_url)
        base = self.context.settings.public_base_url.rstrip("/")
        return f"{base}/api/dev/subscriptions/portal/{subscription.provider_subscription_id}"

    async def advance(self, outcome: str, *, user_id: uuid.UUID | None = None,
                      email: str | None = None) -> dict[str, Any]:
        """Dev only: the current period ends now. A plan cancelled at period end (or past due)
        ends (free); otherwise `paid` starts the next period with a renewal invoice and
        `failed` leaves it past due (it falls back to free at the end of the next advance).
        The user by id, or by email (identity knows whose it is)."""
        if user_id is None:
            if email is None or self.context.identity is None:
                raise SubscriptionNotFound()
            user_id = await self.context.identity.user_id_by_email(email)
            if user_id is None:
                raise SubscriptionNotFound()
        subscription = await self._held(user_id)
        now = utcnow()
        if subscription.status == CANCELED:
            raise InvalidSubscriptionState("The subscription has ended")
        if subscription.provider != LOCAL:
            raise InvalidSubscriptionState(f"A {subscription.provider} subscription renews at the provider")
        if subscription.cancel_at_period_end or subscription.status == PAST_DUE:
            subscription.status, subscription.current_period_end = CANCELED, now
        elif outcome == "paid":
            self._start_period(subscription, now)
            self._invoice(subscription, "paid", now)
        else:
            subscription.status = PAST_DUE
            self._invoice(subscription, "failed", now)
        await self._changed(subscription)
        return await self.current(user_id)

    # -- Stripe's subscription, mirrored -------------------------------------------------------

    async def _update_stripe(self, subscription: Subscription, params: dict[str, Any]) -> None:
        if not subscription.provider_subscription_id:
            raise InvalidSubscriptionState("The subscription is not started at Stripe yet")
        remote = await self.stripe_provider().update_subscription(subscription.provider_subscription_id, params)
        await self.apply_stripe(subscription, remote)

    @staticmethod
    def adopts(subscription: Subscription, remote: StripeSubscription) -> bool:
        """Whether Stripe's `remote` is the subscription this (locked) row mirrors.

        The row's own subscription always is. Another one is only when it still bills (a
        subscription that ended is an older one of this user, arriving late) and the row holds no
        other plan (a checkout waits for it, or the previous plan is over)."""
        if subscription.provider == STRIPE and subscription.provider_subscription_id == remote.id:
            return True
        if remote.ended:
            return False
        return subscription.provider_subscription_id is None or not holds_plan(subscription, utcnow())

    async def plan_of(self, remote: StripeSubscription) -> dict[str, Any] | None:
        """The catalog plan of a Stripe subscription: by its price, else by the plan it was sold as."""
        plans = await self.plans()
        for plan in plans:
            if remote.price_id and plan.get("provider_price_id") == remote.price_id:
                return plan
        refs = {remote.metadata.get("plan_sku"), remote.metadata.get("plan_id")} - {None}
        return next((p for p in plans if p["sku"] in refs or str(p["id"]) in refs), None)

    async def apply_stripe(self, subscription: Subscription, remote: StripeSubscription) -> bool:
        """Make the locked row what Stripe says (status, plan, period, cancel at period end):
        the state comes from Stripe's object, never from the event's kind, so events applied twice
        or in any order end in the same row. `subscription.changed` only when something a
        consumer sees changed. Returns whether the row took `remote`."""
        if not self.adopts(subscription, remote):
            return False
        before = _visible(subscription)
        plan = await self.plan_of(remote)
        if plan is not None:
            self._set_plan(subscription, plan)
        subscription.provider, subscription.provider_subscription_id = STRIPE, remote.id
        subscription.provider_customer_id = remote.customer_id or subscription.provider_customer_id
        # The storefront it was sold on (our checkout's metadata); one made elsewhere keeps the row's.
        subscription.storefront = remote.metadata.get("storefront") or subscription.storefront
        subscription.status, subscription.cancel_at_period_end = remote.status, remote.cancel_at_period_end
        subscription.current_period_start = remote.current_period_start or subscription.current_period_start
        subscription.current_period_end = remote.current_period_end or subscription.current_period_end
        if _visible(subscription) != before:
            await self._changed(subscription)
        else:
            await self.session.flush()
        return True

    async def record_stripe_invoice(self, subscription: Subscription, invoice: StripeInvoice) -> bool:
        """An invoice in the history once, whatever the deliveries: paid → a ledger entry; a
        failed one paid later becomes paid (one entry); a paid one never goes back."""
        row = SubscriptionInvoice(subscription_id=subscription.id, user_id=subscription.user_id,
                                  storefront=subscription.storefront, provider=STRIPE,
                                  provider_invoice_id=invoice.id, amount=invoice.amount, currency=invoice.currency,
                                  status="paid" if invoice.paid else "failed", period_start=invoice.period_start,
                                  period_end=invoice.period_end, created_at=invoice.created or utcnow())
        newly_paid = (await self.subscriptions.add_invoice_once(row) and invoice.paid) or (
            invoice.paid and await self.subscriptions.mark_invoice_paid(STRIPE, invoice.id))
        if newly_paid and invoice.amount > 0:
            self.session.add(LedgerEntry(owner_id=subscription.user_id, user_id=subscription.user_id,
                                         storefront=subscription.storefront, kind=LedgerKind.PAYMENT,
                                         amount=invoice.amount, currency=invoice.currency,
                                         reference_id=invoice.id, description=f"Subscription {subscription.plan_sku}"))
            await self.session.flush()
        return bool(newly_paid)

    # -- effects -------------------------------------------------------------------------------

    def _start_period(self, subscription: Subscription, now: datetime) -> None:
        subscription.current_period_start = now
        subscription.current_period_end = now + timedelta(days=self.context.settings.local_subscription_period_days)

    def _invoice(self, subscription: Subscription, status: str, now: datetime) -> None:
        invoice = SubscriptionInvoice(subscription_id=subscription.id, user_id=subscription.user_id,
                                      storefront=subscription.storefront, provider=subscription.provider,
                                      provider_invoice_id=f"lin_{secrets.token_hex(12)}", amount=subscription.amount,
                                      currency=subscription.currency, status=status,
                                      period_start=subscription.current_period_start,
                                      period_end=subscription.current_period_end, created_at=now)
        self.session.add(invoice)
        if status == "paid":
            self.session.add(LedgerEntry(owner_id=subscription.user_id, user_id=subscription.user_id,
                                         storefront=subscription.storefront, kind=LedgerKind.PAYMENT,
                                         amount=subscription.amount,
                                         currency=subscription.currency, reference_id=invoice.provider_invoice_id,
                                         description=f"Subscription {subscription.plan_sku}"))

    async def _changed(self, subscription: Subscription) -> None:
        subscription.updated_at = utcnow()
        await self.session.flush()
        await outbox.add(self.session, _told(subscription))


def _told(subscription: Subscription) -> SubscriptionChanged:
    """The row as `subscription.changed` tells it."""
    return SubscriptionChanged(
        storefront=subscription.storefront, user_id=subscription.user_id, plan_sku=subscription.plan_sku,
        plan_id=subscription.plan_id,
        tier=subscription.tier, status=subscription.status, monthly_quota=subscription.monthly_quota,
        current_period_start=subscription.current_period_start,
        current_period_end=subscription.current_period_end,
        cancel_at_period_end=subscription.cancel_at_period_end)


def _visible(subscription: Subscription) -> tuple[Any, ...]:
    """What `subscription.changed` tells: a change of any of these is published."""
    return (subscription.storefront, subscription.plan_sku, subscription.plan_id, subscription.tier,
            subscription.status,
            subscription.monthly_quota, subscription.current_period_start, subscription.current_period_end,
            subscription.cancel_at_period_end)
