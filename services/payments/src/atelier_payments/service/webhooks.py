"""Provider webhooks: verified on the raw body, then each event id is processed once.

The event id is recorded (`processed_webhook`) in the same transaction as its effect: a
replayed or concurrently redelivered event answers 200 and changes nothing; an effect that
fails rolls the id back too, so the provider's retry is processed.
"""

from __future__ import annotations

import json
import logging

import pydantic
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.service import UseCase
from atelier_payments import domain
from atelier_payments.bootstrap import PaymentsContext
from atelier_payments.domain import EventAction, PaymentKind, PaymentStatus, ProviderEvent
from atelier_payments.errors import InvalidSignature, InvalidWebhookPayload, UnknownProvider
from atelier_payments.providers.stripe import WebhookSignatureInvalid, verify_webhook
from atelier_payments.repository import PaymentRepository, WebhookRepository
from atelier_payments.rows import PaymentRow
from atelier_payments.schemas import SimpleWebhookEvent
from atelier_payments.service.payments import new_payment
from atelier_payments.service.settlement import Settlement
from atelier_payments.service.stripe_subscriptions import StripeSubscriptionEvents

log = logging.getLogger("atelier.payments.webhooks")


class WebhookService(UseCase[PaymentsContext]):
    def __init__(self, session: AsyncSession, context: PaymentsContext) -> None:
        super().__init__(session, context)
        self.payments = PaymentRepository(session)
        self.webhooks = WebhookRepository(session)
        self.settlement = Settlement(session, context.providers,
                                gift_card_validity_days=context.settings.gift_card_validity_days)

    async def receive_stripe(self, payload: bytes, signature_header: str | None) -> str:
        settings = self.context.settings
        try:
            event = verify_webhook(payload, signature_header, settings.stripe_webhook_secret,
                                   tolerance=settings.stripe_webhook_tolerance_seconds)
        except WebhookSignatureInvalid as exc:
            raise InvalidSignature() from exc
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise InvalidWebhookPayload() from exc
        provider_event = domain.stripe_event(event)
        if not provider_event.event_id:
            raise InvalidWebhookPayload("The event has no id")
        if domain.is_stripe_subscription_event(event):
            # Subscriptions (S4): claimed here like every event, applied by their own use case.
            if not await self.webhooks.claim(provider_event.provider, provider_event.event_id, provider_event.type):
                return "duplicate"
            return await StripeSubscriptionEvents(self.session, self.context).handle(event)
        return await self._process(provider_event)

    async def receive_simple(self, provider: str, payload: bytes, signature_header: str | None,
                             secret_header: str | None = None) -> str:
        """S0's provider webhook, `X-Signature: sha256=<hex HMAC of the raw body>`, or the S0 provider's
        own `X-Webhook-Secret: <the shared secret>` (required here, where the original made it optional)."""
        secret = self.context.settings.webhook_secrets.get(provider)
        if secret is None:
            raise UnknownProvider()
        if not (domain.simple_signature_valid(payload, signature_header, secret)
                or domain.shared_secret_valid(secret_header, secret)):
            raise InvalidSignature()
        try:
            body = SimpleWebhookEvent.model_validate(json.loads(payload))
        except (ValueError, pydantic.ValidationError) as exc:
            raise InvalidWebhookPayload() from exc
        event_id = body.event_id or domain.derived_event_id(body.order_id, body.status, body.amount, body.currency,
                                                             body.transaction_id)
        event = domain.simple_event(provider, event_id, body.order_id, body.status, body.transaction_id,
                                    amount=body.amount, currency=body.currency, customer_id=body.customer_id)
        return await self._process(event)

    async def _process(self, event: ProviderEvent) -> str:
        if not await self.webhooks.claim(event.provider, event.event_id, event.type):
            return "duplicate"
        if event.action == EventAction.IGNORED:
            return "ignored"
        payment, locked = await self._payment_of(event)
        if payment is None:
            log.info("%s event %s (%s) concerns no payment of ours", event.provider, event.event_id, event.type)
            return "ignored"
        if event.action == EventAction.SUCCEEDED:
            # The provider was asked for the order's total less what gift cards paid.
            if not domain.amount_matches(event, payment.amount - payment.gift_card_amount, payment.currency):
                log.error("%s event %s pays %s %s for payment %s of %s %s; not settled", event.provider,
                          event.event_id, event.amount_minor, event.currency, payment.id, payment.amount,
                          payment.currency)
                return "ignored"
            await self.settlement.succeed(payment, charge_id=event.charge_id, intent_id=event.intent_id,
                                          locked=locked, customer_id=event.customer_id)
            return "processed"
        if event.action == EventAction.FAILED:
            await self.settlement.fail(payment, event.reason)
        elif event.action == EventAction.PROCESSING:
            await self.settlement.processing(payment)
        elif event.action == EventAction.REFUNDED:
            await self.settlement.refunded(payment)
        elif event.action in (EventAction.REFUND_SUCCEEDED, EventAction.REFUND_FAILED):
            amount = (domain.from_minor_units(event.amount_minor, event.currency or payment.currency)
                      if event.amount_minor is not None else None)
            await self.settlement.refund_event(payment, event.refund_id, amount=amount, reason=event.reason,
                                               succeeded=event.action == EventAction.REFUND_SUCCEEDED)
        return "processed"

    async def _payment_of(self, event: ProviderEvent) -> tuple[PaymentRow | None, list[PaymentRow] | None]:
        """The payment the event is about; for a success, found with its order's payments locked
        (settling locks them anyway: one statement instead of two)."""
        payment: PaymentRow | None
        locked: list[PaymentRow] | None = None
        ids = {"intent_id": event.intent_id, "session_id": event.session_id, "charge_id": event.charge_id,
               "transaction_id": event.transaction_id}
        if event.action == EventAction.SUCCEEDED:
            found = await self.payments.lock_for_event(event.provider, **ids)
            payment, locked = found if found is not None else (None, None)
        else:
            payment = await self.payments.find_for_event(event.provider, **ids)
        if payment is None and event.payment_id is not None:
            # An intent made by a Stripe Checkout session is first seen by its metadata.
            candidate = await self.payments.get(event.payment_id)
            if candidate is not None and candidate.provider == event.provider:
                payment = candidate
        if payment is None and event.provider != domain.STRIPE and event.order_id is not None:
            payment = await self._simple_provider_payment(event)
        if payment is not None and event.order_id is not None and payment.order_id != event.order_id:
            log.warning("%s event %s names order %s but payment %s is for %s", event.provider, event.event_id,
                        event.order_id, payment.id, payment.order_id)
            return None, None
        return payment, locked

    async def _simple_provider_payment(self, event: ProviderEvent) -> PaymentRow | None:
        """A simple provider names only the order: the payment it already paid there (one payment
        per order, unless the provider names another transaction), its open payment, or (S0, a
        payment made entirely at the provider) a new one for the order's total."""
        assert event.order_id is not None
        # Notifications of one order one at a time: two that race must not both make a payment.
        await self.payments.lock_order_notifications(event.order_id)
        paid = await self.payments.settled_of(event.order_id, event.provider)
        if paid is not None and domain.same_provider_payment(paid.provider_charge_id, event.transaction_id):
            return paid
        if payment := await self.payments.newest_open(event.order_id, event.provider):
            return payment
        if event.action != EventAction.SUCCEEDED:
            return None
        order = await self.context.orders.get(event.order_id)
        if order is None:
            return None
        payment = new_payment(order, event.provider, PaymentKind.EXTERNAL, PaymentStatus.REQUIRES_PAYMENT)
        await self.payments.insert(payment)
        return payment
