"""The cart's failures, one class each; `atelier_common.errors` renders them."""

from __future__ import annotations

from typing import Any

from atelier_common.errors import AtelierError, RateLimited


class CartError(AtelierError):
    pass


class ProductNotFound(CartError):
    """Unknown, inactive, or a variant the product does not have."""

    code, status, default_message = "PRODUCT_NOT_FOUND", 404, "Product not found"


# Another owner's line is simply not found (docs/api.md: another customer's resource answers 404).
class CartItemNotFound(CartError):
    code, status, default_message = "NOT_FOUND", 404, "Cart item not found"


class CartNotFound(CartError):
    code, status, default_message = "NOT_FOUND", 404, "Cart not found"


class QuantityLimit(CartError):
    # The message names the storefront's own limit (`domain.line_limit`).
    code, status, default_message = "QUANTITY_LIMIT", 400, "A cart line holds no more units"


class InsufficientStock(CartError):
    code, status, default_message = "INSUFFICIENT_STOCK", 409, "Not enough stock"


class NotPurchasable(CartError):
    # Only what can be delivered is sold; a subscription plan is billed, never carted.
    code, status, default_message = "NOT_PURCHASABLE", 400, "This product cannot be put in a cart"


class CurrencyMismatch(CartError):
    code, status, default_message = "CURRENCY_MISMATCH", 400, "A cart holds products of one currency only"


class CatalogUnavailable(CartError):
    code, status, default_message = "SERVICE_UNAVAILABLE", 503, "The catalog is unavailable"


# Orders' word on a discount code, passed on as it answered it.
class PromotionCodeInvalid(CartError):
    code, status, default_message = "PROMOTION_CODE_INVALID", 400, "This code is not valid on this storefront"


class PromotionExhausted(CartError):
    code, status, default_message = "PROMOTION_EXHAUSTED", 409, "This code has been used up"


# Orders' word on a shipping choice, passed on as it answered it.
class AddressNotFound(CartError):
    code, status, default_message = "ADDRESS_NOT_FOUND", 404, "Address not found"


class ShippingUnavailable(CartError):
    code, status, default_message = "SHIPPING_NOT_AVAILABLE", 400, "This storefront does not ship to that address"


class ShippingMethodUnavailable(CartError):
    code, status, default_message = ("SHIPPING_METHOD_UNAVAILABLE", 400,
                                     "That shipping method is not offered for this address")


class ProductUnavailable(CartError):
    code, status, default_message = "PRODUCT_UNAVAILABLE", 400, "A product of this cart is not available"


_ORDERS_REFUSALS: dict[str, type[CartError]] = {error.code: error for error in (
    PromotionCodeInvalid, PromotionExhausted, AddressNotFound, ShippingUnavailable, ShippingMethodUnavailable,
    ProductUnavailable, NotPurchasable, CurrencyMismatch)}


def refusal_of(code: str | None, payload: dict[str, Any]) -> AtelierError:
    """Orders' 4xx on a code or a shipping choice the customer made, as the cart answers it; one
    this cart does not know reads as an invalid code (the only refusal orders gave before shipping)."""
    details = payload.get("details") or {}
    if code == RateLimited.code:  # too many wrong codes: the caller waits as orders said
        return RateLimited(payload.get("message"), details=details,
                           headers={"Retry-After": str(details.get("retry_after", 1))})
    refusal = _ORDERS_REFUSALS.get(code or "", PromotionCodeInvalid)
    return refusal(payload.get("message"), details=details)
