"""The cart's pure rules: totals and tax (S1's worked examples to the cent), limits, merging."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from atelier_cart import domain
from atelier_cart.settings import CartSettings
from atelier_common.contracts.identity import StorefrontPolicies, StorefrontTax
from atelier_testing.storefronts import make_storefront

S1_RATE = Decimal("0.09")


class TestTotals:
    @pytest.mark.parametrize(("lines", "item_count", "subtotal", "tax", "total"), [
        # S1 "Add to Cart": 2 x 85.50
        ([("85.50", 2)], 2, "171.00", "15.39", "186.39"),
        # S1 "Update Cart Item": 5 x 85.50; 38.475 rounds half-up
        ([("85.50", 5)], 5, "427.50", "38.48", "465.98"),
        # S1 "Get Cart": three units for 109.97
        ([("49.99", 1), ("29.99", 2)], 3, "109.97", "9.90", "119.87"),
        # S1 "Remove" / "Clear": an empty cart
        ([], 0, "0.00", "0.00", "0.00"),
    ])
    def test_s1_worked_examples(self, lines, item_count, subtotal, tax, total) -> None:
        totals = domain.cart_totals((("physical", Decimal(p), q, "standard") for p, q in lines), S1_RATE)
        assert (totals.item_count, str(totals.subtotal), str(totals.tax_amount), str(totals.total)) == (
            item_count, subtotal, tax, total)

    def test_tax_rounds_half_up_not_to_even(self) -> None:
        # 12.50 x 0.09 = 1.125: banker's rounding would give 1.12
        assert domain.cart_totals([("physical", Decimal("12.50"), 1, "standard")], S1_RATE).tax_amount == Decimal("1.13")
        assert domain.cart_totals([("physical", Decimal("0.50"), 1, "standard")], S1_RATE).tax_amount == Decimal("0.05")

    def test_the_rate_is_a_setting(self) -> None:
        totals = domain.cart_totals([("physical", Decimal("100.00"), 1, "standard")], Decimal("0.20"))
        assert (totals.tax_amount, totals.total) == (Decimal("20.00"), Decimal("120.00"))

    def test_default_rate_is_nine_percent(self) -> None:
        assert CartSettings().tax_rate == S1_RATE

    def test_digital_goods_are_tax_inclusive_by_default(self) -> None:
        # PACK_5 shows 4.99 and is charged 4.99; goods beside it still get 9% added.
        totals = domain.cart_totals([("credit_pack", Decimal("4.99"), 1, "standard"),
                                     ("retry_pack", Decimal("2.00"), 1, "standard"),
                                     ("physical", Decimal("10.00"), 1, "standard")], S1_RATE)
        assert (totals.subtotal, totals.tax_amount, totals.total) == (
            Decimal("16.99"), Decimal("1.48"), Decimal("17.89"))
        assert domain.cart_totals([("credit_pack", Decimal("10.00"), 1, "standard")], S1_RATE,
                                  inclusive_kinds=()).tax_amount == Decimal("0.90")

    def test_each_tax_class_is_taxed_at_its_rate_rounded_per_rate(self) -> None:
        # 6.20 of books at 5.5 % = 0.341 → 0.34 (not 0.12 + 0.23), 40.00 at 20 %, bread untaxed.
        totals = domain.cart_totals([("physical", Decimal("40.00"), 1, "standard"),
                                     ("physical", Decimal("2.10"), 1, "reduced"),
                                     ("physical", Decimal("4.10"), 1, "reduced"),
                                     ("physical", Decimal("9.00"), 1, "zero")], Decimal("0.20"),
                                    class_rates={"reduced": Decimal("0.055")})
        assert (totals.subtotal, totals.tax_amount, totals.total) == (
            Decimal("55.20"), Decimal("8.34"), Decimal("63.54"))
        # A class without a rate of its own: the standard rate (zero: none).
        assert domain.cart_totals([("physical", Decimal("10.00"), 1, "reduced"), ("physical", Decimal("10.00"), 1,
                                                                                 "zero")],
                                  Decimal("0.20")).tax_amount == Decimal("2.00")

    def test_money_stays_decimal(self) -> None:
        totals = domain.cart_totals([("physical", Decimal("0.10"), 3, "standard")], S1_RATE)
        assert isinstance(totals.subtotal, Decimal) and totals.subtotal == Decimal("0.30")


class TestLineRules:
    @pytest.mark.parametrize(("quantity", "ok"), [(0, False), (1, True), (99, True), (100, False), (-1, False)])
    def test_a_line_holds_1_to_99(self, quantity: int, ok: bool) -> None:
        assert domain.within_line_limit(quantity) is ok

    def test_stock_is_checked_only_when_tracked(self) -> None:
        assert domain.available_stock(True, 4) == 4
        assert domain.available_stock(False, 0) is None
        assert domain.has_stock_for(5, 4) is False
        assert domain.has_stock_for(4, 4) is True
        assert domain.has_stock_for(1000, None) is True

    def test_negative_stock_is_nothing_available(self) -> None:
        assert domain.available_stock(True, -3) == 0

    def test_variant_lines_are_named_after_their_product(self) -> None:
        assert domain.line_name("Carrara Slab", "2 cm") == "Carrara Slab (2 cm)"
        assert domain.line_name("Carrara Slab", None) == "Carrara Slab"


class TestMergedQuantity:
    def test_quantities_add_up(self) -> None:
        assert domain.merged_quantity(7, None) == 7

    def test_capped_at_99(self) -> None:
        assert domain.merged_quantity(150, None) == 99
        assert domain.merged_quantity(150, 500) == 99

    def test_capped_at_stock(self) -> None:
        assert domain.merged_quantity(8, 5) == 5
        assert domain.merged_quantity(8, 0) == 0


class TestStorefronts:
    def _facts(self, kind: str = "physical", storefronts: tuple[str, ...] = ()) -> domain.ProductFacts:
        return domain.ProductFacts(product_id=uuid.uuid4(), variant_id=None, name="Slab", variant_name=None,
                                   sku="S", kind=kind, price=Decimal("10.00"), currency="EUR", stock_quantity=1,
                                   track_inventory=True, is_active=True, image_url=None, storefronts=storefronts)

    def test_a_storefront_offers_what_it_sells_in_its_scope(self) -> None:
        b = make_storefront("b", sells=["physical"])
        assert domain.offered(b, self._facts())
        assert domain.offered(b, self._facts(storefronts=("a", "b")))
        assert not domain.offered(b, self._facts(storefronts=("a",)))
        assert not domain.offered(b, self._facts(kind="credit_pack"))

    def test_an_inclusive_storefront_adds_no_tax_on_any_kind(self) -> None:
        inclusive = domain.cart_tax(make_storefront(tax=StorefrontTax(rate="0.20", inclusive=True)),
                                    CartSettings().tax_inclusive_kinds)
        lines = [(kind, Decimal("10.00"), 1, "standard") for kind in ("physical", "print_tier", "credit_pack")]
        assert domain.cart_totals(lines, inclusive.rate, inclusive_kinds=inclusive.inclusive_kinds).tax_amount \
            == Decimal("5.00")  # 30.00 × 0.20 / 1.20, included: reported, nothing added

    def test_else_the_rate_is_added_on_the_tax_exclusive_kinds(self) -> None:
        added = domain.cart_tax(make_storefront(tax=StorefrontTax(rate="0.20")), CartSettings().tax_inclusive_kinds)
        lines = [("physical", Decimal("10.00"), 1, "standard"), ("print_tier", Decimal("10.00"), 1, "standard"),
                 ("credit_pack", Decimal("10.00"), 1, "standard")]
        assert domain.cart_totals(lines, added.rate, inclusive_kinds=added.inclusive_kinds).tax_amount \
            == Decimal("5.67")  # 4.00 added on the goods, 1.67 included in the credit pack

    @pytest.mark.parametrize(("cart", "has_lines", "product", "after"), [
        ("EUR", False, "EUR", "EUR"),
        ("EUR", False, "USD", None),   # a new cart is in the storefront's currency
        ("USD", False, "EUR", "EUR"),  # an empty cart made before the storefront changed currency
        ("USD", False, "USD", None),
        ("EUR", True, "EUR", "EUR"),
        ("EUR", True, "USD", None),
    ])
    def test_a_storefronts_cart_holds_its_currency(self, cart: str, has_lines: bool, product: str,
                                                   after: str | None) -> None:
        assert domain.currency_after_add(make_storefront(currency="EUR"), cart, has_lines, product) == after

    def test_the_default_storefront_keeps_the_first_line_rule(self) -> None:
        default = make_storefront("default", currency="USD", is_default=True)
        assert domain.currency_after_add(default, "USD", False, "GEL") == "GEL"
        assert domain.currency_after_add(default, "USD", True, "GEL") is None


@pytest.mark.parametrize(("stock_only", "track", "before", "after", "matters"), [
    (True, True, 1000, 999, False),   # plenty to plenty: the same lines are allowed
    (True, True, 99, 150, False),     # the limit itself is plenty
    (True, True, 120, 98, True),      # crosses the limit down
    (True, True, 98, 120, True),      # and up
    (True, True, 5, 4, True),         # below it every unit counts
    (True, False, 5, 4, False),       # a product that counts no stock
    (True, True, None, 999, True),    # the stock before is not said: apply
    (False, True, 1000, 999, True),   # other facts may have changed
])
def test_which_stock_changes_matter_to_a_cart(stock_only: bool, track: bool, before: int | None, after: int,
                                              matters: bool) -> None:
    assert domain.stock_change_matters(stock_only=stock_only, track_inventory=track, before=before,
                                       after=after) is matters


class TestOrderedUnits:
    def test_a_product_named_twice_counts_twice_and_variants_apart(self) -> None:
        product, variant = uuid.uuid4(), uuid.uuid4()
        assert domain.ordered_units([(product, None, 1), (product, variant, 2), (product, None, 3)]) == {
            (product, None): 4, (product, variant): 2}


def test_a_storefronts_line_limit() -> None:
    def limit(value: int | None) -> int:
        return domain.line_limit(make_storefront(policies=StorefrontPolicies(cart_line_limit=value)))

    assert (limit(None), limit(5), limit(0)) == (99, 5, domain.UNCAPPED_LINE_QUANTITY)
    assert limit(10**9) == domain.UNCAPPED_LINE_QUANTITY
    assert domain.stock_change_matters(stock_only=True, track_inventory=True, before=288, after=140, limit=limit(0))
    assert not domain.stock_change_matters(stock_only=True, track_inventory=True, before=288, after=140)
