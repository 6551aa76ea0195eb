"""Events produced by orders."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import AliasChoices, Field

from atelier_common.contracts.examples import (
    CUSTOMER_ID,
    EMAIL,
    INVOICE_NUMBER,
    LINE,
    ORDER,
    ORDER_ID,
    REFUND_ID,
    webhook_example,
)
from atelier_common.contracts.identity import StorefrontEvent
from atelier_common.events.envelope import ContractModel, IntegrationEvent
from atelier_common.money import Money

# The examples' invoice and promotion (the order and its customer: `examples`).
_INVOICE_ID = "5b0f3c2e-8d4a-4f61-9c7e-2a1b3c4d5e6f"
_PROMOTION_ID = "3c1e2d4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"


class OrderLine(ContractModel):
    """One line of an order as other services need it."""

    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    sku: str
    kind: str
    quantity: int
    unit_price: Decimal
    attributes: dict[str, Any] = {}
    # S0 print orders and retry packs name the thing they are for.
    book_id: uuid.UUID | None = None
    content_type: str | None = None
    content_id: uuid.UUID | None = None
    # Added by orders (optional): the product name as sold.
    name: str | None = None
    # A gift card line (kind `gift_card`, optional): whom its cards are mailed to (else the buyer),
    # the buyer's message, and when (None: once paid).
    gift_recipient_email: str | None = None
    gift_message: str | None = None
    gift_send_at: datetime | None = None


class OrderPlaced(StorefrontEvent):
    """A new order: catalog reserves its stock, cart clears the owner's cart."""

    model_config = webhook_example({
        **ORDER, "lines": [LINE], "from_cart": True, "currency": "USD", "total_amount": "32.24", "email": EMAIL,
        "shipping_method": "standard", "register_buyer": False, "settled": False, "ship_country": "US"})

    type = "order.placed"
    order_id: uuid.UUID
    order_number: str
    owner_id: uuid.UUID
    user_id: uuid.UUID | None = None
    lines: list[OrderLine]
    from_cart: bool = False
    # Added by orders (optional): what the order costs and whom to reach about it.
    currency: str | None = None
    total_amount: Decimal | None = None
    email: str | None = None
    # The code of the shipping method it ships by (the storefront zone's); None: nothing
    # shipped, or a storefront without zones.
    shipping_method: str | None = None
    # Whether the anonymous buyer gets an account once the order is paid, as orders decided when
    # placing it (docs/storefronts.md#guest-accounts); always False for a signed-in buyer.
    # Events from before the policy: False.
    register_buyer: bool = False
    # Nothing will be paid for it (a claim's replacement, sent at no charge): catalog takes its
    # stock for good at once, with no reservation to expire. Events from before claims: False.
    settled: bool = False
    # The country the order ships to (ISO 3166-1 alpha-2), by which catalog picks the stock
    # locations that serve it. None: nothing shipped, or events from before locations.
    ship_country: str | None = None


class OrderCancelled(StorefrontEvent):
    """Release the order's stock (reserved, or committed if it was paid)."""

    model_config = webhook_example({"storefront": "default", "order_id": ORDER_ID, "owner_id": CUSTOMER_ID,
                                    "was_paid": True, "reason": "Ordered twice"})

    type = "order.cancelled"
    order_id: uuid.UUID
    owner_id: uuid.UUID
    was_paid: bool = False
    reason: str | None = None


class OrderStatusChanged(StorefrontEvent):
    model_config = webhook_example({**ORDER, "email": EMAIL, "old_status": "processing", "new_status": "shipped",
                                    "note": "Royal Mail", "tracking_number": "1Z999AA10123456784",
                                    "locale": "en"})

    type = "order.status_changed"
    order_id: uuid.UUID
    order_number: str
    owner_id: uuid.UUID
    user_id: uuid.UUID | None = None
    email: str | None = None
    old_status: str | None = None
    new_status: str
    note: str | None = None
    # Added by orders (optional): set once staff ship the order.
    tracking_number: str | None = None
    # Added by orders (optional): the buyer's language (`Order.locale`), which identity mails in;
    # absent (an order placed before orders kept it): the storefront's default.
    locale: str | None = None


class DraftOrderSent(StorefrontEvent):
    """Staff sent a draft order (docs/back-office.md#draft-orders): it is an order awaiting payment
    now, and identity mails its customer the payment link. Not sent to webhook endpoints: the link
    pays the order without signing in."""

    type = "draft_order.sent"
    # The draft's id; or an exchange's (docs/back-office.md#exchanges), whose order's link pays the
    # difference its customer owes (`total_amount`: that amount).
    draft_id: uuid.UUID
    order_id: uuid.UUID
    order_number: str
    user_id: uuid.UUID | None = None
    email: str | None = None
    total_amount: Decimal
    currency: str
    # The storefront's page that starts the checkout with the link's token (`pay_order` link path).
    payment_url: str
    expires_at: datetime


class InvoiceIssued(StorefrontEvent):
    """A paid order's invoice was issued, numbered in its storefront's gap-free sequence; or
    (`kind` `supplementary`) a paid edit's, for the difference it charged, naming the original."""

    model_config = webhook_example({
        **ORDER, "invoice_id": _INVOICE_ID, "number": INVOICE_NUMBER, "email": EMAIL, "currency": "USD",
        "total_amount": "32.24", "tax_amount": "2.25", "issued_at": "2026-11-26T02:15:38.205697Z",
        "kind": "invoice", "original_number": None, "edit_id": None})

    type = "invoice.issued"
    invoice_id: uuid.UUID
    number: str
    order_id: uuid.UUID
    order_number: str
    owner_id: uuid.UUID
    user_id: uuid.UUID | None = None
    email: str | None = None
    currency: str
    total_amount: Decimal
    tax_amount: Decimal
    issued_at: datetime
    # `invoice`, or `supplementary`: a paid edit's (`edit_id`), supplementing `original_number`.
    kind: str = "invoice"
    original_number: str | None = None
    edit_id: uuid.UUID | None = None


class CreditNoteIssued(StorefrontEvent):
    """A refund of an invoiced order was credited: a credit note of the refund's amount,
    numbered in its storefront's own credit-note sequence, referencing the invoice."""

    model_config = webhook_example({
        **ORDER, "credit_note_id": "0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f", "number": "CN-DEFAULT-000007",
        "invoice_id": _INVOICE_ID, "invoice_number": INVOICE_NUMBER, "refund_id": REFUND_ID, "amount": "5.00",
        "currency": "USD", "reason": "Damaged corner", "issued_at": "2026-11-27T09:30:12.418503Z"})

    type = "credit_note.issued"
    credit_note_id: uuid.UUID
    number: str
    invoice_id: uuid.UUID
    invoice_number: str
    order_id: uuid.UUID
    order_number: str
    owner_id: uuid.UUID
    user_id: uuid.UUID | None = None
    refund_id: uuid.UUID | None = None
    amount: Decimal
    currency: str
    reason: str | None = None
    issued_at: datetime


# Events written before the contract's names (`item_id`, `restock`, a return's `lines`) may still
# sit in an outbox or a queue: read both names, write only the contract's.
_ORDER_ITEM_ID = AliasChoices("order_item_id", "item_id")
_RESALEABLE = AliasChoices("resaleable", "restock")
_ITEMS = AliasChoices("items", "lines")


class ReturnLine(ContractModel):
    """One line of a return: what came back of an order's line, and whether it goes back on sale."""

    order_item_id: uuid.UUID = Field(validation_alias=_ORDER_ITEM_ID)
    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    sku: str
    quantity: int
    # Set when staff receive it: resaleable, so catalog puts it back in stock.
    resaleable: bool = Field(default=False, validation_alias=_RESALEABLE)


_RETURN_EXAMPLE: dict[str, Any] = {
    **ORDER, "return_id": "3f6e1a2b-4c5d-4e6f-8a9b-0c1d2e3f4a5b", "number": "RET-20261127-7KQ2ZD",
    "reason": "Too small",
    "items": [{"order_item_id": "c92d3d50-e2f7-42e8-81de-cba4a7d781ce",
               "product_id": "770f2a5c-6a59-47bd-9b35-6b29746a5684", "variant_id": None, "sku": "SEAL-PRO-1L",
               "quantity": 1, "resaleable": False}]}


class ReturnEvent(StorefrontEvent):
    """What every event of a return names first: the return, its order and their owner."""

    return_id: uuid.UUID
    number: str
    order_id: uuid.UUID
    order_number: str
    owner_id: uuid.UUID
    user_id: uuid.UUID | None = None
    reason: str | None = None


class ReturnRequested(ReturnEvent):
    """A customer or staff opened a return of a delivered order's lines: nothing moved yet."""

    model_config = webhook_example({**_RETURN_EXAMPLE, "opened_by": "customer", "kind": "return", "resolution": None})

    type = "return.requested"
    # customer or staff
    opened_by: str
    items: list[ReturnLine] = Field(validation_alias=_ITEMS)
    # `claim`: staff settle damaged or missing goods without a parcel, by `resolution` (`refund`:
    # `return.received` follows at once; `replace`: a replacement order at no charge, `order.placed`
    # with `settled`); `exchange`: goods sent back for other goods (`exchange.requested` says which).
    # Events from before claims: a return.
    kind: Literal["return", "claim", "exchange"] = "return"
    resolution: Literal["refund", "replace"] | None = None


class ReturnReceived(ReturnEvent):
    """Staff received a return: payments refunds `amount` once (by `return_id`), catalog puts
    the `resaleable` items back in stock."""

    model_config = webhook_example({
        **_RETURN_EXAMPLE, "amount": "27.24", "currency": "USD", "refund_shipping": False, "kind": "return",
        "items": [{**_RETURN_EXAMPLE["items"][0], "resaleable": True}]})

    type = "return.received"
    # What orders computed to give back: the lines with their tax, less their share of the discount,
    # plus the shipping when `refund_shipping`; never more than was left to refund. 0: nothing to pay.
    amount: Decimal
    currency: str
    refund_shipping: bool = False
    items: list[ReturnLine] = Field(validation_alias=_ITEMS)
    # A claim settled by a refund: nothing came back, nothing is restocked (every item not resaleable).
    # An exchange: `amount` is the difference the shop owes (the lines' credit less the new items'
    # total; 0 when the customer owed it or nothing), refunded once like a return's.
    kind: Literal["return", "claim", "exchange"] = "return"


class ExchangeItem(ContractModel):
    """One new item an exchange sends out, as priced (the order's storefront, currency and tax)."""

    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    sku: str
    quantity: int
    unit_price: Decimal
    # What the line is charged: its price less its discount, plus its tax when added on top.
    amount: Decimal


_EXCHANGE_EXAMPLE: dict[str, Any] = {
    **{k: v for k, v in _RETURN_EXAMPLE.items() if k != "items"}, "reason": "Wants the larger size",
    "lines_back": _RETURN_EXAMPLE["items"], "new_items": [
        {"product_id": "8a1f2b3c-4d5e-4f60-8172-93a4b5c6d7e8", "variant_id": None, "sku": "SEAL-PRO-5L",
         "quantity": 1, "unit_price": "45.00", "amount": "49.05"}],
    "exchange_order_id": "6c2d3e4f-5a6b-4c7d-8e9f-1a2b3c4d5e6f", "exchange_order_number": "ORD-20261128-Q7MZ2C",
    "credit": "27.24", "new_items_total": "49.05", "difference": "21.81", "currency": "USD"}


class ExchangeRequested(ReturnEvent):
    """An exchange (docs/back-office.md#exchanges) of a delivered order: `lines_back` come back for
    `new_items`, priced at the order's storefront, currency and tax. `difference` is `new_items_total`
    − `credit` (above 0: the customer pays it; below 0: refunded once the lines are received).
    `exchange_order_id` is the order that sends the new items (null while a customer's request
    waits for staff)."""

    model_config = webhook_example({**_EXCHANGE_EXAMPLE, "opened_by": "staff"})

    type = "exchange.requested"
    opened_by: str
    lines_back: list[ReturnLine]
    new_items: list[ExchangeItem]
    exchange_order_id: uuid.UUID | None = None
    exchange_order_number: str | None = None
    credit: Decimal
    new_items_total: Decimal
    difference: Decimal
    currency: str


class ExchangeCompleted(ReturnEvent):
    """The lines of an exchange came back: the resaleable ones go back in stock (`return.received`,
    kind `exchange`, once), `refund` (what the shop owes, 0 if nothing) is refunded once, and the
    credit note of the lines is issued."""

    model_config = webhook_example({**{k: v for k, v in _EXCHANGE_EXAMPLE.items() if k != "new_items"},
                                    "difference": "-12.00", "refund": "12.00"})

    type = "exchange.completed"
    lines_back: list[ReturnLine]
    exchange_order_id: uuid.UUID | None = None
    exchange_order_number: str | None = None
    credit: Decimal
    new_items_total: Decimal
    difference: Decimal
    refund: Decimal
    currency: str


class OrderEditLine(ContractModel):
    """One line an order edit changed: its quantity before and after (0: the line was removed)."""

    order_item_id: uuid.UUID
    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    sku: str
    old_quantity: int
    new_quantity: int


class OrderEditChange(ContractModel):
    """One line an edit waiting for its payment changes (`order_item_id` None: a line it adds)."""

    order_item_id: uuid.UUID | None = None
    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    sku: str
    name: str | None = None
    old_quantity: int
    new_quantity: int


class OrderEditUnits(ContractModel):
    """Units an order edit adds to one product (or variant): a line raised, or a line added."""

    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    quantity: int


class OrderEditRequested(IntegrationEvent):
    """Staff confirmed an edit that adds units to an unpaid order (docs/back-office.md#order-edits):
    catalog holds `lines` for the order, all or none, once, and answers `stock.edit_reserved` or
    `stock.edit_rejected`; the edit applies only then."""

    type = "order.edit_requested"
    edit_id: uuid.UUID
    edit_version: int
    order_id: uuid.UUID
    order_number: str
    lines: list[OrderEditUnits]


class OrderEditRefused(IntegrationEvent):
    """An edit whose units catalog held could not apply (the order was paid, cancelled or expired
    meanwhile): catalog gives back `lines`, those the order still holds, once."""

    type = "order.edit_refused"
    edit_id: uuid.UUID
    edit_version: int
    order_id: uuid.UUID
    order_number: str
    lines: list[OrderEditUnits]


class OrderEdited(StorefrontEvent):
    """Staff edited an order that had not shipped (docs/back-office.md#order-edits): `edit_version`
    is the edit's number on the order (1, 2, ...). Catalog puts the units removed (`old_quantity` −
    `new_quantity` of each line) back in stock, once; payments refunds `refund` (when above 0) once
    per `edit_id`, and its `payment.refunded` names the edit as its `return_id`."""

    model_config = webhook_example({
        key: _RETURN_EXAMPLE[key] for key in ("storefront", "order_id", "order_number", "owner_id", "user_id")} | {
        "edit_id": "5b7c9d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e", "edit_version": 1, "reason": "Customer asked by phone",
        "old_total": "54.48", "new_total": "27.24", "refund": "27.24", "currency": "USD",
        "lines": [{"order_item_id": "c92d3d50-e2f7-42e8-81de-cba4a7d781ce",
                   "product_id": "770f2a5c-6a59-47bd-9b35-6b29746a5684", "variant_id": None, "sku": "SEAL-PRO-1L",
                   "old_quantity": 2, "new_quantity": 1}], "email": EMAIL, "paid": "0.00"})

    type = "order.edited"
    edit_id: uuid.UUID
    # The order's version this edit made (1 for its first edit; an event's own `version` is its schema's).
    edit_version: int
    order_id: uuid.UUID
    order_number: str
    owner_id: uuid.UUID
    user_id: uuid.UUID | None = None
    reason: str
    old_total: Decimal
    new_total: Decimal
    # What payments is asked to give back (never more than the payment has left; 0: the order was
    # not paid, nothing to refund).
    refund: Decimal
    currency: str
    lines: list[OrderEditLine]
    # The buyer's address, for identity's mail of the change (None: an event from before it was sent).
    email: str | None = None
    # What the customer paid for the edit through its payment link (0: nothing was due).
    paid: Decimal = Decimal("0.00")


class OrderEditAwaitingPayment(StorefrontEvent):
    """An edit of a paid order raised its total (docs/back-office.md#order-edits): catalog holds the
    units it adds, and the edit applies once the customer pays `amount_due` through `payment_url`
    (payments' `order.edit_paid`), before `expires_at` (else it is refused and the units go back).
    Identity mails the link. Not sent to webhook endpoints: the link pays without signing in."""

    type = "order.edit_awaiting_payment"
    edit_id: uuid.UUID
    edit_version: int
    order_id: uuid.UUID
    order_number: str
    owner_id: uuid.UUID
    user_id: uuid.UUID | None = None
    email: str | None = None
    reason: str
    old_total: Decimal
    new_total: Decimal
    amount_due: Decimal
    currency: str
    # Every line the edit changes, those it adds with a null `order_item_id`.
    lines: list[OrderEditChange]
    # The storefront's page that starts the edit's checkout with the link's token (`pay_edit`).
    payment_url: str
    expires_at: datetime


class ReturnRejected(ReturnEvent):
    """Staff refused a return before receiving it: nothing is refunded or restocked."""

    model_config = webhook_example({
        key: _RETURN_EXAMPLE[key] for key in ("storefront", "return_id", "number", "order_id", "order_number",
                                              "owner_id", "user_id")} | {"reason": "Worn, outside the window"})

    type = "return.rejected"


class PromotionRedeemed(StorefrontEvent):
    """An order was placed with a promotion: what it saved, and the promotion's uses now
    (`usage_limit` null: no limit). One per promotion the order was given."""

    model_config = webhook_example({
        **ORDER, "promotion_id": _PROMOTION_ID, "code": "SUMMER10", "name": "Summer 10%", "kind": "percentage",
        "user_id": None, "currency": "USD", "amount": "8.00", "free_shipping": False, "uses": 3, "usage_limit": 100})

    type = "promotion.redeemed"
    promotion_id: uuid.UUID
    code: str | None = None
    name: str
    kind: str
    order_id: uuid.UUID
    order_number: str
    owner_id: uuid.UUID
    user_id: uuid.UUID | None = None
    currency: str
    amount: Decimal
    free_shipping: bool = False
    uses: int
    usage_limit: int | None = None


class PromotionChanged(StorefrontEvent):
    """A promotion was created or changed (deleting one deactivates it): its terms as the
    cart needs them to know whether a storefront's carts can save anything without a code (its
    copy, `cart_promotion_window`). `updated_at` orders the changes: an older one never replaces
    a newer one."""

    model_config = webhook_example({
        "storefront": "default", "promotion_id": _PROMOTION_ID, "name": "Summer 10%", "code": "SUMMER10",
        "kind": "percentage", "value": "10.00", "is_active": True, "starts_at": "2026-06-01T00:00:00Z",
        "ends_at": None, "usage_limit": 100, "updated_at": "2026-05-30T09:12:00Z"})

    type = "promotion.changed"
    promotion_id: uuid.UUID
    name: str
    code: str | None = None
    kind: str
    value: Decimal
    is_active: bool
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    usage_limit: int | None = None
    updated_at: datetime


class Discount(ContractModel):
    """A promotion applied to a cart's or an order's lines: what it saves. Orders quotes it
    (`POST /internal/promotions/quote`), the cart shows it as quoted and the order keeps it."""

    promotion_id: uuid.UUID
    code: str | None = None
    name: str
    kind: str = Field(description="percentage, fixed or free_shipping")
    amount: Money = Field(description="What it saves (free shipping: 0 here, the order's shipping becomes 0)")
    free_shipping: bool = False


class QuotedLine(ContractModel):
    """One cart line as the order would charge it (docs/api.md#money-and-tax)."""

    discount: Money = Field(description="The promotions' share on the line")
    tax_rate: Decimal = Field(description="The rate applied, a fraction: 0.0725 for 7.25 %")
    tax_amount: Money = Field(description="The line's tax, on its price less its discount")
    tax_inclusive: bool = Field(description="True: the tax is inside the line's price; false: added to it")


class ShippingChoice(ContractModel):
    """One method the cart's destination offers, priced for the cart: what `POST /orders` charges by it."""

    id: uuid.UUID | None = Field(description="POST /orders' shipping_method_id; null: a storefront without zones")
    name: str | None
    price: Money = Field(description="What shipping the cart by this method costs (0 with free shipping)")
    tax_amount: Money = Field(description="The order's tax by this method, shipping's included where it is taxed")
    discount: Money = Field(description="What the promotions take off the lines")
    total_amount: Money = Field(description="What `POST /orders` charges by this method")


class CartShippingQuote(ContractModel):
    """Where a cart ships, by which method, and what it costs (orders' answer; the cart shows it)."""

    address_id: uuid.UUID | None = None
    country: str | None = None
    region: str | None = None
    zone: str | None = Field(default=None, description="The code of the zone covering the destination")
    method_id: uuid.UUID | None = Field(default=None, description="The method the order ships by: the one chosen, "
                                                                  "else the destination's first")
    method_name: str | None = None
    cost: Money = Field(default=Decimal("0"), description="What shipping costs after its discount")
    tax_amount: Money = Field(default=Decimal("0"), description="Shipping's own tax (within the cart's `tax_amount`)")
    methods: list[ShippingChoice] = Field(default=[], description="Every method the destination offers, priced")
    problem: dict[str, str] | None = Field(default=None, description=(
        "{reason, message}: why the cart cannot be priced for this destination now (e.g. ADDRESS_NOT_FOUND, "
        "SHIPPING_NOT_AVAILABLE, SHIPPING_METHOD_UNAVAILABLE); the totals then leave shipping out"))


class PromotionQuote(ContractModel):
    """Orders' answer to the cart's `POST /internal/promotions/quote`: what the lines save now."""

    discount_total: Money = Decimal("0")
    free_shipping: bool = False
    discounts: list[Discount] = []
    code: str | None = None
    code_problem: dict[str, str] | None = Field(default=None, description="{reason, message} when the code does "
                                                                          "not apply")
    # The lines priced with what they save, as the storefront taxes them before a destination is
    # known (orders' pricing: the discount lowers the taxed base). None: an orders that does not say.
    tax_amount: Money | None = None
    tax_included: Money | None = None
    total: Money | None = None
    # Each line's discount and tax, in the order the lines were sent (empty: an orders that does not say).
    lines: list[QuotedLine] = []
    # Where the cart ships and by which method, priced: set when the cart sent a destination.
    shipping: CartShippingQuote | None = None

