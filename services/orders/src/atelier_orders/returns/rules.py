"""The rules of returns, as pure functions: statuses, what may be returned and what a return
refunds."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from atelier_common.contracts.catalog import ProductKind
from atelier_common.money import quantize
from atelier_orders.domain import ORDER_NUMBER_ALPHABET, SHIPPED_KINDS
from atelier_orders.domain import OrderStatus as S

# -- returns ----------------------------------------------------------------------------------

class ReturnStatus(StrEnum):
    """requested (opened) → approved (optional) → received (staff have the goods; the refund is
    asked) → refunded (payments confirmed it); or rejected by staff before receipt. A claim settled
    by a refund starts at received; one settled by a replacement is replaced."""

    REQUESTED = "requested"
    APPROVED = "approved"
    RECEIVED = "received"
    REFUNDED = "refunded"
    REJECTED = "rejected"
    REPLACED = "replaced"


class ReturnKind(StrEnum):
    RETURN = "return"
    CLAIM = "claim"
    EXCHANGE = "exchange"


class ClaimResolution(StrEnum):
    """How staff settle a claim: the units' share of what was charged back, or the same goods
    again at no charge."""

    REFUND = "refund"
    REPLACE = "replace"


# The returns and claims whose units count against what may still be returned or claimed: all
# but the rejected.
RETURN_HOLDS: frozenset[ReturnStatus] = frozenset({ReturnStatus.REQUESTED, ReturnStatus.APPROVED,
                                                   ReturnStatus.RECEIVED, ReturnStatus.REFUNDED,
                                                   ReturnStatus.REPLACED})
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


# -- claims -----------------------------------------------------------------------------------

def claim_problem(status: str) -> str | None:
    """Why an order in `status` takes no claim, or None when it does: goods that left the shelf
    (shipped, or delivered) may arrive damaged or not at all."""
    if status in (S.SHIPPED, S.DELIVERED):
        return None
    if status == S.RETURNED:
        return "Every delivered unit of this order has been returned already"
    return f"Only a shipped or delivered order takes a claim; this one is {status}"


def is_replaceable_kind(kind: str) -> bool:
    """What is sent again from stock: goods catalog holds. A printed book is made for its order
    (generation prints it): a claim on one is refunded."""
    return kind == ProductKind.PHYSICAL


# -- exchanges --------------------------------------------------------------------------------

def is_exchangeable_kind(kind: str) -> bool:
    """What an exchange sends out: goods catalog holds (a printed book is made for its order)."""
    return kind == ProductKind.PHYSICAL


@dataclass(frozen=True)
class Settlement:
    """An exchange's money: the lines coming back are credited (`credit`), the new items cost
    `new_items_total`; the customer pays `amount_due`, or the shop refunds `refund` (never both)."""

    credit: Decimal
    new_items_total: Decimal

    @property
    def difference(self) -> Decimal:
        """new items − credit: above 0 the customer owes it, below 0 the shop does."""
        return quantize(self.new_items_total - self.credit)

    @property
    def amount_due(self) -> Decimal:
        return max(self.difference, Decimal("0.00"))

    @property
    def refund(self) -> Decimal:
        return max(-self.difference, Decimal("0.00"))

    @property
    def credit_applied(self) -> Decimal:
        """What of the credit pays the new items' order (the rest is refunded)."""
        return min(self.credit, self.new_items_total)


def exchange_credit(lines: Iterable[ReturnedUnits]) -> Decimal:
    """What the lines coming back are credited: each one's share of what its line was charged
    (`returned_line_amount`), as a return refunds them; shipping is not credited."""
    return quantize(sum((returned_line_amount(units) for units in lines), Decimal("0")))


def exchange_refund(settlement: Settlement, *, refundable: Decimal) -> Decimal:
    """What the shop refunds once the lines are back: the difference it owes, never more than the
    order's payment has left (`refundable`)."""
    return quantize(min(settlement.refund, max(refundable, Decimal("0"))))
