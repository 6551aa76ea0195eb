"""Tables of the orders service: `customer_order` (ORDER is an SQL keyword), its items and history.

Relationships are `lazy="raise"`: every query says what it loads, so a forgotten load fails in
tests instead of turning into N+1 queries. Items and addresses are snapshots taken when the order
was placed; nothing here follows later changes of the catalog or the address book.
"""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, Relationship, SQLModel

from atelier_common.columns import UtcDateTime, json_field, utcnow
from atelier_common.contracts.identity import DEFAULT_STOREFRONT, TAX_NUMBER_MAX_LENGTH
from atelier_common.imports import ImportRefRow
from atelier_common.owners import OwnerRow, owner_indexes
from atelier_orders.domain import OrderStatus


def _timestamp(nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    return Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


def _money() -> Any:
    return Field(sa_column=Column(Numeric(12, 2), nullable=False))


def _money_or_zero() -> Any:
    """An amount added after orders existed: 0 on the rows written before (the migration fills it)."""
    return Field(default=Decimal("0.00"), sa_column=Column(Numeric(12, 2), nullable=False, server_default=text("0")))


STATUS_VALUES = ", ".join(f"'{status.value}'" for status in OrderStatus)


class Order(SQLModel, table=True):
    __tablename__ = "customer_order"
    __table_args__ = (
        UniqueConstraint("order_number", name="uq_customer_order_number"),
        CheckConstraint(f"status IN ({STATUS_VALUES})", name="ck_customer_order_status"),
        # A customer's list, newest first or by amount.
        Index("ix_customer_order_owner_created", "owner_id", "created_at"),
        Index("ix_customer_order_owner_total", "owner_id", "total_amount"),
        Index("ix_customer_order_user_id", "user_id"),
        Index("ix_customer_order_status_created", "status", "created_at"),
        Index("ix_customer_order_anon_reader_id", "anon_reader_id"),
        Index("ix_customer_order_claimed_at", "claimed_at"),
        # Staff's list of one storefront's orders; identity's count of them (`GET /internal/storefronts/…`).
        Index("ix_customer_order_storefront_created", "storefront", "created_at"),
        # Staff's search by the buyer's email, whatever its case.
        Index("ix_customer_order_email_lower", func.lower(text("email"))),
        # Staff's list of every order, newest first, whole or by day.
        Index("ix_customer_order_created", "created_at", "id"),
        # The paid orders' feed (`GET /staff/orders/paid`).
        Index("ix_customer_order_paid", "paid_at", "id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    order_number: str = Field(max_length=20)
    # The user id, or the anonymous id until that identity is claimed.
    owner_id: uuid.UUID
    user_id: uuid.UUID | None = None
    # The storefront it was placed on (docs/storefronts.md): set when placed, never changed.
    storefront: str = Field(default=DEFAULT_STOREFRONT, max_length=64,
                            sa_column_kwargs={"server_default": DEFAULT_STOREFRONT})
    email: str | None = Field(default=None, max_length=320)
    status: str = Field(default=OrderStatus.PENDING.value, max_length=32)
    currency: str = Field(max_length=3)
    subtotal: Decimal = _money()
    tax_amount: Decimal = _money()
    shipping_cost: Decimal = _money()
    discount: Decimal = _money()
    total_amount: Decimal = _money()
    shipping_address: dict[str, Any] | None = json_field(nullable=True)
    billing_address: dict[str, Any] | None = json_field(nullable=True)
    # A business buyer's tax or VAT number, as given at checkout (`POST /orders`), printed on the
    # invoice; None: a consumer, or not given. Cleared when the customer is erased.
    buyer_tax_number: str | None = Field(default=None, max_length=TAX_NUMBER_MAX_LENGTH)
    tracking_number: str | None = Field(default=None, max_length=100)
    from_cart: bool = False
    # Whether its anonymous buyer gets an account once it is paid, decided when placed
    # (`domain.registers_buyer`: the storefront's `guest_accounts`, the buyer's `create_account`);
    # payments carries it to identity on `order.paid`. False for a signed-in buyer.
    register_buyer: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    # The buyer's language when it was placed (`Storefront.locale_for`): its lines' names were
    # snapshotted in it, and its mails and invoices name them so. None: placed before languages
    # were kept, or in the storefront's default.
    locale: str | None = Field(default=None, max_length=12)
    # The buyer's customer group it was priced at (the token's on its storefront, or a draft's
    # `customer_group`): an edit prices a line it adds at that group's price list. Set when placed,
    # never from what a customer sends later; None: list prices (or placed before it was kept).
    customer_group: str | None = Field(default=None, max_length=32)
    # How it ships and the tax applied, as placed: the storefront zone's method (code and
    # name; None: a storefront without zones, or nothing shipped), the zone, and the tax rate.
    # None on orders placed before they were kept.
    shipping_method: str | None = Field(default=None, max_length=64)
    shipping_method_name: str | None = Field(default=None, max_length=100)
    shipping_zone: str | None = Field(default=None, max_length=64)
    # The method's id (`GET /shipping-methods`, `POST /orders`' `shipping_method_id`); None on orders
    # placed before it was kept (the read derives it: `destinations.shipping_method_id`).
    shipping_method_id: uuid.UUID | None = None
    tax_rate: Decimal | None = Field(default=None, sa_column=Column(Numeric(7, 6), nullable=True))
    # Of `tax_amount`, what the prices already include (docs/api.md#money-and-tax): the total adds
    # only the rest.
    tax_included: Decimal = _money_or_zero()
    # Shipping's own adjustments (`pricing.Charge`): what a promotion took off its cost (free
    # shipping; `shipping_cost` is what was charged), its tax, and whether that tax is inside it.
    shipping_discount: Decimal = _money_or_zero()
    shipping_tax: Decimal = _money_or_zero()
    shipping_tax_inclusive: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    paid_at: datetime | None = _timestamp(nullable=True)
    shipped_at: datetime | None = _timestamp(nullable=True)
    delivered_at: datetime | None = _timestamp(nullable=True)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()
    # Once the buyer's anonymous identity is claimed (an automatic registration when a guest pays):
    # that anonymous id, which may still read the order (the guest's browser keeps seeing what it
    # bought), and when. Housekeeping clears both once the anonymous token must have expired.
    anon_reader_id: uuid.UUID | None = None
    claimed_at: datetime | None = _timestamp(nullable=True)
    # The product it was moved in from (`atelier import`): history, never paid for here.
    imported_from: str | None = Field(default=None, max_length=64)
    # A replacement sent at no charge for a claim (`returns.claims`): the order it replaces. Nothing
    # is paid for it: it is ready to ship once catalog holds its stock, and it is never invoiced.
    replaces_order_id: uuid.UUID | None = None
    # An exchange's order (`returns.exchanges`): the credit of the lines that come back, which pays
    # that much of its total; the customer owes the rest (`total_amount - exchange_credit`).
    exchange_credit: Decimal = _money_or_zero()
    # The promotions it was given, frozen when placed: [{promotion_id, code, name, kind,
    # amount, free_shipping}] (`contracts.orders.Discount`), money as decimal strings. What each
    # saved on a line is not kept here: each item keeps its own `discount_amount`, and reads answer
    # `discounts[].lines` from those rows (`promotions.rules.order_discounts`).
    discounts: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(
        JSON().with_variant(JSONB(), "postgresql"), nullable=False, server_default=text("'[]'")))

    items: list["OrderItem"] = Relationship(sa_relationship_kwargs={
        "lazy": "raise", "order_by": lambda: OrderItem.position})
    status_history: list["OrderStatusHistory"] = Relationship(sa_relationship_kwargs={
        "lazy": "raise", "order_by": lambda: OrderStatusHistory.id})


class OrderItem(SQLModel, table=True):
    __tablename__ = "order_item"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="ck_order_item_quantity_positive"),
        Index("ix_order_item_order_id", "order_id", "position"),
        Index("ix_order_item_book_id", "book_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    order_id: uuid.UUID = Field(sa_column=Column(
        ForeignKey("customer_order.id", ondelete="CASCADE", name="fk_order_item_order_id"), nullable=False))
    position: int = Field(sa_column=Column(Integer, nullable=False))
    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    sku: str = Field(max_length=100)
    name: str = Field(max_length=200)
    variant_name: str | None = Field(default=None, max_length=200)
    kind: str = Field(max_length=32)
    quantity: int
    unit_price: Decimal = _money()
    line_total: Decimal = _money()
    # The line's adjustments as priced (`pricing.Charge`): its share of the promotions, and its tax
    # on `line_total - discount_amount` at `tax_rate`, added on top or included (`tax_inclusive`).
    discount_amount: Decimal = _money_or_zero()
    tax_rate: Decimal = Field(default=Decimal("0"), sa_column=Column(Numeric(7, 6), nullable=False,
                                                                      server_default=text("0")))
    tax_amount: Decimal = _money_or_zero()
    tax_inclusive: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    attributes: dict[str, Any] = json_field()
    # S0 print orders name their book; retry packs may name the item their retries are for.
    book_id: uuid.UUID | None = None
    content_type: str | None = Field(default=None, max_length=20)
    content_id: uuid.UUID | None = None
    # A gift card line: whom its cards are mailed to (None: the buyer), the buyer's message, and
    # when (None: once paid); payments issues and identity mails them (docs/back-office.md#gift-cards).
    gift_recipient_email: str | None = Field(default=None, max_length=320)
    gift_message: str | None = Field(default=None, max_length=500)
    gift_send_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    # Where its units ship from, as catalog reserved them (`stock.reserved`'s sources): a list of
    # {location_id, location, quantity}; None until then, or for an order from before locations.
    ships_from: list[dict[str, Any]] | None = json_field(nullable=True)


class OrderStatusHistory(SQLModel, table=True):
    __tablename__ = "order_status_history"
    __table_args__ = (Index("ix_order_status_history_order_id", "order_id", "id"),)

    # An increasing integer: two entries written in one transaction keep their order.
    id: int | None = Field(default=None, sa_column=Column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True))
    order_id: uuid.UUID = Field(sa_column=Column(
        ForeignKey("customer_order.id", ondelete="CASCADE", name="fk_order_status_history_order_id"),
        nullable=False))
    # NULL for the first entry; equal to to_status for a note that changed nothing (a failed payment).
    from_status: str | None = Field(default=None, max_length=32)
    to_status: str = Field(max_length=32)
    note: str = Field(default="", max_length=1000)
    actor: str = Field(max_length=20)
    # The staff member who made the change; never shown to customers.
    actor_id: uuid.UUID | None = None
    created_at: datetime = _timestamp()


class OrderOwner(OwnerRow, table=True):
    """A user whose identity events orders heard: `identity.anonymous_claimed` and
    `identity.user_deleted` of one user may arrive in either order or at once; both upsert and
    lock this row, and a claim heard after the erasure anonymises what it moves
    (`OwnershipService`)."""

    __tablename__ = "order_owner"
    __table_args__ = owner_indexes("order_owner")


class OrderPaymentRecord(SQLModel, table=True):
    """Orders' read model of an order's money, fed by payments' events: the payments, failed
    payments, refunds and returned money staff see on the order, without a call to payments per
    read (ARCHITECTURE: the others hold a local read model). Events before this table: not here."""

    __tablename__ = "order_payment_record"
    __table_args__ = (Index("ix_order_payment_record_order", "order_id", "occurred_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    order_id: uuid.UUID
    # payment (confirmed), payment_failed, refund, returned (money the order did not take, given back)
    kind: str = Field(max_length=20)
    payment_id: uuid.UUID
    refund_id: uuid.UUID | None = None
    amount: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2), nullable=True))
    currency: str | None = Field(default=None, max_length=3)
    provider: str | None = Field(default=None, max_length=32)
    reason: str | None = Field(default=None, max_length=500)
    occurred_at: datetime = _timestamp()


class OrdersImportRef(ImportRefRow, table=True):
    """Which row a source's primary key became (`atelier import`): a second run finds it and skips."""

    __tablename__ = "orders_import_ref"


class InvoiceSequence(SQLModel, table=True):
    """The last number given to a storefront's invoices, or to its credit notes (`kind`): one row
    each, incremented under its row lock in the transaction that issues the document
    (`InvoiceRepository.next_number`). A rolled-back issue rolls the increment back with it, so the
    numbers have no gap, which a database SEQUENCE (never rolled back) would not promise."""

    __tablename__ = "invoice_sequence"

    storefront: str = Field(max_length=64, primary_key=True)
    # invoice, credit_note
    kind: str = Field(max_length=16, primary_key=True)
    last_number: int = Field(sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), nullable=False))


class Invoice(SQLModel, table=True):
    """The invoice of a paid order, issued in the transaction that marks it paid: a snapshot
    of who sold, who bought, what and for how much, never changed afterwards (except the buyer's
    details when the customer is erased, like the order's)."""

    __tablename__ = "invoice"
    __table_args__ = (
        UniqueConstraint("number", name="uq_invoice_number"),
        # One original invoice per order, whatever delivers the payment twice; and one
        # supplementary invoice per paid edit, whatever delivers its payment twice.
        Index("uq_invoice_order_original", "order_id", unique=True,
              postgresql_where=text("kind = 'invoice'"), sqlite_where=text("kind = 'invoice'")),
        Index("uq_invoice_edit_id", "edit_id", unique=True),
        CheckConstraint("kind IN ('invoice', 'supplementary')", name="ck_invoice_kind"),
        # Accounting's list (`GET /staff/invoices`).
        Index("ix_invoice_issued", "issued_at", "id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # INV-<STOREFRONT>-<000001> (`invoice_rules.document_number`).
    number: str = Field(max_length=100)
    order_id: uuid.UUID = Field(sa_column=Column(
        ForeignKey("customer_order.id", ondelete="CASCADE", name="fk_invoice_order_id"), nullable=False))
    order_number: str = Field(max_length=20)
    storefront: str = Field(max_length=64)
    # The seller when the invoice was issued: the storefront's legal name (`Storefront.legal`), else
    # its name; its address lines, tax number, registration number and email (None, and no lines:
    # a storefront without legal details, or an invoice issued before they were kept).
    seller_name: str = Field(max_length=200)
    seller_address: list[str] | None = json_field(nullable=True)
    seller_tax_number: str | None = Field(default=None, max_length=TAX_NUMBER_MAX_LENGTH)
    seller_registration_number: str | None = Field(default=None, max_length=100)
    seller_email: str | None = Field(default=None, max_length=320)
    email: str | None = Field(default=None, max_length=320)
    billing_address: dict[str, Any] | None = json_field(nullable=True)
    shipping_address: dict[str, Any] | None = json_field(nullable=True)
    # The order's `buyer_tax_number` (cleared with the buyer's details when the customer is erased).
    buyer_tax_number: str | None = Field(default=None, max_length=TAX_NUMBER_MAX_LENGTH)
    # [{sku, name, variant_name, kind, quantity, unit_price, line_total}], money as decimal strings.
    lines: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(
        JSON().with_variant(JSONB(), "postgresql"), nullable=False))
    currency: str = Field(max_length=3)
    subtotal: Decimal = _money()
    tax_amount: Decimal = _money()
    shipping_cost: Decimal = _money()
    discount: Decimal = _money()
    total_amount: Decimal = _money()
    # The order's shipping method's name and tax rate; None: not kept for the order.
    shipping_method_name: str | None = Field(default=None, max_length=100)
    tax_rate: Decimal | None = Field(default=None, sa_column=Column(Numeric(7, 6), nullable=True))
    # The tax per rate, as the order's rows hold it (`invoice_rules.tax_breakdown`): [{rate, inclusive, base,
    # tax}], money as decimal strings; empty on invoices issued before it was kept.
    taxes: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(
        JSON().with_variant(JSONB(), "postgresql"), nullable=False, server_default=text("'[]'")))
    issued_at: datetime = _timestamp()
    # `invoice`: the order's own, for what its payment paid. `supplementary`: what a paid edit added
    # (`edit_id`), its lines and totals the difference, referring to the original (`original_number`).
    kind: str = Field(default="invoice", max_length=16, sa_column_kwargs={"server_default": "invoice"})
    edit_id: uuid.UUID | None = None
    original_number: str | None = Field(default=None, max_length=100)


class CreditNote(SQLModel, table=True):
    """A refund of an invoiced order: the amount given back, referencing the invoice; one per
    refund payments announced (`payment.refunded`'s `refund_id`)."""

    __tablename__ = "credit_note"
    __table_args__ = (
        UniqueConstraint("number", name="uq_credit_note_number"),
        UniqueConstraint("refund_id", name="uq_credit_note_refund_id"),
        UniqueConstraint("return_id", name="uq_credit_note_return_id"),
        Index("ix_credit_note_order_id", "order_id", "issued_at"),
        Index("ix_credit_note_issued", "issued_at", "id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # CN-<STOREFRONT>-<000001>, a sequence of its own per storefront.
    number: str = Field(max_length=100)
    invoice_id: uuid.UUID = Field(sa_column=Column(
        ForeignKey("invoice.id", ondelete="CASCADE", name="fk_credit_note_invoice_id"), nullable=False))
    order_id: uuid.UUID
    storefront: str = Field(max_length=64)
    # None for a refund announced before refunds had ids (the inbox alone keeps it once).
    refund_id: uuid.UUID | None = None
    payment_id: uuid.UUID
    amount: Decimal = _money()
    currency: str = Field(max_length=3)
    reason: str | None = Field(default=None, max_length=500)
    # An exchange's credit note (no refund of its own: the lines coming back credit the exchange's
    # order): the exchange, and the lines it credits [{order_item_id, sku, name, quantity, amount}].
    return_id: uuid.UUID | None = None
    lines: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(
        JSON().with_variant(JSONB(), "postgresql"), nullable=True))
    issued_at: datetime = _timestamp()


class OrderReturn(SQLModel, table=True):
    """A return of some of a delivered order's units: requested → received → refunded, or
    rejected. Opened under the order's row lock, so two returns never take the same unit; received
    by a guarded UPDATE (`WHERE status = 'requested'`), so its refund is asked for once."""

    __tablename__ = "order_return"
    __table_args__ = (
        UniqueConstraint("number", name="uq_order_return_number"),
        CheckConstraint("status IN ('requested', 'approved', 'received', 'refunded', 'rejected', 'replaced')",
                        name="ck_order_return_status"),
        CheckConstraint("kind IN ('return', 'claim', 'exchange')", name="ck_order_return_kind"),
        Index("ix_order_return_order_id", "order_id", "created_at"),
        # Staff's list: by status and storefront, newest first.
        Index("ix_order_return_status_created", "status", "created_at"),
        Index("ix_order_return_storefront_created", "storefront", "created_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # RET-YYYYMMDD-XXXXXX (`return_rules.new_return_number`).
    number: str = Field(max_length=20)
    order_id: uuid.UUID = Field(sa_column=Column(
        ForeignKey("customer_order.id", ondelete="CASCADE", name="fk_order_return_order_id"), nullable=False))
    order_number: str = Field(max_length=20)
    storefront: str = Field(max_length=64)
    status: str = Field(default="requested", max_length=16)
    # `return`: the customer sends goods back for money; `claim`: staff settle damaged or missing
    # goods without a parcel, by a refund or by a replacement (`resolution`) sent as an order of its
    # own (`replacement_order_id`); `exchange`: goods sent back for other goods, which go out as an
    # order of their own (`replacement_order_id`, `returns.exchanges`).
    kind: str = Field(default="return", max_length=8, sa_column_kwargs={"server_default": "return"})
    resolution: str | None = Field(default=None, max_length=8)
    replacement_order_id: uuid.UUID | None = None
    reason: str | None = Field(default=None, max_length=500)
    # customer or staff; the staffer who opened it, received or rejected it last.
    opened_by: str = Field(max_length=20)
    staff_id: uuid.UUID | None = None
    refund_shipping: bool = False
    currency: str = Field(max_length=3)
    # Set when received: what orders asked payments to refund.
    amount: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2), nullable=True))
    # Set when payments confirms the refund (`payment.refunded` with this return's id).
    refund_id: uuid.UUID | None = None
    refunded_amount: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2), nullable=True))
    note: str | None = Field(default=None, max_length=500)
    # An exchange: what the lines coming back are credited (their share of what was charged), what
    # the items going out cost (`outgoing_total`) and those items as priced [{product_id, variant_id,
    # sku, name, variant_name, kind, quantity, unit_price, line_total, discount_amount, tax_rate,
    # tax_amount, tax_inclusive, attributes}], money as decimal strings.
    credit_amount: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2), nullable=True))
    outgoing_total: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2), nullable=True))
    outgoing: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(
        JSON().with_variant(JSONB(), "postgresql"), nullable=True))
    created_at: datetime = _timestamp()
    received_at: datetime | None = _timestamp(nullable=True)
    refunded_at: datetime | None = _timestamp(nullable=True)
    updated_at: datetime = _timestamp()


class OrderReturnLine(SQLModel, table=True):
    """Some units of one order line in a return; `restock` is staff's word when they receive it."""

    __tablename__ = "order_return_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="ck_order_return_line_quantity_positive"),
        UniqueConstraint("return_id", "item_id", name="uq_order_return_line_item"),
        Index("ix_order_return_line_item_id", "item_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    return_id: uuid.UUID = Field(sa_column=Column(
        ForeignKey("order_return.id", ondelete="CASCADE", name="fk_order_return_line_return_id"), nullable=False))
    item_id: uuid.UUID = Field(sa_column=Column(
        ForeignKey("order_item.id", ondelete="CASCADE", name="fk_order_return_line_item_id"), nullable=False))
    position: int = Field(sa_column=Column(Integer, nullable=False))
    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    sku: str = Field(max_length=100)
    name: str = Field(max_length=200)
    quantity: int
    restock: bool | None = None
    # Set when received: what these units give back (`return_rules.returned_line_amount`).
    amount: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2), nullable=True))


class Promotion(SQLModel, table=True):
    """A promotion of one storefront: automatic (no code) or behind a code, unique per
    storefront whatever its case (`code_key`). `uses` counts the orders that redeemed it, raised
    by a guarded UPDATE in the placing transaction (`PromotionRepository.take_use`) and lowered
    when such an order is cancelled or rejected before payment; `usage_limit` caps it."""

    __tablename__ = "promotion"
    __table_args__ = (
        UniqueConstraint("storefront", "code_key", name="uq_promotion_storefront_code"),
        CheckConstraint("uses >= 0", name="ck_promotion_uses_positive"),
        CheckConstraint("usage_limit IS NULL OR uses <= usage_limit", name="ck_promotion_uses_within_limit"),
        Index("ix_promotion_storefront_active", "storefront", "is_active"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    storefront: str = Field(max_length=64)
    name: str = Field(max_length=200)
    # As staff typed it; `code_key` is how it is matched (`promotions.rules.code_key`: trimmed, lower
    # case; NULL: an automatic promotion).
    code: str | None = Field(default=None, max_length=64)
    code_key: str | None = Field(default=None, max_length=64)
    # percentage, fixed, free_shipping (`promotions.rules.PromotionKind`)
    kind: str = Field(max_length=16)
    value: Decimal = _money()
    # What it covers (ids as strings): these products' lines, these categories' lines; neither: the order.
    product_ids: list[str] = Field(default_factory=list, sa_column=Column(
        JSON().with_variant(JSONB(), "postgresql"), nullable=False))
    category_ids: list[str] = Field(default_factory=list, sa_column=Column(
        JSON().with_variant(JSONB(), "postgresql"), nullable=False))
    # Who may get it: the codes of customer groups of its storefront; none: everybody.
    customer_groups: list[str] = Field(default_factory=list, sa_column=Column(
        JSON().with_variant(JSONB(), "postgresql"), nullable=False, server_default=text("'[]'")))
    min_subtotal: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2), nullable=True))
    starts_at: datetime | None = _timestamp(nullable=True)
    ends_at: datetime | None = _timestamp(nullable=True)
    is_active: bool = True
    combinable: bool = False
    usage_limit: int | None = None
    uses: int = 0
    usage_limit_per_customer: int | None = None
    # Its name in its storefront's other languages (locale → name; `PromotionTerms.names`).
    names: dict[str, str] = Field(default_factory=dict, sa_column=Column(
        JSON().with_variant(JSONB(), "postgresql"), nullable=False, server_default=text("'{}'")))
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class OrdersCustomerGroup(SQLModel, table=True):
    """Orders' copy of identity's customer groups (`customer_group.changed` / `.deleted`): the codes
    a promotion may name on each storefront. A deleted group keeps its row (`deleted`), so a late
    `changed` of an older revision does not bring it back."""

    # Not `customer_group` (identity's) nor `customer_group_copy` (catalog's): the embedded mode
    # holds every service's tables in one metadata.
    __tablename__ = "orders_customer_group"

    storefront: str = Field(primary_key=True, max_length=64)
    code: str = Field(primary_key=True, max_length=32)
    revision: int = Field(sa_type=BigInteger)
    deleted: bool = False


class PromotionRedemption(SQLModel, table=True):
    """A promotion applied to an order, frozen with it: what it saved (each order line keeps
    its own discount, `order_item.discount_amount`), who redeemed it (for the per-customer limit).
    `released_at`: the order was cancelled or rejected before payment, and the use went back to the
    promotion."""

    __tablename__ = "promotion_redemption"
    __table_args__ = (
        UniqueConstraint("order_id", "promotion_id", name="uq_promotion_redemption_order"),
        Index("ix_promotion_redemption_owner", "promotion_id", "owner_id"),
        Index("ix_promotion_redemption_user", "promotion_id", "user_id"),
        Index("ix_promotion_redemption_email", "promotion_id", "email_key"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    promotion_id: uuid.UUID = Field(sa_column=Column(
        ForeignKey("promotion.id", ondelete="CASCADE", name="fk_promotion_redemption_promotion_id"), nullable=False))
    order_id: uuid.UUID = Field(sa_column=Column(
        ForeignKey("customer_order.id", ondelete="CASCADE", name="fk_promotion_redemption_order_id"),
        nullable=False))
    storefront: str = Field(max_length=64)
    name: str = Field(max_length=200)
    code: str | None = Field(default=None, max_length=64)
    kind: str = Field(max_length=16)
    owner_id: uuid.UUID
    user_id: uuid.UUID | None = None
    email_key: str | None = Field(default=None, max_length=320)
    amount: Decimal = _money()
    free_shipping: bool = False
    released_at: datetime | None = _timestamp(nullable=True)
    created_at: datetime = _timestamp()


class DraftOrder(SQLModel, table=True):
    """An order staff are taking for a customer (docs/back-office.md#draft-orders): lines, prices
    and discounts being put together, priced on every read by placement's own function. Sent, it
    becomes an order (`order_id`) and stays as the record of how it was made."""

    __tablename__ = "draft_order"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'sent')", name="ck_draft_order_status"),
        CheckConstraint("manual_discount >= 0", name="ck_draft_order_manual_discount"),
        Index("ix_draft_order_created", "created_at", "id"),
        Index("ix_draft_order_storefront_status", "storefront", "status"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    storefront: str = Field(max_length=64)
    status: str = Field(default="open", max_length=16)
    # The customer's account, or None for a new e-mail: the order is then owned by `owner_id`, an id
    # of its own (a guest's), and paid through the mailed link.
    user_id: uuid.UUID | None = None
    owner_id: uuid.UUID
    email: str | None = Field(default=None, max_length=320)
    # The customer group the lines are priced at (a business buyer's price lists); None: list prices.
    customer_group: str | None = Field(default=None, max_length=32)
    buyer_tax_number: str | None = Field(default=None, max_length=TAX_NUMBER_MAX_LENGTH)
    promotion_code: str | None = Field(default=None, max_length=64)
    manual_discount: Decimal = Field(default=Decimal("0.00"), sa_column=Column(Numeric(12, 2), nullable=False))
    manual_discount_reason: str | None = Field(default=None, max_length=500)
    shipping_address: dict[str, Any] | None = json_field(nullable=True)
    # A method's id or code in the address's zone; None: the zone's first.
    shipping_method: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=1000)
    order_id: uuid.UUID | None = None
    order_number: str | None = Field(default=None, max_length=20)
    created_by: uuid.UUID
    sent_at: datetime | None = _timestamp(nullable=True)
    # Until when the mailed payment link pays the order (its token is signed with it: a second send
    # answers the same link).
    payment_link_expires_at: datetime | None = _timestamp(nullable=True)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class DraftOrderLine(SQLModel, table=True):
    """A draft's line: a catalog product (or variant), at catalog's price unless staff set one
    (`unit_price`, with the `price_reason` the audit log keeps)."""

    __tablename__ = "draft_order_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="ck_draft_order_line_quantity"),
        CheckConstraint("unit_price IS NULL OR unit_price >= 0", name="ck_draft_order_line_price"),
        Index("ix_draft_order_line_draft", "draft_id", "position"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    draft_id: uuid.UUID = Field(sa_column=Column(
        ForeignKey("draft_order.id", ondelete="CASCADE", name="fk_draft_order_line_draft_id"), nullable=False))
    position: int
    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    quantity: int
    unit_price: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2), nullable=True))
    price_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = _timestamp()


class OrderEdit(SQLModel, table=True):
    """One confirmed edit of an order that had not shipped (docs/back-office.md#order-edits): its
    version on the order (1, 2, ...; unique, written under the order's row lock), what changed,
    who and why, the totals before and after, and the refund asked of payments (`order.edited`).
    An edit that adds units is `pending` until catalog holds them, then `applied` or `refused`."""

    __tablename__ = "order_edit"
    __table_args__ = (
        UniqueConstraint("order_id", "version", name="uq_order_edit_order_version"),
        CheckConstraint("version > 0", name="ck_order_edit_version"),
        CheckConstraint("refund_amount >= 0", name="ck_order_edit_refund"),
        CheckConstraint("status IN ('pending', 'awaiting_payment', 'applied', 'refused')", name="ck_order_edit_status"),
        # The edits waiting for their payment, by deadline (the expiry sweep).
        Index("ix_order_edit_expires", "status", "expires_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    order_id: uuid.UUID = Field(sa_column=Column(
        ForeignKey("customer_order.id", ondelete="CASCADE", name="fk_order_edit_order_id"), nullable=False))
    version: int
    staff_id: uuid.UUID | None = None
    reason: str = Field(max_length=500)
    # [{order_item_id, sku, name, old_quantity, new_quantity}], in the order's line order; a line
    # the edit adds has no order_item_id (until applied) and keeps what it sells and its price
    # (product_id, variant_id, kind, unit_price, tax_rate, tax_inclusive, ...).
    changes: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(
        JSON().with_variant(JSONB(), "postgresql"), nullable=False))
    status: str = Field(default="applied", max_length=16, sa_column_kwargs={"server_default": "applied"})
    # Why a refused edit did not apply (catalog's refusal, or the order moved on meanwhile).
    note: str | None = Field(default=None, max_length=500)
    currency: str = Field(max_length=3)
    old_total: Decimal = _money()
    new_total: Decimal = _money()
    refund_amount: Decimal = _money()
    # Set when payments confirms the refund (`payment.refunded` naming this edit as its return).
    refund_id: uuid.UUID | None = None
    refunded_at: datetime | None = _timestamp(nullable=True)
    created_at: datetime = _timestamp()
    # An edit of a paid order that raised its total: what it leaves due (its supplementary payment),
    # until when its link pays it (`awaiting_payment`; then refused), and the payment once it came.
    amount_due: Decimal = Field(default=Decimal("0.00"), sa_column=Column(
        Numeric(12, 2), nullable=False, server_default="0"))
    expires_at: datetime | None = _timestamp(nullable=True)
    payment_id: uuid.UUID | None = None
    paid_at: datetime | None = _timestamp(nullable=True)
