"""The rules of an order, as pure functions: statuses and their transitions, totals, numbers.

No I/O here: the service loads, asks these functions, then changes and records.
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from atelier_common.contracts.catalog import ProductKind
from atelier_common.contracts.identity import ALL_KINDS, GuestAccounts, ShippingZone, Storefront, with_shipping_ids
from atelier_common.money import quantize
from atelier_common.versions import version_of
from atelier_orders.pricing import TaxRules


class OrderStatus(StrEnum):
    PENDING = "pending"
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    RETURNED = "returned"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    REFUNDED = "refunded"


S = OrderStatus

# Every move an order can make, whoever makes it. pending → paid is there because the payment
# confirmation may overtake catalog's stock decision (they travel on different queues);
# awaiting_payment → rejected covers a stock refusal arriving after a reservation was announced.
TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.AWAITING_PAYMENT, S.PAID, S.REJECTED, S.CANCELLED}),
    S.AWAITING_PAYMENT: frozenset({S.PAID, S.REJECTED, S.CANCELLED}),
    S.PAID: frozenset({S.PROCESSING, S.COMPLETED, S.CANCELLED}),
    S.PROCESSING: frozenset({S.SHIPPED, S.CANCELLED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset({S.RETURNED}),
    S.RETURNED: frozenset(),
    S.COMPLETED: frozenset(),
    # A cancelled (or refused) order that had been paid becomes refunded once payments confirms.
    S.CANCELLED: frozenset({S.REFUNDED}),
    S.REJECTED: frozenset({S.REFUNDED}),
    S.REFUNDED: frozenset(),
}
CANCELLABLE: frozenset[OrderStatus] = frozenset({S.PENDING, S.AWAITING_PAYMENT, S.PAID, S.PROCESSING})
# Only the payment provider can say that the money went back.
SYSTEM_ONLY_TARGETS: frozenset[OrderStatus] = frozenset({S.REFUNDED})
# Statuses an order reaches only after its money arrived.
PAID_OR_LATER: frozenset[OrderStatus] = frozenset({S.PAID, S.PROCESSING, S.SHIPPED, S.DELIVERED, S.RETURNED,
                                                   S.COMPLETED})
# Statuses in which the order waits for its money: the only ones a payment may start from.
PAYABLE: frozenset[OrderStatus] = frozenset({S.PENDING, S.AWAITING_PAYMENT})


def is_payable(status: str) -> bool:
    """Whether a payment may start for an order in `status` (other services read it, never the status)."""
    return status in PAYABLE


def is_paid(status: str) -> bool:
    """Whether the order's money arrived (it may since have been shipped, delivered or returned)."""
    return status in PAID_OR_LATER


class Actor(StrEnum):
    """Who moved an order, as written in its history."""

    CUSTOMER = "customer"
    STAFF = "staff"
    CATALOG = "catalog"
    PAYMENTS = "payments"
    SYSTEM = "system"


# Product kinds (catalog's `kind`) whose lines are delivered to an address: goods and printed books.
SHIPPED_KINDS: frozenset[str] = frozenset({ProductKind.PHYSICAL, ProductKind.PRINT_TIER})
CONTENT_TYPES: frozenset[str] = frozenset({"CHARACTER", "COVER", "PAGE"})


def requires_shipping(kinds: Iterable[str]) -> bool:
    return any(kind in SHIPPED_KINDS for kind in kinds)


def is_digital_only(kinds: Iterable[str]) -> bool:
    return not requires_shipping(kinds)


def ships_with_tracking(storefront: Storefront | None) -> bool:
    """Whether the storefront's orders move to `shipped` only with a tracking number
    (`policies.tracking_number_required`; a storefront deleted since has no rule left)."""
    return storefront is not None and bool(storefront.policies.tracking_number_required)


def cancel_problem(status: str) -> str | None:
    """Why an order in `status` cannot be cancelled, or None when it can."""
    if status in CANCELLABLE:
        return None
    if status in (S.SHIPPED, S.DELIVERED, S.RETURNED):
        return f"Cannot cancel an order in {status} status: it has left the warehouse"
    if status in (S.CANCELLED, S.REFUNDED):
        return "The order is already cancelled"
    return f"Cannot cancel an order in {status} status"


def transition_problem(current: str, target: str, *, digital_only: bool, by_staff: bool) -> str | None:
    """Why `current` → `target` is not allowed, or None when it is. Cancelling is `cancel_problem`'s."""
    if target not in TRANSITIONS.get(OrderStatus(current), frozenset()):
        return f"Cannot change an order from {current} to {target}"
    if by_staff and target in SYSTEM_ONLY_TARGETS:
        return f"Only the payment provider's confirmation moves an order to {target}"
    if target == S.COMPLETED and not digital_only:
        return "Only digital orders are completed; goods are shipped and delivered"
    if target in (S.PROCESSING, S.SHIPPED) and digital_only:
        return f"A digital order has nothing to ship: it cannot become {target}"
    return None


def allowed_targets(current: str, *, digital_only: bool, by_staff: bool) -> list[str]:
    """Where an order may go from `current` (for error details)."""
    targets = TRANSITIONS.get(OrderStatus(current), frozenset())
    return sorted(t.value for t in targets
                  if transition_problem(current, t, digital_only=digital_only, by_staff=by_staff) is None)


def refund_state(total: Decimal, refunded: Decimal) -> str:
    """What of an order's money went back: "none", "partial" or "full" (a live order keeps its
    status when refunded, so staff read this beside it)."""
    if refunded <= 0:
        return "none"
    return "full" if quantize(refunded) >= quantize(total) else "partial"


# -- staff reports (#53) ---------------------------------------------------------------------------

# Orders whose money came in and stays: paid or later, not returned (nor cancelled or refunded).
# Gross: a partial refund is not taken off (it is payments' record, not the order's status).
REVENUE: frozenset[OrderStatus] = PAID_OR_LATER - {S.RETURNED}


def counts_as_revenue(status: str) -> bool:
    return status in REVENUE


@dataclass(frozen=True)
class DayGroup:
    """The orders of one day, storefront, currency and status: what the database counts and sums."""

    day: date
    storefront: str
    currency: str
    status: str
    orders: int
    amount: Decimal


@dataclass
class DailyOrders:
    """One day's orders of a storefront (placed that day, UTC): how many, how many of them count as
    revenue, and their revenue per currency."""

    day: date
    storefront: str
    orders: int = 0
    paid_orders: int = 0
    revenue: dict[str, Decimal] = field(default_factory=dict)


def daily_orders(groups: Iterable[DayGroup]) -> list[DailyOrders]:
    """The groups folded into one row per day and storefront, oldest day first, storefronts by
    name. A storefront's currency appears in `revenue` only once an order in it counts."""
    rows: dict[tuple[date, str], DailyOrders] = {}
    for group in groups:
        row = rows.setdefault((group.day, group.storefront), DailyOrders(group.day, group.storefront))
        row.orders += group.orders
        if counts_as_revenue(group.status):
            row.paid_orders += group.orders
            row.revenue[group.currency] = quantize(row.revenue.get(group.currency, Decimal("0")) + group.amount)
    return [rows[key] for key in sorted(rows)]


# -- money ----------------------------------------------------------------------------------------

def money_text(amount: Decimal, currency: str) -> str:
    """`32.24 USD`: how the history's notes, the logs and the invoices write an amount."""
    return f"{quantize(amount)} {currency}"


def percent(rate: Decimal) -> str:
    """`7.25 %`: a tax rate (0.0725) as the invoices print it."""
    return f"{(rate * 100).normalize():f} %"


def line_total(unit_price: Decimal, quantity: int) -> Decimal:
    return quantize(unit_price * quantity)


def price_changed(shown: Decimal | None, current: Decimal) -> bool:
    """A cart line shown at another unit price than catalog's now (a cart that shows none: no)."""
    return shown is not None and quantize(shown) != quantize(current)


def storefront_tax(storefront: Storefront, *, tax_inclusive_kinds: Iterable[str]) -> TaxRules:
    """How a storefront taxes where no zone says otherwise: its rate; every kind tax-inclusive when
    its prices include tax, else the service's tax-inclusive kinds (`tax_inclusive_kinds`, digital
    goods); its flat shipping charge taxed when `tax.shipping_taxed` says so."""
    tax = storefront.tax
    return TaxRules(rate=tax.rate,
                    inclusive_kinds=frozenset(ALL_KINDS) if tax.inclusive else frozenset(tax_inclusive_kinds),
                    shipping_taxed=tax.shipping_taxed, shipping_inclusive=tax.inclusive)


def zone_tax(zone: ShippingZone, storefront: Storefront, *, tax_inclusive_kinds: Iterable[str]) -> TaxRules:
    """How a zone taxes: its `tax_rate` (else the storefront's), its `tax_inclusive` (else the
    storefront's), and shipping taxed with the goods as `shipping_taxed` says, by default
    whenever the zone taxes goods."""
    rate = zone.tax_rate if zone.tax_rate is not None else storefront.tax.rate
    inclusive = storefront.tax.inclusive if zone.tax_inclusive is None else zone.tax_inclusive
    return TaxRules(rate=rate,
                    inclusive_kinds=frozenset(ALL_KINDS) if inclusive else frozenset(tax_inclusive_kinds),
                    shipping_taxed=zone.shipping_taxed if zone.shipping_taxed is not None else rate > 0,
                    shipping_inclusive=inclusive)


# -- shipping zones and methods (#56; docs/storefronts.md#shipping-zones) ---------------------------

# The product (or variant) attribute that says what one unit weighs, in grams: by-weight methods
# add it up over the shipped lines (a line without one weighs nothing).
WEIGHT_ATTRIBUTE = "weight_grams"


def unit_weight(attributes: Mapping[str, Any]) -> int:
    """Grams one unit weighs (`attributes["weight_grams"]`, a whole non-negative number), else 0."""
    value = attributes.get(WEIGHT_ATTRIBUTE)
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return 0
    try:
        grams = Decimal(str(value))
    except ArithmeticError:
        return 0
    return int(grams) if grams.is_finite() and grams > 0 else 0


@dataclass(frozen=True)
class ShippingOption:
    """One way to ship an order and its price. `code` None: a storefront without zones' one charge."""

    code: str | None
    name: str | None
    cost: Decimal
    # The method's id (GET /shipping-methods); None: a storefront without zones' one charge.
    id: str | None = None


@dataclass(frozen=True)
class ShippingQuote:
    """What an address makes of an order on a storefront: its zone, how it taxes there and the
    methods offered with their prices (the first is the default; none: nothing is shipped there)."""

    zone: ShippingZone | None
    tax: TaxRules
    options: tuple[ShippingOption, ...]

    @property
    def tax_rate(self) -> Decimal:
        return self.tax.rate

    def option(self, code: str | None, method_id: str | None = None) -> ShippingOption | None:
        """The method `method_id`, else `code` (both None: the default), or None when it is not offered here."""
        if method_id is not None:
            return next((option for option in self.options if option.id == method_id), None)
        if code is None:
            return self.options[0] if self.options else None
        return next((option for option in self.options if option.code == code), None)


def shipping_quote(storefront: Storefront, *, country: str | None, region: str | None,
                   lines: Iterable[tuple[str, Decimal, int, Mapping[str, Any]]],
                   tax_inclusive_kinds: Iterable[str], shipping_cost: Decimal) -> ShippingQuote:
    """The one rule of shipping and tax by destination, for (kind, amount after discounts, quantity,
    attributes) lines. A storefront without zones: its tax (`storefront_tax`) and its one flat
    charge (`tax.shipping_rate`, else the service's `shipping_cost`). With zones: the address's zone
    (`Storefront.shipping_zone`), its tax (`zone_tax`) and each of its methods priced on what the
    shipped lines cost after their discounts (a free-over threshold is judged on what the buyer
    pays) and on their weight; an address no zone covers: the storefront's tax and no method."""
    tax = storefront_tax(storefront, tax_inclusive_kinds=tax_inclusive_kinds)
    if not storefront.shipping_zones:
        flat = storefront.tax.shipping_rate if storefront.tax.shipping_rate is not None else shipping_cost
        return ShippingQuote(zone=None, tax=tax, options=(ShippingOption(code=None, name=None, cost=quantize(flat)),))
    zone = storefront.shipping_zone(country, region)
    if zone is None:
        return ShippingQuote(zone=None, tax=tax, options=())
    shipped = [(amount, unit_weight(attributes) * qty)
               for kind, amount, qty, attributes in lines if kind in SHIPPED_KINDS]
    subtotal = quantize(sum((amount for amount, _ in shipped), Decimal("0")))
    weight = sum(grams for _, grams in shipped)
    return ShippingQuote(
        zone=zone, tax=zone_tax(zone, storefront, tax_inclusive_kinds=tax_inclusive_kinds),
        options=tuple(ShippingOption(code=method.code, name=method.name, id=str(method.id),
                                     cost=quantize(method.cost(subtotal=subtotal, weight_grams=weight)))
                      for method in zone.methods))


def _as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def shipping_method_id(zone: str | None, method: str | None) -> uuid.UUID | None:
    """The id `GET /shipping-methods` listed for the method coded `method` of the zone coded `zone`,
    for orders placed before the id was kept. A method staff created (`POST /staff/shipping-zones/{id}/methods`)
    is coded by its id; one written in the storefront's zones without an id has the id derived from its
    code and its zone's (`with_shipping_ids`), a zone staff created being coded by its id too."""
    if method is None:
        return None
    if (own := _as_uuid(method)) is not None:
        return own
    if zone is None:
        return None
    zone_id = _as_uuid(zone)
    derived = with_shipping_ids({"code": zone, **({"id": zone_id} if zone_id else {}), "methods": [{"code": method}]})
    return uuid.UUID(str(derived["methods"][0]["id"]))


def currency_problem(currencies: Iterable[str], storefront: Storefront) -> str | None:
    """Why lines in `currencies` cannot make one order on `storefront`, or None when they can.

    An order is in one currency, and a storefront sells in its own. The default storefront (the
    install as it was before storefronts: it sells every product of the catalog, whatever its
    currency) keeps the older rule alone: one currency per order, any of the catalog's."""
    found = sorted(set(currencies))
    if len(found) != 1:
        return "All lines of an order must be in one currency"
    if not storefront.sells_currency(found[0]):
        return f"This storefront sells in {storefront.currency}, not {found[0]}"
    return None


# -- order numbers ----------------------------------------------------------------------------------

ORDER_NUMBER_ALPHABET = string.ascii_uppercase + string.digits
ORDER_NUMBER_PATTERN = re.compile(r"^ORD-\d{8}-[A-Z0-9]{6}$")


def new_order_number(today: date) -> str:
    """`ORD-YYYYMMDD-XXXXXX`: six random uppercase letters or digits (36^6 a day)."""
    suffix = "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(6))
    return f"ORD-{today:%Y%m%d}-{suffix}"


# -- addresses ------------------------------------------------------------------------------------

# What an order keeps of an address: a snapshot, so later edits do not rewrite past orders.
ADDRESS_FIELDS = ("id", "full_name", "first_name", "last_name", "company", "email", "phone", "street_address",
                  "address_line_1", "address_line_2", "apartment", "city", "state", "postal_code", "country", "type")
# What stays once the customer is erased: enough for tax and accounting, nothing that names a person.
ANONYMOUS_ADDRESS_FIELDS = ("city", "state", "postal_code", "country", "type")


def address_snapshot(address: Mapping[str, Any]) -> dict[str, Any]:
    snapshot = {key: address[key] for key in ADDRESS_FIELDS if address.get(key) is not None}
    if "id" in snapshot:
        snapshot["id"] = str(snapshot["id"])
    return snapshot


def address_lines(snapshot: Mapping[str, Any] | None) -> list[str]:
    """An address snapshot as printed on an invoice: name, company, street, city, country."""
    if not snapshot:
        return []
    name = snapshot.get("full_name") or " ".join(
        str(part) for part in (snapshot.get("first_name"), snapshot.get("last_name")) if part)
    lines = [name, snapshot.get("company"), snapshot.get("street_address") or snapshot.get("address_line_1"),
             snapshot.get("address_line_2"), snapshot.get("apartment"),
             " ".join(str(part) for part in (snapshot.get("postal_code"), snapshot.get("city")) if part),
             snapshot.get("state"), snapshot.get("country")]
    return [str(line) for line in lines if line]


def anonymised_address(snapshot: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if snapshot is None:
        return None
    return {key: snapshot[key] for key in ANONYMOUS_ADDRESS_FIELDS if key in snapshot}


def contact_email(*candidates: str | None) -> str | None:
    """The first email given: the signed-in user's, the one typed at checkout, the address's."""
    return next((email for email in candidates if email), None)


def registers_buyer(policy: GuestAccounts, *, signed_in: bool, asked: bool) -> bool:
    """Whether the order's buyer gets an account once it is paid (docs/storefronts.md#guest-accounts),
    decided when it is placed: never for a signed-in buyer (who has one; `asked` is ignored); for a
    guest, as the storefront's `guest_accounts` says: "create" always, "offer" only when the buyer
    `asked` at checkout (`create_account`), "never" not even then."""
    if signed_in:
        return False
    return policy == "create" or (policy == "offer" and asked)


# -- listing --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StaffOrderFilter:
    """Staff's order search (#36). `email` lower-case: orders keep the address as the buyer typed it."""

    email: str | None = None
    number: str | None = None
    customer: uuid.UUID | None = None
    status: str | None = None
    storefront: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


ORDERING_FIELDS = ("created_at", "total_amount")
DEFAULT_ORDERING = "-created_at"


@dataclass(frozen=True)
class Ordering:
    field: str
    descending: bool


def parse_ordering(value: str | None) -> Ordering | None:
    """`created_at`, `total_amount`, each with `-` for descending; None when unknown."""
    value = (value or DEFAULT_ORDERING).strip()
    descending = value.startswith("-")
    name = value.lstrip("-")
    return Ordering(field=name, descending=descending) if name in ORDERING_FIELDS else None


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def order_version(updated_at: datetime, status: str) -> str:
    """What a staff form about the order was read at (#36, `atelier_common.versions`): every
    change of the order moves its `updated_at`."""
    return version_of(updated_at, status)


# -- invoices and credit notes (#56) ------------------------------------------------------------------

class DocumentKind(StrEnum):
    """The numbered documents of a storefront, each with a gap-free sequence of its own."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


DOCUMENT_PREFIXES: Mapping[DocumentKind, str] = {DocumentKind.INVOICE: "INV", DocumentKind.CREDIT_NOTE: "CN"}


def document_number(kind: DocumentKind, storefront: str, sequence: int) -> str:
    """`INV-DEFAULT-000042`: the kind's prefix, the storefront's slug in capitals and its number in
    the storefront's gap-free sequence of that kind (six digits at least), which runs on across years."""
    return f"{DOCUMENT_PREFIXES[kind]}-{storefront.upper()}-{sequence:06d}"


def invoice_lines(items: Iterable[Any]) -> list[dict[str, Any]]:
    """What an invoice keeps of an order's lines (`OrderItemRow`s): money as decimal strings, with
    each line's discount and tax (its rows)."""
    return [{"sku": i.sku, "name": i.name, "variant_name": i.variant_name, "kind": i.kind, "quantity": i.quantity,
             "unit_price": str(quantize(i.unit_price)), "line_total": str(quantize(i.line_total)),
             "discount_amount": str(quantize(i.discount_amount)), "tax_rate": str(i.tax_rate),
             "tax_amount": str(quantize(i.tax_amount)), "tax_inclusive": bool(i.tax_inclusive)} for i in items]


def tax_breakdown(order: Any) -> list[dict[str, Any]]:
    """An order's tax per rate, as an invoice states it: for each (rate, added or included) the
    taxable base (what the lines and the shipping cost after their discounts) and the tax, from the
    order's rows (`OrderDetails`). Untaxed charges (rate 0) form their own group; tax rounding is
    the pricing rule's, so the groups' taxes add up to the order's `tax_amount`."""
    groups: dict[tuple[Decimal, bool], list[Decimal]] = {}
    for item in order.items:
        group = groups.setdefault((Decimal(item.tax_rate), bool(item.tax_inclusive)), [Decimal("0"), Decimal("0")])
        group[0] += item.line_total - item.discount_amount
        group[1] += item.tax_amount
    if order.shipping_cost > 0 or order.shipping_tax > 0:
        rate = Decimal(order.tax_rate or 0) if order.shipping_tax > 0 else Decimal("0")
        group = groups.setdefault((rate, bool(order.shipping_tax_inclusive) if order.shipping_tax > 0 else False),
                                  [Decimal("0"), Decimal("0")])
        group[0] += order.shipping_cost
        group[1] += order.shipping_tax
    return [{"rate": str(rate), "inclusive": inclusive, "base": str(quantize(base)), "tax": str(quantize(tax))}
            for (rate, inclusive), (base, tax) in sorted(groups.items(), key=lambda kv: (-kv[0][0], kv[0][1]))]



# -- returns (#56) ----------------------------------------------------------------------------------

class ReturnStatus(StrEnum):
    """requested (opened) → approved (optional) → received (staff have the goods; the refund is
    asked) → refunded (payments confirmed it); or rejected by staff before receipt."""

    REQUESTED = "requested"
    APPROVED = "approved"
    RECEIVED = "received"
    REFUNDED = "refunded"
    REJECTED = "rejected"


# The returns whose units count against what may still be returned: all but the rejected.
RETURN_HOLDS: frozenset[ReturnStatus] = frozenset({ReturnStatus.REQUESTED, ReturnStatus.APPROVED,
                                                   ReturnStatus.RECEIVED,
                                                   ReturnStatus.REFUNDED})
RETURN_NUMBER_PATTERN = re.compile(r"^RET-\d{8}-[A-Z0-9]{6}$")


def new_return_number(today: date) -> str:
    """`RET-YYYYMMDD-XXXXXX`, like an order's number."""
    suffix = "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(6))
    return f"RET-{today:%Y%m%d}-{suffix}"


def is_returnable_kind(kind: str) -> bool:
    """Only what was shipped comes back: digital goods, packs and credits were delivered as rights,
    not parcels (staff refund those with a plain refund)."""
    return kind in SHIPPED_KINDS


def return_problem(status: str) -> str | None:
    """Why an order in `status` takes no new return, or None when it does (delivered only)."""
    if status == S.DELIVERED:
        return None
    if status == S.RETURNED:
        return "Every delivered unit of this order has been returned already"
    return f"Only a delivered order can be returned; this one is {status}"


def returnable_quantities(items: Iterable[tuple[uuid.UUID, str, int]],
                          held: Mapping[uuid.UUID, int]) -> dict[uuid.UUID, int]:
    """Of (item id, kind, quantity) lines and the units already in returns (`held`, by item id):
    what may still be returned of each shipped line."""
    return {item_id: max(quantity - held.get(item_id, 0), 0)
            for item_id, kind, quantity in items if is_returnable_kind(kind)}


def quantity_problems(asked: Mapping[uuid.UUID, int], returnable: Mapping[uuid.UUID, int]) -> dict[str, str]:
    """Per asked item id (as text), why that quantity cannot be returned; empty when all can."""
    problems: dict[str, str] = {}
    for item_id, quantity in asked.items():
        left = returnable.get(item_id)
        if left is None:
            problems[str(item_id)] = "Not a shipped line of this order"
        elif quantity > left:
            problems[str(item_id)] = f"Only {left} left to return"
    return problems


@dataclass(frozen=True)
class ReturnedUnits:
    """Some units of one order line: what the line was charged (its price less its discount, plus
    its tax when the tax was added; the order's rows, `pricing.Charge.charged`), its quantity, and
    how many come back."""

    line_charged: Decimal
    line_quantity: int
    quantity: int


def returned_line_amount(units: ReturnedUnits) -> Decimal:
    """What the units of one line give back: their share of what the line was charged, half-up to
    the cent (every unit of a line returned: exactly what it was charged)."""
    return max(quantize(units.line_charged * units.quantity / units.line_quantity), Decimal("0.00"))


def return_amount(lines: Iterable[ReturnedUnits], *, shipping_charged: Decimal, refund_shipping: bool,
                  shipping_refunded: bool, refundable: Decimal) -> Decimal:
    """A received return's refund: its lines (`returned_line_amount`), plus what the order's
    shipping was charged (its cost and any tax added on it) when `refund_shipping` and no earlier
    return refunded it, never more than `refundable` (what the order's payment has left once its
    refunds and the other returns' are counted)."""
    total = sum((returned_line_amount(units) for units in lines), Decimal("0"))
    if refund_shipping and not shipping_refunded:
        total += shipping_charged
    return quantize(min(total, max(refundable, Decimal("0"))))


def everything_returned(returnable: Mapping[uuid.UUID, int]) -> bool:
    """Whether no shipped unit is left to return (`returnable_quantities` counting the refunded only)."""
    return bool(returnable) and all(left == 0 for left in returnable.values())
