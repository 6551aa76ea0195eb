"""The payments service's failures, one class each; `atelier_common.errors` renders them."""

from __future__ import annotations

from atelier_common.errors import AtelierError


class PaymentsError(AtelierError):
    pass


# A missing resource answers 404 `NOT_FOUND` (docs/api.md, Errors); the class says what was not found.
class OrderNotFound(PaymentsError):
    code, status, default_message = "NOT_FOUND", 404, "Order not found"


class StorefrontNotFound(PaymentsError):
    """A storefront an API key may not touch, named by a staff write: as unknown to it as another
    storefront's payment is (docs/security.md, "API keys")."""

    code, status, default_message = "NOT_FOUND", 404, "Storefront not found"


class PaymentNotFound(PaymentsError):
    code, status, default_message = "NOT_FOUND", 404, "Payment not found"


class CheckoutSessionNotFound(PaymentsError):
    code, status, default_message = "NOT_FOUND", 404, "Checkout session not found"


class UnknownProvider(PaymentsError):
    code, status, default_message = "NOT_FOUND", 404, "Unknown payment provider"


class DevEndpointsDisabled(PaymentsError):
    code, status, default_message = "NOT_FOUND", 404, "Not found"


class OrderNotPayable(PaymentsError):
    code, status, default_message = "ORDER_NOT_PAYABLE", 409, "The order cannot be paid in its current status"


class OrderAlreadyPaid(PaymentsError):
    code, status, default_message = "ORDER_NOT_PAYABLE", 409, "The order is already paid"


class CheckoutSessionClosed(PaymentsError):
    code, status, default_message = "CHECKOUT_SESSION_CLOSED", 409, "This checkout session can no longer be paid"


class PaymentNotCompleted(PaymentsError):
    code, status, default_message = "PAYMENT_NOT_COMPLETED", 400, "The payment is not completed"


class InvalidSignature(PaymentsError):
    code, status, default_message = "INVALID_SIGNATURE", 400, "The webhook signature is invalid"


class InvalidWebhookPayload(PaymentsError):
    code, status, default_message = "VALIDATION_ERROR", 400, "The webhook payload is not valid"


class InvalidSku(PaymentsError):
    code, status, default_message = "INVALID_SKU", 400, "This product cannot be purchased"


class NotPurchasable(PaymentsError):
    code, status, default_message = ("NOT_PURCHASABLE", 400,
                                     "This product is not sold here (a subscription plan is bought by subscribing)")


class RefundExceedsPayment(PaymentsError):
    code, status, default_message = ("REFUND_EXCEEDS_PAYMENT", 400,
                                      "The refund exceeds what was paid minus what was already refunded")


class StaleRefundForm(PaymentsError):
    """The refund form was filled in from a picture of the order that has changed since:
    another refund came first. Nothing is refunded; `details.current` is what is refundable now."""

    code, status, default_message = ("STALE_VERSION", 409,
                                      "The order's refunds changed since the form was read; nothing was refunded")


class PaymentProviderError(PaymentsError):
    code, status, default_message = "PAYMENT_PROVIDER_ERROR", 502, "The payment provider could not be reached"


class InsufficientStock(PaymentsError):
    """Orders refused the order of a sku that is sold out (its stock is orders' and catalog's to count)."""

    code, status, default_message = "INSUFFICIENT_STOCK", 409, "Not enough stock"


class OrdersUnavailable(PaymentsError):
    code, status, default_message = "SERVICE_UNAVAILABLE", 503, "Orders are unavailable"


class PlanNotFound(PaymentsError):
    code, status, default_message = "NOT_FOUND", 404, "Subscription plan not found"


class SubscriptionNotFound(PaymentsError):
    code, status, default_message = "NOT_FOUND", 404, "No subscription"


class AlreadySubscribed(PaymentsError):
    code, status, default_message = "ALREADY_SUBSCRIBED", 409, "An active subscription exists already"


class InvalidSubscriptionState(PaymentsError):
    code, status, default_message = "INVALID_STATE", 400, "The subscription's state does not allow this"


class ServiceDependencyUnavailable(PaymentsError):
    code, status, default_message = "SERVICE_UNAVAILABLE", 503, "A service payments depends on is unavailable"


class GiftCardNotFound(PaymentsError):
    code, status, default_message = "NOT_FOUND", 404, "Gift card not found"


class GiftCardInvalid(PaymentsError):
    """A code that names no usable card of the storefront: unknown, expired and deactivated codes
    answer alike, so the answer tells a guesser nothing about which it was."""

    code, status, default_message = "GIFT_CARD_INVALID", 400, "This gift card code is not valid"


class GiftCardAlreadyUsed(PaymentsError):
    """A full refund of an order whose bought gift card was spent in part: the card's value is
    gone, so the order is not refunded whole (refund the other lines by amount instead)."""

    code, status, default_message = "GIFT_CARD_USED", 409, "A gift card this order bought was already used"


class GiftCardEmpty(PaymentsError):
    code, status, default_message = "GIFT_CARD_EMPTY", 409, "This gift card has no balance left"


class GiftCardCurrencyMismatch(PaymentsError):
    code, status, default_message = ("GIFT_CARD_CURRENCY_MISMATCH", 409,
                                     "This gift card is in another currency than the order")
