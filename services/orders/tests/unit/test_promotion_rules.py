"""The one promotion rule the cart shows and the order charges: what applies, what it saves,
how codes combine, and the share of each line."""

from __future__ import annotations

import uuid
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import SQLModel

from atelier_orders import models  # noqa: F401  (the tables, in SQLModel's metadata)
from atelier_orders.promotions.rules import (
    BasketLine,
    Problem,
    PromotionKind,
    PromotionTerms,
    allocate,
    code_key,
    evaluate,
    lines_of,
    manual_discount,
)
from atelier_orders.schemas import PromotionRead

D = Decimal
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SHOE, HAT = uuid.uuid4(), uuid.uuid4()
FOOTWEAR = uuid.uuid4()


def promo(kind: PromotionKind = PromotionKind.PERCENTAGE, value: str = "10", **fields: Any) -> PromotionTerms:
    return PromotionTerms(id=uuid.uuid4(), storefront="default", name=str(fields.pop("name", "Promo")), kind=kind,
                          value=D(value), created_at=NOW, updated_at=NOW, **fields)


def basket() -> list[BasketLine]:
    # 2 × 30.00 shoes (footwear) + 1 × 15.00 hat: 75.00.
    return [BasketLine(product_id=SHOE, unit_price=D("30.00"), quantity=2, category_id=FOOTWEAR),
            BasketLine(product_id=HAT, unit_price=D("15.00"), quantity=1)]


class TestWhatAPromotionSaves:
    def test_a_percentage_of_the_order_shared_by_line(self) -> None:
        quote = evaluate([promo(value="10")], basket(), now=NOW)
        assert quote.discount == D("7.50")
        assert quote.line_discounts == (D("6.00"), D("1.50"))

    def test_a_fixed_amount_never_more_than_what_it_covers(self) -> None:
        assert evaluate([promo(PromotionKind.FIXED, "5")], basket(), now=NOW).discount == D("5.00")
        assert evaluate([promo(PromotionKind.FIXED, "500")], basket(), now=NOW).discount == D("75.00")

    def test_a_product_or_category_promotion_covers_its_lines_only(self) -> None:
        either = promo(value="10", product_ids=frozenset({HAT}), category_ids=frozenset({FOOTWEAR}))
        assert evaluate([either], basket(), now=NOW).discount == D("7.50")
        on_hat = promo(value="50", product_ids=frozenset({HAT}))
        assert evaluate([on_hat], basket(), now=NOW).line_discounts == (D("0.00"), D("7.50"))
        on_footwear = promo(PromotionKind.FIXED, "9", category_ids=frozenset({FOOTWEAR}))
        assert evaluate([on_footwear], basket(), now=NOW).line_discounts == (D("9.00"), D("0.00"))

    def test_free_shipping_saves_nothing_on_the_lines(self) -> None:
        quote = evaluate([promo(PromotionKind.FREE_SHIPPING, "0")], basket(), now=NOW)
        assert (quote.discount, quote.free_shipping) == (D("0.00"), True)

    def test_cents_are_shared_to_the_largest_remainders_and_add_up(self) -> None:
        assert allocate(D("0.10"), [D("1"), D("1"), D("1")]) == (D("0.04"), D("0.03"), D("0.03"))
        assert sum(allocate(D("10.00"), [D("3.33"), D("3.33"), D("3.34")])) == D("10.00")
        assert allocate(D("5"), [D("0"), D("0")]) == (D("0.00"), D("0.00"))


class TestWhenAPromotionApplies:
    def test_dates_and_activity(self) -> None:
        future = promo(starts_at=NOW + timedelta(days=1))
        past = promo(ends_at=NOW)
        inactive = promo(is_active=False)
        assert evaluate([future, past, inactive], basket(), now=NOW).applied == ()
        assert evaluate([promo(starts_at=NOW, ends_at=NOW + timedelta(seconds=1))], basket(), now=NOW).applied

    def test_a_minimum_subtotal(self) -> None:
        assert evaluate([promo(min_subtotal=D("75.00"))], basket(), now=NOW).applied
        assert not evaluate([promo(min_subtotal=D("75.01"))], basket(), now=NOW).applied

    @pytest.mark.parametrize(("fields", "uses", "problem"), [
        ({"min_subtotal": D("100")}, 0, Problem.BELOW_MINIMUM),
        ({"product_ids": frozenset({uuid.uuid4()})}, 0, Problem.NO_ELIGIBLE_LINES),
        ({"usage_limit": 10, "uses": 10}, 0, Problem.USED_UP),
        ({"usage_limit_per_customer": 1}, 1, Problem.CUSTOMER_LIMIT),
    ])
    def test_a_code_that_does_not_apply_says_why(self, fields: dict, uses: int, problem: Problem) -> None:
        code = promo(code="SAVE", **fields)
        quote = evaluate([code], basket(), now=NOW, code="save", customer_uses={code.id: uses})
        assert quote.applied == () and quote.code_problem is not None
        assert quote.code_problem.problem == problem

    def test_an_unknown_or_expired_code_is_invalid_and_codes_match_in_any_case(self) -> None:
        code = promo(code="Summer10", ends_at=NOW + timedelta(days=1))
        assert evaluate([code], basket(), now=NOW, code=" SUMMER10 ").discount == D("7.50")
        later = NOW + timedelta(days=2)
        for quote in (evaluate([code], basket(), now=NOW, code="WINTER"),
                      evaluate([code], basket(), now=later, code="summer10")):
            assert quote.code_problem is not None and quote.code_problem.problem == Problem.INVALID

    def test_a_code_is_applied_only_when_named(self) -> None:
        assert evaluate([promo(code="SAVE")], basket(), now=NOW).applied == ()


class TestCombining:
    def test_one_promotion_unless_they_combine_the_best_first(self) -> None:
        small, big = promo(value="10", name="small"), promo(value="20", name="big")
        [applied] = evaluate([small, big], basket(), now=NOW).applied
        assert applied.promotion is big

    def test_combinable_ones_stack_on_what_is_left(self) -> None:
        a = promo(value="10", combinable=True)
        b = promo(PromotionKind.FIXED, "70", combinable=True)
        quote = evaluate([a, b], basket(), now=NOW)
        # 70.00 first (the larger saving), then 10% of the 5.00 left: never more than the subtotal.
        assert [x.amount for x in quote.applied] == [D("70.00"), D("0.50")]
        assert quote.discount == D("70.50")

    def test_the_code_comes_first_and_a_non_combinable_code_stands_alone(self) -> None:
        automatic = promo(value="50", combinable=True)
        code = promo(PromotionKind.FIXED, "5", code="FIVE")
        assert [a.promotion for a in evaluate([automatic, code], basket(), now=NOW, code="five").applied] == [code]
        combining = promo(PromotionKind.FIXED, "5", code="FIVE", combinable=True)
        quote = evaluate([automatic, combining], basket(), now=NOW, code="five")
        assert [a.promotion for a in quote.applied] == [combining, automatic]
        assert quote.discount == D("40.00")  # 5.00, then half of the 70.00 left


class TestOneShapeOneRule:
    def test_the_read_shape_is_columns_of_promotion_and_staffs_read_field_for_field(self) -> None:
        columns = [c.name for c in SQLModel.metadata.tables["promotion"].columns]
        shape = [f.name for f in fields(PromotionTerms)]
        assert set(shape) == set(columns) - {"code_key"}
        assert list(PromotionRead.model_fields) == [*shape, "version"]

    def test_one_code_key(self) -> None:
        assert [code_key(c) for c in (" Summer10 ", "SUMMER10", "summer10\t")] == ["summer10"] * 3
        assert [code_key(c) for c in (None, "", "   ")] == [None, None, None]

    def test_the_customer_limit(self) -> None:
        assert not promo().customer_limit_reached(5)
        once = promo(usage_limit_per_customer=1)
        assert (once.customer_limit_reached(0), once.customer_limit_reached(1)) == (False, True)


class TestLinesReadBackFromTheRows:
    def test_one_promotion_gets_exactly_the_lines_discounts(self) -> None:
        assert lines_of([D("7.50")], [D("6.00"), D("1.50"), D("0")]) == [(D("6.00"), D("1.50"), D("0.00"))]
        assert lines_of([D("0.00")], [D("0"), D("0")]) == [(D("0.00"), D("0.00"))]  # free shipping

    def test_several_add_up_both_ways(self) -> None:
        shares = lines_of([D("7.50"), D("5.00")], [D("11.00"), D("1.50")])
        assert [sum(s) for s in shares] == [D("7.50"), D("5.00")]
        assert [sum(column) for column in zip(*shares, strict=True)] == [D("11.00"), D("1.50")]

    def test_what_the_rule_shared_is_read_back_for_one_promotion(self) -> None:
        quote = evaluate([promo(PromotionKind.FIXED, "10.01")], basket(), now=NOW)
        [applied] = quote.applied
        assert lines_of([applied.amount], list(quote.line_discounts)) == [applied.shares]


class TestAStaffManualDiscount:
    LINES = [D("60.00"), D("15.00")]  # what `basket()` costs, line by line

    def test_it_is_shared_after_the_promotions_over_what_each_line_still_costs(self) -> None:
        on_hat = evaluate([promo(value="50", product_ids=frozenset({HAT}))], basket(), now=NOW)
        merged, taken = manual_discount(on_hat, self.LINES, D("10.00"))
        # 60.00 and 7.50 still cost: 10.00 shared 8.89 / 1.11, on top of the hat's 7.50.
        assert (taken, merged.line_discounts) == (D("10.00"), (D("8.89"), D("8.61")))
        assert merged.applied == on_hat.applied and merged.discount == on_hat.discount

    def test_it_never_takes_more_than_the_lines_still_cost(self) -> None:
        merged, taken = manual_discount(evaluate([], basket(), now=NOW), self.LINES, D("100"))
        assert (taken, merged.line_discounts) == (D("75.00"), (D("60.00"), D("15.00")))

    def test_none_leaves_the_quote_as_it_was(self) -> None:
        quote = evaluate([promo(value="10")], basket(), now=NOW)
        assert manual_discount(quote, self.LINES, D("0")) == (quote, D("0.00"))
