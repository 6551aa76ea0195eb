"""The rules of an order, as pure functions: statuses and their transitions, totals, numbers.

No I/O here: the service loads, asks these functions, then changes and records.
"""

from __future__ import annotations

import base64
import re
import secrets
import string
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from atelier_common.contracts.catalog import ProductKind
from atelier_common.contracts.identity import GuestAccounts, Storefront
from atelier_common.money import quantize
from atelier_common.versions import version_of


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


def ship_country(address: Mapping[str, Any] | None) -> str | None:
    """The country an order ships to, as catalog picks its stock locations by (upper case)."""
    country = (address or {}).get("country")
    return str(country).strip().upper() or None if country else None


def ships_from(items: Iterable[Any], sources: Iterable[Any]) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Catalog's sources (units per product or variant per location, its lines summed) shared out
    over the order's lines, in line order: {item id: [{location_id, location, quantity}]}."""
    left: dict[tuple[uuid.UUID, uuid.UUID | None], list[list[Any]]] = {}
    for source in sources:
        left.setdefault((source.product_id, source.variant_id), []).append(
            [str(source.location_id), source.location, source.quantity])
    shares: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for item in items:
        wanted = item.quantity
        for entry in left.get((item.product_id, item.variant_id), []):
            units = min(wanted, entry[2])
            if units <= 0:
                continue
            shares.setdefault(item.id, []).append({"location_id": entry[0], "location": entry[1], "quantity": units})
            entry[2] -= units
            wanted -= units
    return shares


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


# -- staff reports ---------------------------------------------------------------------------

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
    """Staff's order search. `email` lower-case: orders keep the address as the buyer typed it."""

    email: str | None = None
    number: str | None = None
    customer: uuid.UUID | None = None
    status: str | None = None
    storefront: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    # The caller's API key's storefronts (`Principal.storefronts`); None: every storefront.
    storefronts: tuple[str, ...] | None = None


@dataclass(frozen=True)
class DocumentFilter:
    """The accounting lists of invoices and credit notes: issued in [`issued_after`, `issued_before`)."""

    issued_after: datetime | None = None
    issued_before: datetime | None = None
    storefront: str | None = None
    # The caller's API key's storefronts (`Principal.storefronts`); None: every storefront.
    storefronts: tuple[str, ...] | None = None


@dataclass(frozen=True)
class PaidCursor:
    """Where a reader of the paid orders' feed stopped: the last order it was given, by its
    (`paid_at`, `id`), the feed's order. Opaque to clients: url-safe base64 of both."""

    paid_at: datetime
    order_id: uuid.UUID

    def encode(self) -> str:
        raw = f"{self.paid_at.isoformat()}|{self.order_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> PaidCursor | None:
        """The cursor `encode` gave; None for anything else."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            at, _, order_id = raw.partition("|")
            paid_at = datetime.fromisoformat(at)
            if paid_at.tzinfo is None:
                return None
            return cls(paid_at, uuid.UUID(order_id))
        except ValueError:
            return None


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
    """What a staff form about the order was read at (`atelier_common.versions`): every
    change of the order moves its `updated_at`."""
    return version_of(updated_at, status)


# How far ahead a gift card line may be mailed: a year, like the card's default validity.
GIFT_SEND_HORIZON = timedelta(days=365)
# A send date a moment in the past (the clock between the buyer's page and this check) means now.
GIFT_SEND_GRACE = timedelta(minutes=5)
GIFT_FIELDS = ("gift_recipient_email", "gift_message", "gift_send_at")


def gift_line_problems(kind: str, given: Iterable[str], send_at: datetime | None, now: datetime) -> dict[str, list[str]]:
    """What is wrong with a line's gift fields: they belong to gift card lines only, and the send
    date is neither past nor more than a year ahead. Empty: nothing."""
    given = [name for name in given if name in GIFT_FIELDS]
    if given and kind != ProductKind.GIFT_CARD:
        return {name: ["only a gift_card line takes it"] for name in given}
    if send_at is not None and send_at < now - GIFT_SEND_GRACE:
        return {"gift_send_at": ["must not be in the past"]}
    if send_at is not None and send_at > now + GIFT_SEND_HORIZON:
        return {"gift_send_at": ["must be within a year"]}
    return {}
