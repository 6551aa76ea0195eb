"""The rules of a return, without I/O: what may still be returned, and what a received
return refunds (its lines with their tax, less their discount, plus shipping on request, capped)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from atelier_orders.returns import rules as return_rules
from atelier_orders.returns.rules import ReturnedUnits

D = Decimal
A, B, C = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


class TestReturnable:
    def test_shipped_lines_less_what_other_returns_hold(self) -> None:
        items = [(A, "physical", 3), (B, "print_tier", 1), (C, "credit_pack", 2)]
        assert return_rules.returnable_quantities(items, {A: 1}) == {A: 2, B: 1}

    def test_problems_name_each_line(self) -> None:
        returnable = {A: 2, B: 0}
        assert return_rules.quantity_problems({A: 2}, returnable) == {}
        assert return_rules.quantity_problems({A: 3, B: 1, C: 1}, returnable) == {
            str(A): "Only 2 left to return", str(B): "Only 0 left to return", str(C): "Not a shipped line of this order"}

    @pytest.mark.parametrize(("status", "ok"), [("delivered", True), ("shipped", False), ("returned", False),
                                                ("paid", False), ("cancelled", False)])
    def test_only_a_delivered_order_takes_a_return(self, status: str, ok: bool) -> None:
        assert (return_rules.return_problem(status) is None) is ok

    def test_everything_returned(self) -> None:
        assert return_rules.everything_returned({A: 0, B: 0})
        assert not return_rules.everything_returned({A: 0, B: 1})
        assert not return_rules.everything_returned({})  # nothing shipped: nothing to return

    def test_numbers(self) -> None:
        number = return_rules.new_return_number(date(2026, 11, 27))
        assert return_rules.RETURN_NUMBER_PATTERN.match(number) and number.startswith("RET-20261127-")


class TestRefund:
    """A line gives back its share of what it was charged (its rows: price less discount, plus the
    tax added on it); shipping what it was charged, once and on request; never more than remains."""

    def test_a_unit_gives_back_its_share_of_the_line_charged(self) -> None:
        assert return_rules.returned_line_amount(ReturnedUnits(D("66.00"), 2, 1)) == D("33.00")
        assert return_rules.returned_line_amount(ReturnedUnits(D("66.00"), 2, 2)) == D("66.00")

    def test_half_up_to_the_cent(self) -> None:
        assert return_rules.returned_line_amount(ReturnedUnits(D("10.00"), 3, 1)) == D("3.33")
        assert return_rules.returned_line_amount(ReturnedUnits(D("0.05"), 2, 1)) == D("0.03")

    def test_shipping_once_and_on_request(self) -> None:
        lines = [ReturnedUnits(D("66.00"), 2, 1)]
        ask = {"shipping_charged": D("5.40"), "refundable": D("100")}
        assert return_rules.return_amount(lines, refund_shipping=False, shipping_refunded=False, **ask) == D("33.00")
        assert return_rules.return_amount(lines, refund_shipping=True, shipping_refunded=False, **ask) == D("38.40")
        assert return_rules.return_amount(lines, refund_shipping=True, shipping_refunded=True, **ask) == D("33.00")

    def test_never_more_than_remains(self) -> None:
        lines = [ReturnedUnits(D("66.00"), 2, 2)]
        assert return_rules.return_amount(lines, shipping_charged=D("5"), refund_shipping=True, shipping_refunded=False,
                                    refundable=D("40.00")) == D("40.00")
        assert return_rules.return_amount(lines, shipping_charged=D("5"), refund_shipping=True, shipping_refunded=False,
                                    refundable=D("-1")) == D("0.00")

    def test_every_unit_and_shipping_returned_is_the_orders_total(self) -> None:
        # 60.00 less 6.00 off, 10 % added: 59.40; 10.00 less 1.00: 9.90; shipping 5.00 + 0.50 tax.
        lines = [ReturnedUnits(D("59.40"), 2, 2), ReturnedUnits(D("9.90"), 1, 1)]
        assert return_rules.return_amount(lines, shipping_charged=D("5.50"), refund_shipping=True,
                                    shipping_refunded=False, refundable=D("74.80")) == D("74.80")


class TestClaims:
    """A claim: goods that left the shelf (shipped or delivered); a replacement only of goods from
    stock (a printed book is made for its order: refunded)."""

    @pytest.mark.parametrize(("status", "takes"), [("shipped", True), ("delivered", True), ("paid", False),
                                                   ("processing", False), ("returned", False), ("cancelled", False)])
    def test_only_goods_that_left_the_shelf(self, status: str, takes: bool) -> None:
        assert (return_rules.claim_problem(status) is None) is takes

    def test_only_goods_from_stock_are_sent_again(self) -> None:
        assert return_rules.is_replaceable_kind("physical")
        assert not return_rules.is_replaceable_kind("print_tier")
        assert not return_rules.is_replaceable_kind("credit_pack")


class TestExchangeSettlement:
    @pytest.mark.parametrize(("credit", "total", "due", "refund", "applied"), [
        ("30.00", "12.00", "0.00", "18.00", "12.00"),  # the shop owes the difference
        ("30.00", "49.05", "19.05", "0.00", "30.00"),  # the customer owes it
        ("30.00", "30.00", "0.00", "0.00", "30.00"),  # even: nothing moves
    ])
    def test_one_side_owes_the_difference(self, credit: str, total: str, due: str, refund: str, applied: str) -> None:
        settlement = return_rules.Settlement(credit=D(credit), new_items_total=D(total))
        assert settlement.difference == D(total) - D(credit)
        assert (settlement.amount_due, settlement.refund, settlement.credit_applied) == (D(due), D(refund), D(applied))
        # The credit pays the new items' order up to its total; the customer pays the rest.
        assert settlement.credit_applied + settlement.amount_due == D(total)

    def test_the_credit_is_each_lines_share_of_what_it_was_charged(self) -> None:
        lines = [ReturnedUnits(line_charged=D("32.70"), line_quantity=3, quantity=1),
                 ReturnedUnits(line_charged=D("10.00"), line_quantity=1, quantity=1)]
        assert return_rules.exchange_credit(lines) == D("10.90") + D("10.00")

    def test_the_refund_never_exceeds_what_the_payment_has_left(self) -> None:
        settlement = return_rules.Settlement(credit=D("30.00"), new_items_total=D("10.00"))
        assert return_rules.exchange_refund(settlement, refundable=D("100.00")) == D("20.00")
        assert return_rules.exchange_refund(settlement, refundable=D("5.00")) == D("5.00")
        assert return_rules.exchange_refund(settlement, refundable=D("-1.00")) == D("0.00")

    def test_only_goods_from_stock_go_out(self) -> None:
        assert return_rules.is_exchangeable_kind("physical")
        assert not any(return_rules.is_exchangeable_kind(k) for k in ("print_tier", "credit_pack", "digital"))
