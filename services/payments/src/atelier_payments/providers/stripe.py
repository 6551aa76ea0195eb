"""Stripe through its official SDK (async methods, httpx): PaymentIntents, Checkout, Refunds,
and subscriptions (Customers, Checkout in subscription mode, the billing portal, Subscriptions).

Every creating call carries an idempotency key derived from our payment id, so a retried call
(by the SDK or by us) never makes a second intent, session or refund. The API base is a
setting: tests point it at a local fake Stripe server.
"""

from __future__ import annotations

import logging
from typing import Any

import stripe

from atelier_payments.domain import (
    STRIPE,
    PaymentStatus,
    StripeSubscription,
    status_from_stripe_intent,
    stripe_subscription,
    to_minor_units,
)
from atelier_payments.errors import PaymentProviderError
from atelier_payments.models import Refund
from atelier_payments.providers import ChargeRequest, ProviderCheckout, ProviderIntent, ProviderRefund
from atelier_payments.rows import PaymentRow

log = logging.getLogger("atelier.payments.stripe")


def _plain(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _id_of(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("id")
    return getattr(value, "id", value) or None


class StripeProvider:
    name = STRIPE

    def __init__(self, *, api_key: str, api_base: str, timeout: float, max_network_retries: int) -> None:
        self._http = stripe.HTTPXClient(timeout=timeout)
        self.client = stripe.StripeClient(api_key, base_addresses={"api": api_base}, http_client=self._http,
                                          max_network_retries=max_network_retries)

    async def close(self) -> None:
        await self._http.close_async()

    async def _call(self, what: str, coro: Any) -> Any:
        try:
            return await coro
        except stripe.StripeError as exc:
            log.warning("stripe %s failed: %s", what, exc)
            raise PaymentProviderError(f"Stripe could not {what}") from exc

    def _intent(self, obj: Any) -> ProviderIntent:
        data = _plain(obj)
        return ProviderIntent(id=data["id"], client_secret=data.get("client_secret") or "",
                              status=status_from_stripe_intent(data.get("status", "")),
                              provider_status=data.get("status", ""), charge_id=_id_of(data.get("latest_charge")),
                              amount_minor=data.get("amount"), currency=(data.get("currency") or "").upper() or None,
                              metadata=dict(data.get("metadata") or {}))

    async def create_intent(self, charge: ChargeRequest) -> ProviderIntent:
        params: Any = {  # the SDK's params TypedDict, built up piecewise
            "amount": to_minor_units(charge.amount, charge.currency), "currency": charge.currency.lower(),
            "metadata": charge.metadata, "automatic_payment_methods": {"enabled": True},
        }
        if charge.order_number:
            params["description"] = f"Order {charge.order_number}"
        if charge.email:
            params["receipt_email"] = charge.email
        if charge.statement_descriptor:
            params["statement_descriptor_suffix"] = charge.statement_descriptor
        created = await self._call("create the payment intent", self.client.v1.payment_intents.create_async(
            params, {"idempotency_key": f"payment-intent-{charge.payment_id}"}))
        return self._intent(created)

    async def retrieve_intent(self, payment: PaymentRow) -> ProviderIntent:
        if not payment.provider_intent_id:
            return ProviderIntent(id="", client_secret="", status=PaymentStatus(payment.status),
                                  provider_status=payment.status)
        found = await self._call("retrieve the payment intent",
                                 self.client.v1.payment_intents.retrieve_async(payment.provider_intent_id))
        return self._intent(found)

    async def create_checkout(self, charge: ChargeRequest, *, success_url: str, cancel_url: str) -> ProviderCheckout:
        # One line for the order's total (tax and shipping included): what Stripe charges is
        # exactly the order's amount, whatever the lines add up to.
        name = f"Order {charge.order_number}" if charge.order_number else "Order"
        intent_data: dict[str, Any] = {"metadata": charge.metadata}
        if charge.statement_descriptor:
            intent_data["statement_descriptor_suffix"] = charge.statement_descriptor
        params: Any = {  # the SDK's params TypedDict, built up piecewise
            "mode": "payment", "success_url": success_url, "cancel_url": cancel_url,
            "client_reference_id": str(charge.order_id), "metadata": charge.metadata,
            "payment_intent_data": intent_data,
            "line_items": [{"quantity": 1, "price_data": {
                "currency": charge.currency.lower(), "unit_amount": to_minor_units(charge.amount, charge.currency),
                "product_data": {"name": name}}}],
        }
        if charge.email:
            params["customer_email"] = charge.email
        created = _plain(await self._call("create the checkout session", self.client.v1.checkout.sessions.create_async(
            params, {"idempotency_key": f"payment-checkout-{charge.payment_id}"})))
        return ProviderCheckout(id=created["id"], url=created.get("url") or "",
                                intent_id=_id_of(created.get("payment_intent")))

    async def refund(self, payment: PaymentRow, refund: Refund) -> ProviderRefund:
        params: Any = {  # the SDK's params TypedDict, built up piecewise
            "amount": to_minor_units(refund.amount, refund.currency),
            "metadata": {"order_id": str(payment.order_id), "payment_id": str(payment.id), "refund_id": str(refund.id),
                         "storefront": payment.storefront},
        }
        if payment.provider_intent_id:
            params["payment_intent"] = payment.provider_intent_id
        elif payment.provider_charge_id:
            params["charge"] = payment.provider_charge_id
        else:
            raise PaymentProviderError("The payment has no Stripe charge to refund")
        created = _plain(await self._call("refund the payment", self.client.v1.refunds.create_async(
            params, {"idempotency_key": f"payment-refund-{refund.id}"})))
        return ProviderRefund(id=created["id"], succeeded=created.get("status") == "succeeded")

    async def cancel(self, payment: PaymentRow) -> None:
        """Best effort: an intent or session that cannot be closed any more is left as it is
        (if it is paid anyway, the payment is refunded when its webhook arrives)."""
        try:
            if payment.provider_session_id:
                await self.client.v1.checkout.sessions.expire_async(payment.provider_session_id)
            elif payment.provider_intent_id:
                await self.client.v1.payment_intents.cancel_async(payment.provider_intent_id)
        except stripe.StripeError as exc:
            log.info("stripe could not close %s: %s", payment.id, exc)


    # -- subscriptions (S4) ---------------------------------------------------------------------

    async def create_customer(self, *, user_id: str, email: str | None) -> str:
        """The user's Customer (one per user: the key makes a retried call return the same one)."""
        params: Any = {"metadata": {"user_id": user_id}}
        if email:
            params["email"] = email
        created = _plain(await self._call("create the customer", self.client.v1.customers.create_async(
            params, {"idempotency_key": f"customer-{user_id}"})))
        return str(created["id"])

    async def create_subscription_checkout(self, *, customer_id: str, line_item: dict[str, Any],
                                           metadata: dict[str, str], client_reference_id: str, success_url: str,
                                           cancel_url: str, idempotency_key: str) -> ProviderCheckout:
        """A Checkout Session in subscription mode; the subscription it makes carries `metadata`
        too, so every later event about it names our user and plan."""
        params: Any = {  # the SDK's params TypedDict, built up piecewise
            "mode": "subscription", "customer": customer_id, "line_items": [line_item],
            "success_url": success_url, "cancel_url": cancel_url, "client_reference_id": client_reference_id,
            "metadata": metadata, "subscription_data": {"metadata": metadata},
        }
        created = _plain(await self._call("create the subscription checkout",
                                          self.client.v1.checkout.sessions.create_async(
                                              params, {"idempotency_key": idempotency_key})))
        return ProviderCheckout(id=created["id"], url=created.get("url") or "")

    async def create_portal_session(self, *, customer_id: str, return_url: str) -> str:
        created = _plain(await self._call("open the billing portal", self.client.v1.billing_portal.sessions.create_async(
            {"customer": customer_id, "return_url": return_url})))
        return str(created["url"])

    async def retrieve_subscription(self, subscription_id: str) -> StripeSubscription | None:
        """The subscription as Stripe has it now; None when Stripe does not know it."""
        try:
            found = await self.client.v1.subscriptions.retrieve_async(subscription_id)
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return None
            log.warning("stripe retrieve subscription failed: %s", exc)
            raise PaymentProviderError("Stripe could not retrieve the subscription") from exc
        except stripe.StripeError as exc:
            log.warning("stripe retrieve subscription failed: %s", exc)
            raise PaymentProviderError("Stripe could not retrieve the subscription") from exc
        return stripe_subscription(_plain(found))

    async def update_subscription(self, subscription_id: str, params: Any) -> StripeSubscription:
        """`params`: the SDK's update params (cancel_at_period_end, default_payment_method)."""
        updated = await self._call("update the subscription",
                                   self.client.v1.subscriptions.update_async(subscription_id, params))
        return stripe_subscription(_plain(updated))

    async def attach_payment_method(self, *, payment_method_id: str, customer_id: str) -> None:
        await self._call("attach the payment method", self.client.v1.payment_methods.attach_async(
            payment_method_id, {"customer": customer_id}))


class WebhookSignatureInvalid(Exception):
    pass


def verify_webhook(payload: bytes, signature_header: str | None, secret: str | None, *,
                   tolerance: int) -> dict[str, Any]:
    """The event of a Stripe webhook, verified on the raw body (signature and timestamp
    tolerance, Stripe's `t=…,v1=…` scheme); raises WebhookSignatureInvalid or ValueError."""
    try:
        event = stripe.Webhook.construct_event(payload, signature_header, secret, tolerance)
    except stripe.SignatureVerificationError as exc:
        raise WebhookSignatureInvalid(str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise WebhookSignatureInvalid("the body is not UTF-8") from exc
    return _plain(event)
