"""The rules of order edits, as pure functions: which orders and lines may change, and what the
order costs once changed, re-priced by the one pricing function (`pricing.charges.price`) with
the order's promotions judged again by theirs (`promotions.rules.evaluate`)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from atelier_common.contracts.catalog import ProductKind
from atelier_common.money import quantize
from atelier_orders.domain import OrderStatus as S
from atelier_orders.pricing import charges
from atelier_orders.promotions import rules

ZERO = Decimal("0.00")
# Until it ships: stock held (awaiting payment), paid, or being packed. `pending` waits for
# catalog's stock decision: its reservation is not there yet to give units back from.
EDITABLE: frozenset[S] = frozenset({S.AWAITING_PAYMENT, S.PAID, S.PROCESSING})
# Orders whose money arrived: an edit of one refunds the difference (or leaves it due).
PAID: frozenset[S] = frozenset({S.PAID, S.PROCESSING})


def edit_problem(status: str) -> str | None:
    """Why an order in `status` cannot be edited, or None when it can."""
    if status in EDITABLE:
        return None
    if status == S.PENDING:
        return "The order waits for its stock to be reserved; edit it once it is"
    if status in (S.SHIPPED, S.DELIVERED, S.RETURNED, S.COMPLETED):
        return f"The order is {status}: it has left the warehouse (open a return or a claim instead)"
    return f"Cannot edit an order in {status} status"


# What a customer may still edit of their own order (the storefront's `customer_order_edits`):
# before it is being packed (`processing`), only lowered.
CUSTOMER_EDITABLE: frozenset[S] = frozenset({S.AWAITING_PAYMENT, S.PAID})


def customer_edit_problem(status: str, *, allowed: bool) -> tuple[str, str] | None:
    """Why the customer may not edit their order in `status` (the reason's code and its message), or
    None when they may: the storefront must allow it (`allowed`), and the order be awaiting its
    payment or paid, not yet processing."""
    if not allowed:
        return "policy", "This storefront does not let customers edit their orders; contact support"
    if status not in CUSTOMER_EDITABLE:
        return "status", f"The order is {status}: it can no longer be changed here (contact support)"
    return None


def customer_raises(items: Sequence[EditItem], asked: Mapping[uuid.UUID, int]) -> dict[str, str]:
    """The lines a customer's edit would raise (by item id as text): customers only lower or remove."""
    by_id = {item.id: item for item in items}
    return {str(item_id): "A customer's edit only lowers a quantity or removes the line"
            for item_id, quantity in asked.items() if item_id in by_id and quantity > by_id[item_id].quantity}


def is_editable_kind(kind: str) -> bool:
    """Goods from stock only: a printed book is made for its order, and digital goods, packs and
    credits were granted when paid (staff refund those with a plain refund)."""
    return kind == ProductKind.PHYSICAL


@dataclass(frozen=True)
class EditItem:
    """An order line as the edit reads it: its row's price and tax, and its product's category
    (for promotions of categories; None when no promotion names one)."""

    id: uuid.UUID
    position: int
    product_id: uuid.UUID
    kind: str
    quantity: int
    unit_price: Decimal
    tax_rate: Decimal
    tax_inclusive: bool
    category_id: uuid.UUID | None = None


def change_problems(items: Sequence[EditItem], asked: Mapping[uuid.UUID, int]) -> dict[str, str]:
    """Of the new quantities `asked` (by item id; a line added by the edit is an item of quantity 0):
    the invalid ones (not a line of the order, not goods from stock, the order left empty or nothing
    changed; 400), each by item id as text."""
    by_id = {item.id: item for item in items}
    invalid: dict[str, str] = {}
    for item_id, quantity in asked.items():
        item = by_id.get(item_id)
        if item is None:
            invalid[str(item_id)] = "Not a line of this order"
        elif quantity != item.quantity and not is_editable_kind(item.kind):
            invalid[str(item_id)] = "Only goods from stock can be edited; refund this line instead"
    if invalid:
        return invalid
    if all(asked.get(item.id, item.quantity) == item.quantity for item in items):
        invalid["changes"] = "Nothing changes: give a line another quantity, 0 to remove it, or add a line"
    elif all(asked.get(item.id, item.quantity) == 0 for item in items):
        invalid["changes"] = "An edit keeps at least one line; cancel the order instead"
    return invalid


def added_units(items: Sequence[EditItem], asked: Mapping[uuid.UUID, int]) -> dict[str, int]:
    """The units the edit adds, by item id as text: a line raised, or a line added (quantity 0 before)."""
    return {str(item.id): asked[item.id] - item.quantity for item in items
            if asked.get(item.id, item.quantity) > item.quantity}


@dataclass(frozen=True)
class Shipping:
    """The order's shipping as charged: its cost before any discount, whether it was taxed (at
    the order's standard rate) and whether its cost includes the tax. None cost: nothing shipped."""

    cost: Decimal | None
    taxed: bool
    inclusive: bool


@dataclass(frozen=True)
class Repriced:
    lines: tuple[EditItem, ...]
    quantities: tuple[int, ...]
    quote: rules.Quote
    priced: charges.Priced
    # The order's promotions that no longer apply (by id), e.g. a minimum subtotal no longer met.
    lost: tuple[uuid.UUID, ...]


def relaxed(promotion: rules.PromotionTerms) -> rules.PromotionTerms:
    """A promotion the order was given, as an edit judges it again: on the lines that remain
    (its minimum subtotal, the lines it covers), not on whether it still runs or has uses left,
    nor on the customer's group (the order holds its use since it was placed)."""
    return dataclasses.replace(promotion, is_active=True, starts_at=None, ends_at=None, usage_limit=None,
                               usage_limit_per_customer=None, customer_groups=())


def reprice(items: Sequence[EditItem], asked: Mapping[uuid.UUID, int], *, promotions: Iterable[rules.PromotionTerms],
            code: str | None, standard_rate: Decimal, shipping: Shipping, now: datetime) -> Repriced:
    """The order with the new quantities `asked` (by item id; a line not named keeps its own; 0
    removes it): the lines at their own unit prices and tax rates, the order's `promotions`
    judged again (`relaxed`; `code` the one it was given by), shipping as charged unless no
    shipped line remains, through `charges.price`."""
    kept = [(item, asked.get(item.id, item.quantity)) for item in items]
    kept = [(item, quantity) for item, quantity in kept if quantity > 0]
    given = [relaxed(p) for p in promotions]
    quote = rules.evaluate(given, [rules.BasketLine(product_id=item.product_id, unit_price=item.unit_price,
                                                    quantity=quantity, category_id=item.category_id)
                                   for item, quantity in kept], now=now, code=code)
    applied = {a.promotion.id for a in quote.applied}
    discounts = quote.line_discounts or tuple(ZERO for _ in kept)
    # Each line keeps the rate it was taxed at: a class per rate, named after it.
    rates = {f"rate:{item.tax_rate}": item.tax_rate for item, _ in kept}
    tax = charges.TaxRules(rate=standard_rate, inclusive_kinds=frozenset(item.kind for item, _ in kept
                                                                          if item.tax_inclusive),
                           shipping_taxed=shipping.taxed, shipping_inclusive=shipping.inclusive, class_rates=rates)
    ships = any(item.kind in (ProductKind.PHYSICAL, ProductKind.PRINT_TIER) for item, _ in kept)
    priced = charges.price(
        [charges.Line(kind=item.kind, unit_price=item.unit_price, quantity=quantity, discount=discount,
                      tax_class=f"rate:{item.tax_rate}") for (item, quantity), discount in zip(kept, discounts,
                                                                                             strict=True)],
        tax, shipping=shipping.cost if ships else None, free_shipping=quote.free_shipping)
    return Repriced(lines=tuple(item for item, _ in kept), quantities=tuple(q for _, q in kept), quote=quote,
                    priced=priced, lost=tuple(p.id for p in given if p.id not in applied))


def refund_of(old_total: Decimal, new_total: Decimal, *, paid: bool, refundable: Decimal) -> Decimal:
    """What an edit gives back: the difference of the totals when the order was paid, never more
    than `refundable` (what the payment has left once its refunds and those waiting are counted)."""
    if not paid:
        return ZERO
    return quantize(max(min(old_total - new_total, refundable), ZERO))


def amount_due(old_total: Decimal, new_total: Decimal, *, paid: bool) -> Decimal:
    """What an edit leaves the customer owing: the rise of the total when the order was paid (an
    unpaid order's payment simply charges its new total); never below 0."""
    if not paid:
        return ZERO
    return quantize(max(new_total - old_total, ZERO))
