"""The rules of an order edit, without I/O: which orders and lines may change, and the order
re-priced by the one pricing function with its promotions judged again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from atelier_orders.edits import rules
from atelier_orders.edits.rules import EditItem, Shipping
from atelier_orders.promotions.rules import PromotionKind, PromotionTerms

D = Decimal
NOW = datetime(2026, 12, 2, tzinfo=UTC)
LAMP, HAT = uuid.uuid4(), uuid.uuid4()
SHIP = Shipping(cost=D("5.00"), taxed=True, inclusive=False)


def items() -> list[EditItem]:
    # 2 × 30.00 lamps + 1 × 12.00 hat at 10 %, shipped for 5.00 (taxed).
    return [EditItem(id=LAMP, position=1, product_id=uuid.uuid4(), kind="physical", quantity=2, unit_price=D("30.00"),
                     tax_rate=D("0.10"), tax_inclusive=False),
            EditItem(id=HAT, position=2, product_id=uuid.uuid4(), kind="physical", quantity=1, unit_price=D("12.00"),
                     tax_rate=D("0.10"), tax_inclusive=False)]


def promotion(**fields: object) -> PromotionTerms:
    return PromotionTerms(id=uuid.uuid4(), storefront="default", name="10% from 50", kind=PromotionKind.PERCENTAGE,
                          value=D("10"), created_at=NOW, updated_at=NOW, **fields)  # type: ignore[arg-type]  # the fields are the test's own


class TestWhich:
    @pytest.mark.parametrize(("status", "ok"), [("awaiting_payment", True), ("paid", True), ("processing", True),
                                                ("pending", False), ("shipped", False), ("delivered", False),
                                                ("cancelled", False), ("refunded", False)])
    def test_only_an_order_that_has_not_shipped(self, status: str, ok: bool) -> None:
        assert (rules.edit_problem(status) is None) is ok

    def test_changes_are_judged_per_line(self) -> None:
        stranger = uuid.uuid4()
        assert rules.change_problems(items(), {LAMP: 1}) == {}
        assert rules.change_problems(items(), {LAMP: 3}) == {}  # more units: valid, confirmed later
        assert rules.change_problems(items(), {LAMP: 3, stranger: 1}) == {str(stranger): "Not a line of this order"}
        assert "changes" in rules.change_problems(items(), {LAMP: 2})  # nothing changes
        assert "changes" in rules.change_problems(items(), {LAMP: 0, HAT: 0})  # nothing left
        book = [EditItem(**{**items()[0].__dict__, "kind": "print_tier"})]
        assert list(rules.change_problems(book, {LAMP: 1})) == [str(LAMP)]
        assert list(rules.change_problems(book, {LAMP: 3})) == [str(LAMP)]

    def test_added_units_are_the_lines_raised_or_added(self) -> None:
        new = EditItem(id=uuid.uuid4(), position=3, product_id=uuid.uuid4(), kind="physical", quantity=0,
                       unit_price=D("5.00"), tax_rate=D("0.10"), tax_inclusive=False)
        assert rules.added_units([*items(), new], {LAMP: 1, HAT: 3, new.id: 2}) == {str(HAT): 2, str(new.id): 2}
        assert rules.added_units(items(), {LAMP: 0}) == {}


class TestReprice:
    def test_an_unchanged_order_prices_as_placed(self) -> None:
        same = rules.reprice(items(), {}, promotions=[], code=None, standard_rate=D("0.10"), shipping=SHIP, now=NOW)
        # 72.00 + 5.00 shipping, 10 % on 77.00.
        assert (same.priced.subtotal, same.priced.tax_amount, same.priced.total) == (D("72.00"), D("7.70"), D("84.70"))

    def test_a_minimum_no_longer_met_drops_the_promotion(self) -> None:
        given = promotion(min_subtotal=D("50"))
        before = rules.reprice(items(), {}, promotions=[given], code=None, standard_rate=D("0.10"), shipping=SHIP,
                               now=NOW)
        after = rules.reprice(items(), {LAMP: 1}, promotions=[given], code=None, standard_rate=D("0.10"),
                              shipping=SHIP, now=NOW)
        assert before.priced.discount == D("7.20") and before.lost == ()
        assert after.priced.discount == D("0.00") and after.lost == (given.id,)
        assert after.quantities == (1, 1) and after.priced.subtotal == D("42.00")

    def test_a_promotion_that_ended_since_is_still_the_orders(self) -> None:
        ended = promotion(ends_at=datetime(2026, 1, 1, tzinfo=UTC), is_active=False, usage_limit=1, uses=1)
        after = rules.reprice(items(), {HAT: 0}, promotions=[ended], code=None, standard_rate=D("0.10"),
                              shipping=SHIP, now=NOW)
        assert after.priced.discount == D("6.00") and [line.id for line in after.lines] == [LAMP]

    def test_no_shipped_line_left_gives_the_shipping_back(self) -> None:
        digital = [items()[0], EditItem(id=HAT, position=2, product_id=uuid.uuid4(), kind="digital", quantity=1,
                                        unit_price=D("12.00"), tax_rate=D("0.10"), tax_inclusive=True)]
        after = rules.reprice(digital, {LAMP: 0}, promotions=[], code=None, standard_rate=D("0.10"), shipping=SHIP,
                              now=NOW)
        assert after.priced.shipping is None and after.priced.total == D("12.00")


class TestRaise:
    def test_raising_and_adding_price_as_placing_those_lines_would(self) -> None:
        given = promotion(min_subtotal=D("100"))
        new = EditItem(id=uuid.uuid4(), position=3, product_id=uuid.uuid4(), kind="physical", quantity=0,
                       unit_price=D("20.00"), tax_rate=D("0.20"), tax_inclusive=False)
        after = rules.reprice([*items(), new], {LAMP: 3, new.id: 1}, promotions=[given], code=None,
                              standard_rate=D("0.10"), shipping=SHIP, now=NOW)
        # 90.00 + 12.00 + 20.00 = 122.00 reaches the minimum now: 10 % off each line.
        assert after.quantities == (3, 1, 1) and after.priced.subtotal == D("122.00")
        assert after.priced.discount == D("12.20") and after.lost == ()
        # Each line at its own rate: (81.00 + 10.80) × 10 % + 18.00 × 20 % + 5.00 shipping × 10 %.
        assert after.priced.tax_amount == D("9.18") + D("3.60") + D("0.50")

    def test_mixed_edits_net_the_difference(self) -> None:
        before = rules.reprice(items(), {}, promotions=[], code=None, standard_rate=D("0.10"), shipping=SHIP, now=NOW)
        after = rules.reprice(items(), {LAMP: 1, HAT: 4}, promotions=[], code=None, standard_rate=D("0.10"),
                              shipping=SHIP, now=NOW)
        # −30.00 + 36.00, taxed: 6.60 more; the paid order owes it, nothing is refunded.
        assert after.priced.total - before.priced.total == D("6.60")
        assert rules.amount_due(before.priced.total, after.priced.total, paid=True) == D("6.60")
        assert rules.refund_of(before.priced.total, after.priced.total, paid=True, refundable=D("84.70")) == 0
        assert rules.amount_due(before.priced.total, after.priced.total, paid=False) == 0
        assert rules.amount_due(after.priced.total, before.priced.total, paid=True) == 0


class TestRefund:
    def test_the_difference_when_paid_capped_by_what_remains(self) -> None:
        assert rules.refund_of(D("84.70"), D("51.70"), paid=True, refundable=D("84.70")) == D("33.00")
        assert rules.refund_of(D("84.70"), D("51.70"), paid=True, refundable=D("20.00")) == D("20.00")
        assert rules.refund_of(D("84.70"), D("51.70"), paid=True, refundable=D("-1.00")) == D("0.00")
        assert rules.refund_of(D("84.70"), D("51.70"), paid=False, refundable=D("84.70")) == D("0.00")
