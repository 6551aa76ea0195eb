"""The rules of a return (#56), without I/O: what may still be returned, and what a received
return refunds (its lines with their tax, less their discount, plus shipping on request, capped)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from atelier_orders import domain
from atelier_orders.domain import OrderMoney, ReturnedUnits

D = Decimal
A, B, C = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def _money(subtotal: str = "70.00", tax: str = "7.00", shipping: str = "5.00", discount: str = "0.00",
           taxable: str | None = None) -> OrderMoney:
    total = D(subtotal) + D(tax) + D(shipping) - D(discount)
    return OrderMoney(subtotal=D(subtotal), tax_amount=D(tax), shipping_cost=D(shipping), discount=D(discount),
                      total_amount=total, taxable_subtotal=D(taxable if taxable is not None else subtotal))


class TestReturnable:
    def test_shipped_lines_less_what_other_returns_hold(self) -> None:
        items = [(A, "physical", 3), (B, "print_tier", 1), (C, "credit_pack", 2)]
        assert domain.returnable_quantities(items, {A: 1}) == {A: 2, B: 1}

    def test_problems_name_each_line(self) -> None:
        returnable = {A: 2, B: 0}
        assert domain.quantity_problems({A: 2}, returnable) == {}
        assert domain.quantity_problems({A: 3, B: 1, C: 1}, returnable) == {
            str(A): "Only 2 left to return", str(B): "Only 0 left to return", str(C): "Not a shipped line of this order"}

    @pytest.mark.parametrize(("status", "ok"), [("delivered", True), ("shipped", False), ("returned", False),
                                                ("paid", False), ("cancelled", False)])
    def test_only_a_delivered_order_takes_a_return(self, status: str, ok: bool) -> None:
        assert (domain.return_problem(status) is None) is ok

    def test_everything_returned(self) -> None:
        assert domain.everything_returned({A: 0, B: 0})
        assert not domain.everything_returned({A: 0, B: 1})
        assert not domain.everything_returned({})  # nothing shipped: nothing to return

    def test_numbers(self) -> None:
        number = domain.new_return_number(date(2026, 11, 27))
        assert domain.RETURN_NUMBER_PATTERN.match(number) and number.startswith("RET-20261127-")


class TestAmount:
    def test_a_line_with_its_share_of_the_tax(self) -> None:
        # 2 × 30.00 + 10.00 at 10 %: one of the two 30.00 units gives back 30.00 + 3.00.
        units = ReturnedUnits(line_total=D("60.00"), line_quantity=2, quantity=1, taxed=True)
        assert domain.returned_line_amount(units, _money()) == D("33.00")

    def test_tax_only_on_taxed_lines(self) -> None:
        money = _money(subtotal="70.00", tax="6.00", taxable="60.00")  # a 10.00 tax-inclusive line
        assert domain.returned_line_amount(ReturnedUnits(D("60.00"), 2, 2, taxed=True), money) == D("66.00")
        assert domain.returned_line_amount(ReturnedUnits(D("10.00"), 1, 1, taxed=False), money) == D("10.00")

    def test_the_discount_in_proportion_when_no_line_has_its_own(self) -> None:
        money = _money(subtotal="80.00", tax="0.00", discount="8.00")
        assert domain.returned_line_amount(ReturnedUnits(D("20.00"), 1, 1, taxed=True), money) == D("18.00")

    def test_a_line_allocation_of_the_discount_wins(self) -> None:
        money = _money(subtotal="80.00", tax="0.00", discount="8.00")
        units = ReturnedUnits(D("20.00"), 2, 1, taxed=True, line_discount=D("5.00"))
        assert domain.returned_line_amount(units, money) == D("7.50")

    def test_half_up_to_the_cent(self) -> None:
        money = _money(subtotal="30.00", tax="2.25", shipping="0.00")  # 7.5 %
        units = ReturnedUnits(D("30.00"), 3, 1, taxed=True)  # 10.00 + 0.75
        assert domain.returned_line_amount(units, money) == D("10.75")
        odd = ReturnedUnits(D("10.00"), 3, 1, taxed=False)  # 3.333…
        assert domain.returned_line_amount(odd, money) == D("3.33")

    def test_shipping_once_and_on_request(self) -> None:
        lines = [ReturnedUnits(D("60.00"), 2, 1, taxed=True)]
        money = _money()
        assert domain.return_amount(lines, money, refund_shipping=False, shipping_refunded=False,
                                    refundable=D("82.00")) == D("33.00")
        assert domain.return_amount(lines, money, refund_shipping=True, shipping_refunded=False,
                                    refundable=D("82.00")) == D("38.00")
        assert domain.return_amount(lines, money, refund_shipping=True, shipping_refunded=True,
                                    refundable=D("82.00")) == D("33.00")

    def test_never_more_than_remains(self) -> None:
        lines = [ReturnedUnits(D("60.00"), 2, 2, taxed=True)]
        assert domain.return_amount(lines, _money(), refund_shipping=True, shipping_refunded=False,
                                    refundable=D("20.00")) == D("20.00")
        assert domain.return_amount(lines, _money(), refund_shipping=True, shipping_refunded=False,
                                    refundable=D("-1.00")) == D("0.00")

    def test_the_whole_order_returned_is_its_total(self) -> None:
        money = _money()
        lines = [ReturnedUnits(D("60.00"), 2, 2, taxed=True), ReturnedUnits(D("10.00"), 1, 1, taxed=True)]
        assert domain.return_amount(lines, money, refund_shipping=True, shipping_refunded=False,
                                    refundable=money.total_amount) == money.total_amount


class TestLineDiscounts:
    def test_per_line_amounts_are_summed_by_position(self) -> None:
        discounts = [{"promotion_id": "p1", "code": "TEN", "amount": "3.00",
                      "lines": [{"position": 0, "sku": "A", "amount": "2.00"}, {"position": 1, "sku": "B", "amount": "1.00"}]},
                     {"promotion_id": "p2", "code": None, "amount": "0.50",
                      "lines": [{"position": 0, "sku": "A", "amount": "0.50"}]}]
        assert domain.line_discounts(discounts) == {0: Decimal("2.50"), 1: Decimal("1.00")}

    def test_no_per_line_data_means_none(self) -> None:
        assert domain.line_discounts([]) == {}
        assert domain.line_discounts([{"promotion_id": "p", "code": "X", "amount": "5.00"}]) == {}

    def test_a_line_allocation_replaces_the_proportional_share(self) -> None:
        money = domain.OrderMoney(subtotal=Decimal("100.00"), tax_amount=Decimal("0.00"), shipping_cost=Decimal("0"),
                                  discount=Decimal("10.00"), total_amount=Decimal("90.00"),
                                  taxable_subtotal=Decimal("100.00"))
        units = domain.ReturnedUnits(line_total=Decimal("50.00"), line_quantity=2, quantity=1, taxed=True)
        assert domain.returned_line_amount(units, money) == Decimal("22.50")  # proportional: 25 - 2.50
        allocated = domain.ReturnedUnits(line_total=Decimal("50.00"), line_quantity=2, quantity=1, taxed=True,
                                         line_discount=Decimal("8.00"))
        assert domain.returned_line_amount(allocated, money) == Decimal("21.00")  # 25 - 8 / 2
