"""Promotions and discount codes: the one rule that says what a basket saves.

Pure: no I/O. The cart shows what it answers (through orders' internal quote) and placement
charges what it answers, so the discount shown is the discount charged. Nothing here counts
uses: `uses` and the customer's own uses are given, read from the database; placement settles
the count itself under the promotion's row lock (`PromotionRepository.take_use`).

A promotion has one read shape, `PromotionTerms`: what this rule reads, what the repository
answers (`PromotionRepository.live_of`, `read`, `search`) and what staff's API shows
(`schemas.PromotionRead` is built from its fields). Three more things are said once, here:
when a promotion runs (`PromotionTerms.live`; its SQL twin is `promotions.repository.live_sql`),
how a code is matched (`code_key`), and whether a customer has used a promotion up
(`PromotionTerms.customer_limit_reached`).

The rule, in order:
- The candidates are the storefront's live automatic promotions (no code), and the code's
  promotion when a code is given (matched by `code_key`). A code that names no live
  promotion is a `CodeProblem` (`invalid`); one that does not apply to this basket or this
  customer one too (`customer_group`, `below_minimum`, `no_eligible_lines`, `used_up`,
  `customer_limit`). An automatic promotion that does not apply is simply left out.
- A promotion that names customer groups (`customer_groups`) applies only to a customer whose
  group on the promotion's storefront (the access token's, `Principal.group_on`) is one of them:
  an anonymous visitor, or a customer in no group, never gets it (`PromotionTerms.open_to`).
- The code, when it applies, comes first; then the automatic promotions, largest saving first.
  A promotion joins the ones already applied only when it and each of them combine
  (`combinable`): one code per order, and one promotion at all unless they say they combine.
- Each promotion saves on what the lines it covers still cost after the promotions before it,
  so the discount never exceeds the subtotal: a percentage of it, or a fixed amount up to it;
  free shipping saves the shipping (the order's shipping cost becomes 0) and nothing on lines.
- A promotion's saving is shared among its lines in proportion to what they still cost, to the
  cent (largest remainder first). Each order line keeps the sum of its shares as its own
  discount (`order_item.discount_amount`), the one record of it: a refund of some lines gives
  back their discounted price, and an order's `discounts[].lines` are read back from those rows
  (`lines_of`).
- A staff member's manual discount on a draft order comes after the promotions and is shared the
  same way, over what each line still costs after them, never more than the lines still cost
  (`manual_discount`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from typing import Any

from atelier_common.money import quantize

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class PromotionKind(StrEnum):
    PERCENTAGE = "percentage"
    FIXED = "fixed"
    FREE_SHIPPING = "free_shipping"


class Problem(StrEnum):
    INVALID = "invalid"
    BELOW_MINIMUM = "below_minimum"
    NO_ELIGIBLE_LINES = "no_eligible_lines"
    USED_UP = "used_up"
    CUSTOMER_LIMIT = "customer_limit"
    CUSTOMER_GROUP = "customer_group"


PROBLEM_MESSAGES: Mapping[Problem, str] = {
    Problem.INVALID: "This code is not valid on this storefront (unknown, inactive or expired)",
    Problem.BELOW_MINIMUM: "The order is below this code's minimum subtotal",
    Problem.NO_ELIGIBLE_LINES: "This code applies to none of the products in the cart",
    Problem.USED_UP: "This code has been used up",
    Problem.CUSTOMER_LIMIT: "You have already used this code as often as it allows",
    Problem.CUSTOMER_GROUP: "This code is only for members of certain customer groups, and you are not one",
}


def code_key(code: str | None) -> str | None:
    """The one normaliser of discount codes: how a code typed anywhere (staff's create, edit and
    lookup, the cart's code, an order's `promotion_code`, the cart's quote) is matched, and how
    codes are kept unique per storefront (`promotion.code_key`): trimmed and in lower case; None
    when there is no code (None, or only blanks). Lower case because that is what the stored keys
    hold; the code itself is kept and shown as staff typed it."""
    if code is None:
        return None
    return code.strip().lower() or None


@dataclass(frozen=True, kw_only=True)
class PromotionTerms:
    """A promotion as it is read, the one shape of it: the rule's input, the repository's
    answer and, field for field, staff's `PromotionRead`. Its fields are columns of `promotion`
    (`code_key` aside: `code_key(code)`)."""

    id: uuid.UUID
    storefront: str
    name: str
    code: str | None = None
    kind: PromotionKind
    value: Decimal
    # What it covers: the lines of these products or of these categories (a product's own
    # category, not its parents'); neither: the whole order. In the order staff gave them.
    product_ids: tuple[uuid.UUID, ...] = ()
    category_ids: tuple[uuid.UUID, ...] = ()
    # Who may get it: customers of these groups (codes, on its storefront); none: everybody.
    customer_groups: tuple[str, ...] = ()
    min_subtotal: Decimal | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    is_active: bool = True
    combinable: bool = False
    usage_limit: int | None = None
    uses: int = 0
    usage_limit_per_customer: int | None = None
    created_at: datetime
    updated_at: datetime
    # Its name in its storefront's other languages (locale → name): what a buyer reading in one of
    # them is shown, and an order placed in it keeps (`name_in`). Not hashed: a dict.
    names: dict[str, str] = field(default_factory=dict, hash=False)

    def name_in(self, locale: str | None) -> str:
        return self.names.get(locale, self.name) if locale else self.name

    def live(self, now: datetime) -> bool:
        """Whether it runs at `now`, the one rule of it: active, and within its dates, the start
        included and the end excluded (no start: since ever; no end: for good). Its SQL twin,
        for the statements that pick live promotions, is `promotions.repository.live_sql`."""
        return (self.is_active and (self.starts_at is None or self.starts_at <= now)
                and (self.ends_at is None or now < self.ends_at))

    def customer_limit_reached(self, customer_uses: int) -> bool:
        """Whether a customer who redeemed it `customer_uses` times (orders not released: their
        own, as a visitor, a user or an email) may not redeem it again. Judged when the basket is
        priced (`evaluate`), and again when an order redeems it, on a count taken under the
        promotion's row lock (`PromotionPricing.redeem`)."""
        return self.usage_limit_per_customer is not None and customer_uses >= self.usage_limit_per_customer

    def open_to(self, group: str | None) -> bool:
        """Whether a customer of `group` (their group on this promotion's storefront; None: an
        anonymous visitor or a customer in no group) may get it: everybody when it names no group."""
        return not self.customer_groups or (group is not None and group in self.customer_groups)

    def covers(self, line: BasketLine) -> bool:
        if not self.product_ids and not self.category_ids:
            return True
        return line.product_id in self.product_ids or (line.category_id is not None
                                                        and line.category_id in self.category_ids)


@dataclass(frozen=True)
class BasketLine:
    product_id: uuid.UUID
    unit_price: Decimal
    quantity: int
    category_id: uuid.UUID | None = None

    @property
    def total(self) -> Decimal:
        return quantize(self.unit_price * self.quantity)


@dataclass(frozen=True)
class Applied:
    """A promotion applied to a basket: what it saved, and its share on each line (aligned with
    the basket's lines; 0 on the lines it does not cover)."""

    promotion: PromotionTerms
    amount: Decimal
    shares: tuple[Decimal, ...]
    free_shipping: bool = False


@dataclass(frozen=True)
class CodeProblem:
    problem: Problem
    code: str

    @property
    def message(self) -> str:
        return PROBLEM_MESSAGES[self.problem]


@dataclass(frozen=True)
class Quote:
    applied: tuple[Applied, ...] = ()
    code_problem: CodeProblem | None = None
    line_discounts: tuple[Decimal, ...] = field(default=())

    @property
    def discount(self) -> Decimal:
        return quantize(sum((a.amount for a in self.applied), ZERO))

    @property
    def free_shipping(self) -> bool:
        return any(a.free_shipping for a in self.applied)


def allocate(amount: Decimal, weights: Sequence[Decimal]) -> tuple[Decimal, ...]:
    """`amount` shared in proportion to `weights`, to the cent, summing to `amount` exactly:
    each share rounded down, the cents left over given to the largest remainders (earliest first
    on a tie). Zero weights get nothing."""
    total = sum(weights, ZERO)
    if amount <= 0 or total <= 0:
        return tuple(ZERO for _ in weights)
    exact = [amount * w / total for w in weights]
    shares = [e.quantize(CENT, rounding=ROUND_DOWN) for e in exact]
    left = int(((amount - sum(shares, ZERO)) / CENT).to_integral_value())
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[:left]:
        shares[i] += CENT
    return tuple(quantize(s) for s in shares)


def manual_discount(quote: Quote, line_totals: Sequence[Decimal], wanted: Decimal) -> tuple[Quote, Decimal]:
    """A staff member's manual discount (a draft order's), taken after the promotions: `quote` with
    `wanted` added to its lines' shares in proportion to what each line still costs after them
    (`line_totals` less the promotions' shares), and the amount taken, which is never more than
    the lines still cost."""
    wanted = quantize(wanted)
    if wanted <= 0:
        return quote, ZERO
    shares = quote.line_discounts or tuple(ZERO for _ in line_totals)
    left = [total - share for total, share in zip(line_totals, shares, strict=True)]
    amount = min(wanted, quantize(sum(left, ZERO)))
    manual = allocate(amount, left)
    merged = replace(quote, line_discounts=tuple(a + b for a, b in zip(shares, manual, strict=True)))
    return merged, amount


def lines_of(amounts: Sequence[Decimal], line_discounts: Sequence[Decimal]) -> list[tuple[Decimal, ...]]:
    """What each of an order's promotions saved on each line, read back from the lines' own
    discounts (`line_discounts`: `order_item.discount_amount`, in position order) and what each
    promotion saved on the lines (`amounts`, in the order they applied): each takes its amount in
    turn from what the lines' discounts still hold, in proportion to it (`allocate`).

    An order whose lines one promotion discounted (every order but those where promotions said
    they combine) gets exactly its lines' discounts. With several, a promotion's shares add up to
    what it saved and a line's shares to its discount, but which of them saved what on a line is
    shared out, not recalled: the order keeps one discount per line."""
    remaining = [quantize(d) for d in line_discounts]
    shares: list[tuple[Decimal, ...]] = []
    for amount in amounts:
        share = allocate(min(quantize(amount), sum(remaining, ZERO)), remaining)
        remaining = [left - taken for left, taken in zip(remaining, share, strict=True)]
        shares.append(share)
    return shares


def saving(promotion: PromotionTerms, remaining: Sequence[Decimal]) -> Decimal:
    """What `promotion` saves on lines still costing `remaining` (the ones it covers)."""
    base = sum(remaining, ZERO)
    if promotion.kind == PromotionKind.PERCENTAGE:
        return min(quantize(base * promotion.value / 100), base)
    if promotion.kind == PromotionKind.FIXED:
        return min(quantize(promotion.value), base)
    return ZERO


def _problem(promotion: PromotionTerms, lines: Sequence[BasketLine], subtotal: Decimal,
             customer_uses: int, group: str | None) -> Problem | None:
    if not promotion.open_to(group):
        return Problem.CUSTOMER_GROUP
    if promotion.min_subtotal is not None and subtotal < quantize(promotion.min_subtotal):
        return Problem.BELOW_MINIMUM
    if promotion.kind != PromotionKind.FREE_SHIPPING and not any(promotion.covers(line) for line in lines):
        return Problem.NO_ELIGIBLE_LINES
    if promotion.usage_limit is not None and promotion.uses >= promotion.usage_limit:
        return Problem.USED_UP
    if promotion.customer_limit_reached(customer_uses):
        return Problem.CUSTOMER_LIMIT
    return None


def evaluate(promotions: Iterable[PromotionTerms], lines: Sequence[BasketLine], *, now: datetime,
             code: str | None = None, customer_uses: Mapping[uuid.UUID, int] | None = None,
             group: str | None = None) -> Quote:
    """What the basket `lines` save from the storefront's `promotions` (see the module's rule), for
    a customer of `group` on that storefront (None: anonymous, or in no group)."""
    uses = customer_uses or {}
    subtotal = quantize(sum((line.total for line in lines), ZERO))
    live = [p for p in promotions if p.live(now)]
    coded: PromotionTerms | None = None
    problem: CodeProblem | None = None
    if code is not None and (key := code_key(code)) is not None:
        coded = next((p for p in live if p.code is not None and code_key(p.code) == key), None)
        if coded is None:
            problem = CodeProblem(Problem.INVALID, code)
        elif (found := _problem(coded, lines, subtotal, uses.get(coded.id, 0), group)) is not None:
            problem, coded = CodeProblem(found, code), None
    remaining = [line.total for line in lines]
    applied: list[Applied] = []

    def apply(promotion: PromotionTerms) -> None:
        covered = [r if promotion.covers(line) else ZERO for line, r in zip(lines, remaining, strict=True)]
        amount = saving(promotion, covered)
        shares = allocate(amount, covered)
        for i, share in enumerate(shares):
            remaining[i] -= share
        applied.append(Applied(promotion=promotion, amount=amount, shares=shares,
                               free_shipping=promotion.kind == PromotionKind.FREE_SHIPPING))

    if coded is not None:
        apply(coded)
    automatic = [p for p in live if p.code is None and _problem(p, lines, subtotal, uses.get(p.id, 0), group) is None]
    # Largest saving first (on the full basket), then by name and id so the choice is stable.
    automatic.sort(key=lambda p: (-saving(p, [line.total if p.covers(line) else ZERO for line in lines]),
                                  p.kind != PromotionKind.FREE_SHIPPING, p.name, str(p.id)))
    for promotion in automatic:
        if all(promotion.combinable and a.promotion.combinable for a in applied):
            apply(promotion)
    line_discounts = tuple(quantize(sum((a.shares[i] for a in applied), ZERO)) for i in range(len(lines)))
    return Quote(applied=tuple(applied), code_problem=problem, line_discounts=line_discounts)


def order_discounts(discounts: Iterable[Mapping[str, Any]], items: Sequence[Any]) -> list[dict[str, Any]]:
    """An order's promotions (`customer_order.discounts`: what each saved) with each one's share of
    the lines, `lines: [{position, sku, amount}]` (the lines it saved something on), read from the
    lines' own discounts (`OrderItemRow.discount_amount`, in position order), the one record of
    them (`promotions.rules.lines_of`: exactly the lines' discounts when one promotion discounted
    them). A `lines` kept in the JSON by orders placed before (or by a process that was not
    upgraded yet) is not read."""
    entries = [{k: v for k, v in discount.items() if k != "lines"} for discount in discounts]
    shares = lines_of([Decimal(str(entry.get("amount") or 0)) for entry in entries],
                      [item.discount_amount for item in items])
    return [{**entry, "lines": [{"position": item.position, "sku": item.sku, "amount": str(amount)}
                                for item, amount in zip(items, share, strict=True) if amount > 0]}
            for entry, share in zip(entries, shares, strict=True)]
