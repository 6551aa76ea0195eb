"""The orders service's failures, one class each; `atelier_common.errors` renders them."""

from __future__ import annotations

from atelier_common.errors import AtelierError


class OrdersError(AtelierError):
    pass


# A missing resource answers 404 `NOT_FOUND` (docs/api.md, Errors); another owner's order is missing too.
class OrderNotFound(OrdersError):
    code, status, default_message = "NOT_FOUND", 404, "Order not found"


# An unpaid order has no invoice yet; a credit note is looked up among its invoice's.
class StorefrontNotFound(OrdersError):
    """A storefront an API key may not touch, named by a staff write: as unknown to it as another
    storefront's order is (docs/security.md, "API keys")."""

    code, status, default_message = "NOT_FOUND", 404, "Storefront not found"


class InvoiceNotFound(OrdersError):
    code, status, default_message = "NOT_FOUND", 404, "Invoice not found"


class CreditNoteNotFound(OrdersError):
    code, status, default_message = "NOT_FOUND", 404, "Credit note not found"


class AddressNotFound(OrdersError):
    code, status, default_message = "ADDRESS_NOT_FOUND", 404, "Address not found"


class BookNotFound(OrdersError):
    code, status, default_message = "BOOK_NOT_FOUND", 404, "Book not found"


class AddressRequired(OrdersError):
    code, status, default_message = "ADDRESS_REQUIRED", 400, "A shipping address is required for this order"


class CartEmpty(OrdersError):
    code, status, default_message = "CART_EMPTY", 400, "The cart is empty"


class ProductUnavailable(OrdersError):
    code, status, default_message = "PRODUCT_UNAVAILABLE", 400, "A product of this order is not available"


class NotPurchasable(OrdersError):
    # Only what can be delivered is sold; a subscription plan is billed, never ordered.
    code, status, default_message = "NOT_PURCHASABLE", 400, "This product cannot be bought in an order"


class CurrencyMismatch(OrdersError):
    code, status, default_message = "CURRENCY_MISMATCH", 400, "All lines of an order must be in one currency"


# Nothing is sold that cannot be delivered: the address is in none of the storefront's zones,
# or the method asked for is not one its zone offers.
class ShippingUnavailable(OrdersError):
    code, status, default_message = "SHIPPING_NOT_AVAILABLE", 400, "This storefront does not ship to that address"


class ShippingMethodUnavailable(OrdersError):
    code, status, default_message = ("SHIPPING_METHOD_UNAVAILABLE", 400,
                                     "That shipping method is not offered for this address")


class RetryTargetNotFound(OrdersError):
    # A retry pack must name an existing item of the buyer's own book: refused before any payment.
    code, status, default_message = "VALIDATION_ERROR", 400, "The retry pack's item does not exist or is not yours"


class InvalidOrderLine(OrdersError):
    code, status, default_message = "VALIDATION_ERROR", 400, "An order line is not valid"


class InvalidPaidCursor(OrdersError):
    code, status, default_message = "VALIDATION_ERROR", 400, "The cursor is not one this list gave"


class InvalidOrdering(OrdersError):
    code, status, default_message = "VALIDATION_ERROR", 400, "Unknown ordering field"


class InsufficientStock(OrdersError):
    code, status, default_message = "INSUFFICIENT_STOCK", 409, "Not enough stock"


class PriceChanged(OrdersError):
    # The cart showed another price than catalog's now: the cart now shows the new one, and the
    # customer confirms by placing the order again.
    code, status, default_message = "PRICE_CHANGED", 409, "Prices changed since they were shown in the cart"


# The seed (S3) answers 400 with the reason when an order can no longer be cancelled.
class OrderNotCancellable(OrdersError):
    code, status, default_message = "ORDER_NOT_CANCELLABLE", 400, "This order can no longer be cancelled"


class InvalidStatusTransition(OrdersError):
    code, status, default_message = "INVALID_STATUS_TRANSITION", 409, "This status change is not allowed"


class OrderNumberExhausted(OrdersError):
    code, status, default_message = "CONFLICT", 409, "Could not allocate an order number; try again"


class TrackingNumberRequired(OrdersError):
    # The order's storefront ships with a tracking number (`policies.tracking_number_required`).
    code, status, default_message = "VALIDATION_ERROR", 400, "This storefront's orders ship with a tracking number"


# Returns.
class ReturnNotFound(OrdersError):
    code, status, default_message = "NOT_FOUND", 404, "Return not found"


class OrderNotReturnable(OrdersError):
    code, status, default_message = "ORDER_NOT_RETURNABLE", 409, "Only a delivered order can be returned"


class ReturnQuantityExceeded(OrdersError):
    # More units than were delivered less those already in returns (open, received or refunded).
    code, status, default_message = "RETURN_QUANTITY_EXCEEDED", 409, "More units than are left to return"


class InvalidReturnLine(OrdersError):
    code, status, default_message = "VALIDATION_ERROR", 400, "A line of this return is not valid"


class ReturnNotOpen(OrdersError):
    # Received or rejected already (a second receive of the same return is this answer, and no refund).
    code, status, default_message = "RETURN_NOT_OPEN", 409, "This return is no longer open"
# -- promotions --------------------------------------------------------------------------------

class PromotionNotFound(OrdersError):
    code, status, default_message = "NOT_FOUND", 404, "Promotion not found"


class PromotionCodeTaken(OrdersError):
    code, status, default_message = "PROMOTION_CODE_TAKEN", 409, "Another promotion of this storefront has this code"


class PromotionCodeInvalid(OrdersError):
    # Unknown on the storefront, inactive, not started or expired, or not for this order:
    # `details.code` and `details.reason` (invalid, below_minimum, no_eligible_lines, customer_limit).
    code, status, default_message = "PROMOTION_CODE_INVALID", 400, "This code is not valid for this order"


class PromotionExhausted(OrdersError):
    # Every use of the code is taken (`usage_limit`): nothing is created.
    code, status, default_message = "PROMOTION_EXHAUSTED", 409, "This code has been used up"


class DiscountChanged(OrdersError):
    # Like PRICE_CHANGED: the discount now is not the one the cart showed (`details.shown`, `details.current`).
    code, status, default_message = "DISCOUNT_CHANGED", 409, "The discount changed since the cart showed it"


# -- draft orders ------------------------------------------------------------------------------

class DraftNotFound(OrdersError):
    code, status, default_message = "NOT_FOUND", 404, "Draft order not found"


class DraftLineNotFound(OrdersError):
    code, status, default_message = "NOT_FOUND", 404, "Draft order line not found"


class DraftAlreadySent(OrdersError):
    # A sent draft is an order now: changed through the order, never through the draft.
    code, status, default_message = "DRAFT_ALREADY_SENT", 409, "This draft order was sent and can no longer change"


class DraftEmpty(OrdersError):
    code, status, default_message = "DRAFT_EMPTY", 400, "A draft order needs at least one line to be sent"


class DraftContactRequired(OrdersError):
    # Nobody would get the payment link.
    code, status, default_message = ("VALIDATION_ERROR", 400,
                                     "A draft order for a customer without an account needs an email")


class OrderNotEditable(OrdersError):
    # Edits change an order until it ships: shipped, delivered, cancelled (and the others) are this.
    code, status, default_message = "ORDER_NOT_EDITABLE", 409, "Only an order that has not shipped can be edited"


class OrderEditUnsupported(OrdersError):
    # Adding units (or an edit that would raise the total) needs a charge of the difference: not yet.
    code, status, default_message = "ORDER_EDIT_UNSUPPORTED", 409, "This edit would charge the customer more"


class InvalidEditLine(OrdersError):
    code, status, default_message = "VALIDATION_ERROR", 400, "A change of this edit is not valid"


class LocaleNotOffered(OrdersError):
    code, status, default_message = ("LOCALE_NOT_OFFERED", 422,
                                     "The storefront shows no such language besides its default")
