"""Promotions and discount codes (#56): the one rule that says what a basket saves.

Pure: no I/O. The cart shows what it answers (through orders' internal quote) and placement
charges what it answers, so the discount shown is the discount charged. Nothing here counts
uses: `uses` and the customer's own uses are given, read from the database; placement settles
the count itself under the promotion's row lock (`PromotionRepository.take_use`).

The rule, in order:
- The candidates are the storefront's live automatic promotions (no code), and the code's
  promotion when a code is given (matched case-insensitively). A code that names no live
  promotion is a `CodeProblem` (`invalid`); one that does not apply to this basket one too
  (`below_minimum`, `no_eligible_lines`, `used_up`, `customer_limit`). An
  automatic promotion that does not apply is simply left out.
- The code, when it applies, comes first; then the automatic promotions, largest saving first.
  A promotion joins the ones already applied only when it and each of them combine
  (`combinable`): one code per order, and one promotion at all unless they say they combine.
- Each promotion saves on what the lines it covers still cost after the promotions before it,
  so the discount never exceeds the subtotal: a percentage of it, or a fixed amount up to it;
  free shipping saves the shipping (the order's shipping cost becomes 0) and nothing on lines.
- A promotion's saving is shared among its lines in proportion to what they still cost, to the
  cent (largest remainder first), and frozen on the order: a refund of some lines gives back
  their discounted price.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

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


PROBLEM_MESSAGES: Mapping[Problem, str] = {
    Problem.INVALID: "This code is not valid on this storefront (unknown, inactive or expired)",
    Problem.BELOW_MINIMUM: "The order is below this code's minimum subtotal",
    Problem.NO_ELIGIBLE_LINES: "This code applies to none of the products in the cart",
    Problem.USED_UP: "This code has been used up",
    Problem.CUSTOMER_LIMIT: "You have already used this code as often as it allows",
}


def code_key(code: str) -> str:
    """How codes are compared and kept unique per storefront: case-insensitively, trimmed."""
    return code.strip().lower()


@dataclass(frozen=True)
class PromotionTerms:
    id: uuid.UUID
    name: str
    kind: PromotionKind
    value: Decimal
    # What it covers: the lines of these products or of these categories (a product's own
    # category, not its parents'); neither: the whole order.
    product_ids: frozenset[uuid.UUID] = frozenset()
    category_ids: frozenset[uuid.UUID] = frozenset()
    code: str | None = None
    min_subtotal: Decimal | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    is_active: bool = True
    combinable: bool = False
    usage_limit: int | None = None
    uses: int = 0
    usage_limit_per_customer: int | None = None

    def live(self, now: datetime) -> bool:
        """Active and within its dates (start included, end excluded)."""
        return (self.is_active and (self.starts_at is None or self.starts_at <= now)
                and (self.ends_at is None or now < self.ends_at))

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


def saving(promotion: PromotionTerms, remaining: Sequence[Decimal]) -> Decimal:
    """What `promotion` saves on lines still costing `remaining` (the ones it covers)."""
    base = sum(remaining, ZERO)
    if promotion.kind == PromotionKind.PERCENTAGE:
        return min(quantize(base * promotion.value / 100), base)
    if promotion.kind == PromotionKind.FIXED:
        return min(quantize(promotion.value), base)
    return ZERO


def _problem(promotion: PromotionTerms, lines: Sequence[BasketLine], subtotal: Decimal,
             customer_uses: int) -> Problem | None:
    if promotion.min_subtotal is not None and subtotal < quantize(promotion.min_subtotal):
        return Problem.BELOW_MINIMUM
    if promotion.kind != PromotionKind.FREE_SHIPPING and not any(promotion.covers(line) for line in lines):
        return Problem.NO_ELIGIBLE_LINES
    if promotion.usage_limit is not None and promotion.uses >= promotion.usage_limit:
        return Problem.USED_UP
    if promotion.usage_limit_per_customer is not None and customer_uses >= promotion.usage_limit_per_customer:
        return Problem.CUSTOMER_LIMIT
    return None


def evaluate(promotions: Iterable[PromotionTerms], lines: Sequence[BasketLine], *, now: datetime,
             code: str | None = None, customer_uses: Mapping[uuid.UUID, int] | None = None) -> Quote:
    """What the basket `lines` save from the storefront's `promotions` (see the module's rule)."""
    uses = customer_uses or {}
    subtotal = quantize(sum((line.total for line in lines), ZERO))
    live = [p for p in promotions if p.live(now)]
    coded: PromotionTerms | None = None
    problem: CodeProblem | None = None
    if code is not None and code.strip():
        key = code_key(code)
        coded = next((p for p in live if p.code is not None and code_key(p.code) == key), None)
        if coded is None:
            problem = CodeProblem(Problem.INVALID, code)
        elif (found := _problem(coded, lines, subtotal, uses.get(coded.id, 0))) is not None:
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
    automatic = [p for p in live if p.code is None and _problem(p, lines, subtotal, uses.get(p.id, 0)) is None]
    # Largest saving first (on the full basket), then by name and id so the choice is stable.
    automatic.sort(key=lambda p: (-saving(p, [line.total if p.covers(line) else ZERO for line in lines]),
                                  p.kind != PromotionKind.FREE_SHIPPING, p.name, str(p.id)))
    for promotion in automatic:
        if all(promotion.combinable and a.promotion.combinable for a in applied):
            apply(promotion)
    line_discounts = tuple(quantize(sum((a.shares[i] for a in applied), ZERO)) for i in range(len(lines)))
    return Quote(applied=tuple(applied), code_problem=problem, line_discounts=line_discounts)
