"""The one pricing function (`charges.price`): the cases tax offices decide, and its properties over
random carts (Hypothesis)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from atelier_common.contracts.catalog import TAX_INCLUSIVE_KINDS
from atelier_common.contracts.identity import ALL_KINDS
from atelier_orders.pricing import charges
from atelier_orders.pricing.charges import Line, TaxRules
from atelier_orders.promotions.rules import allocate

D = Decimal
EXCLUSIVE = TaxRules(rate=D("0.09"), inclusive_kinds=frozenset(TAX_INCLUSIVE_KINDS))


class TestWhatTaxOfficesExpect:
    def test_a_discount_lowers_the_taxed_base(self) -> None:
        # 50.00 with 10.00 off at 9 %: 3.60, not 4.50.
        priced = charges.price([Line("physical", D("50.00"), 1, discount=D("10.00"))], EXCLUSIVE)
        assert (priced.subtotal, priced.discount, priced.tax_amount, priced.total) == (
            D("50.00"), D("10.00"), D("3.60"), D("43.60"))

    def test_shipping_is_taxed_with_the_goods_where_the_rules_say(self) -> None:
        taxed = TaxRules(rate=D("0.20"), inclusive_kinds=frozenset(), shipping_taxed=True)
        priced = charges.price([Line("physical", D("40.00"), 1)], taxed, shipping=D("5.00"))
        assert (priced.tax_amount, priced.shipping_tax, priced.total) == (D("9.00"), D("1.00"), D("54.00"))
        untaxed = charges.price([Line("physical", D("40.00"), 1)], EXCLUSIVE, shipping=D("5.00"))
        assert (untaxed.tax_amount, untaxed.shipping_tax, untaxed.total) == (D("3.60"), D("0.00"), D("48.60"))

    def test_free_shipping_is_shippings_own_discount_and_leaves_no_tax_on_it(self) -> None:
        taxed = TaxRules(rate=D("0.20"), inclusive_kinds=frozenset(), shipping_taxed=True)
        priced = charges.price([Line("physical", D("40.00"), 1)], taxed, shipping=D("5.00"), free_shipping=True)
        assert priced.shipping is not None
        assert (priced.shipping.discount, priced.shipping_cost, priced.shipping_tax, priced.total) == (
            D("5.00"), D("0.00"), D("0.00"), D("48.00"))

    def test_a_tax_inclusive_price_reports_the_tax_it_includes(self) -> None:
        # 40.00 at 7.25 % tax included: 40 × 0.0725 / 1.0725 = 2.704 → 2.70, and nothing added.
        inclusive = TaxRules(rate=D("0.0725"), inclusive_kinds=frozenset(ALL_KINDS), shipping_inclusive=True)
        priced = charges.price([Line("physical", D("20.00"), 2)], inclusive)
        assert (priced.tax_amount, priced.tax_included, priced.total) == (D("2.70"), D("2.70"), D("40.00"))
        assert priced.lines[0].tax_inclusive

    def test_one_rounding_per_rate_as_the_invoice_totals_it(self) -> None:
        # S1: 427.50 of goods at 9 % → 38.48 (three lines of 142.50 would round to 12.83 each: 38.49).
        priced = charges.price([Line("physical", D("142.50"), 1)] * 3, EXCLUSIVE)
        assert priced.tax_amount == D("38.48")
        assert sorted(line.tax for line in priced.lines) == [D("12.82"), D("12.83"), D("12.83")]

    def test_half_up_at_the_half_cent(self) -> None:
        assert charges.price([Line("physical", D("0.50"), 1)], EXCLUSIVE).tax_amount == D("0.05")

    def test_nothing_shipped_costs_no_shipping(self) -> None:
        priced = charges.price([Line("credit_pack", D("4.99"), 1)], EXCLUSIVE)
        assert (priced.shipping, priced.shipping_cost, priced.total) == (None, D("0.00"), D("4.99"))

    def test_each_tax_class_is_taxed_at_its_rate_rounded_per_rate(self) -> None:
        # France: books at 5.5 %, the rest at 20 %, shipping at the standard rate.
        rules = TaxRules(rate=D("0.20"), inclusive_kinds=frozenset(), shipping_taxed=True,
                         class_rates={"reduced": D("0.055")})
        priced = charges.price([Line("physical", D("40.00"), 1), Line("physical", D("2.10"), 1, tax_class="reduced"),
                                Line("physical", D("4.10"), 1, tax_class="reduced"),
                                Line("physical", D("9.00"), 1, tax_class="zero")],
                               rules, shipping=D("5.00"))
        assert [line.tax_rate for line in priced.lines] == [D("0.20"), D("0.055"), D("0.055"), D("0")]
        # 6.20 of books at 5.5 % = 0.341 → 0.34 once, shared (0.12 + 0.22); apart they round to 0.12 + 0.23.
        assert [line.tax for line in priced.lines] == [D("8.00"), D("0.12"), D("0.22"), D("0.00")]
        assert priced.shipping is not None and (priced.shipping.tax_rate, priced.shipping_tax) == (D("0.20"), D("1.00"))
        assert (priced.tax_amount, priced.total) == (D("9.34"), D("69.54"))

    def test_a_class_without_its_own_rate_pays_the_standard_one_and_zero_nothing(self) -> None:
        rules = TaxRules(rate=D("0.09"), inclusive_kinds=frozenset())
        assert [rules.rate_of(c) for c in ("standard", "reduced", "zero", "a-later-class")] == [
            D("0.09"), D("0.09"), D("0"), D("0.09")]
        assert TaxRules(rate=D("0.09"), inclusive_kinds=frozenset(), class_rates={"zero": D("0.01")}).rate_of(
            "zero") == D("0.01")

    def test_a_digital_kind_stays_tax_inclusive_in_any_class(self) -> None:
        rules = TaxRules(rate=D("0.20"), inclusive_kinds=frozenset(TAX_INCLUSIVE_KINDS),
                         class_rates={"reduced": D("0.10")})
        priced = charges.price([Line("credit_pack", D("11.00"), 1, tax_class="reduced")], rules)
        # 11.00 × 0.10 / 1.10 = 1.00 held, nothing added.
        assert (priced.tax_amount, priced.tax_included, priced.total) == (D("1.00"), D("1.00"), D("11.00"))

    def test_a_discount_never_exceeds_its_line(self) -> None:
        priced = charges.price([Line("physical", D("5.00"), 1, discount=D("9.00"))], EXCLUSIVE)
        assert (priced.discount, priced.tax_amount, priced.total) == (D("5.00"), D("0.00"), D("0.00"))


KINDS = ["physical", "print_tier", "credit_pack", "retry_pack"]
CLASSES = ["standard", "reduced", "zero"]
money = st.decimals(min_value=D("0.01"), max_value=D("500.00"), places=2, allow_nan=False, allow_infinity=False)
rates = st.sampled_from([D("0"), D("0.05"), D("0.0725"), D("0.09"), D("0.2"), D("0.21")])


@st.composite
def carts(draw: st.DrawFn) -> tuple[list[Line], TaxRules, Decimal | None, bool]:
    raw = draw(st.lists(st.tuples(st.sampled_from(KINDS), money, st.integers(1, 5), st.sampled_from(CLASSES)),
                        min_size=1, max_size=5))
    amounts = [price * qty for _, price, qty, _ in raw]
    # A promotion's saving shared as promotion_rules shares it: to the cent, never above a line.
    saving = draw(st.decimals(min_value=D("0"), max_value=sum(amounts), places=2))
    shares = allocate(saving, amounts)
    lines = [Line(kind, price, qty, discount=share, tax_class=tax_class)
             for (kind, price, qty, tax_class), share in zip(raw, shares, strict=True)]
    inclusive = draw(st.booleans())
    # Some classes with a rate of their own, the others at the standard rate (zero: 0).
    class_rates = draw(st.dictionaries(st.sampled_from(["reduced", "zero"]), rates, max_size=2))
    tax = TaxRules(rate=draw(rates), inclusive_kinds=frozenset(ALL_KINDS) if inclusive else frozenset(TAX_INCLUSIVE_KINDS),
                   shipping_taxed=draw(st.booleans()), shipping_inclusive=inclusive, class_rates=class_rates)
    shipping = draw(st.one_of(st.none(), st.decimals(min_value=D("0"), max_value=D("50"), places=2)))
    return lines, tax, shipping, draw(st.booleans())



def _priced(cart: tuple[list[Line], TaxRules, Decimal | None, bool]) -> tuple[charges.Priced, list[charges.Charge]]:
    """The cart priced, and every charge of it: its lines, then its shipping when it has one."""
    lines, tax, shipping, free = cart
    priced = charges.price(lines, tax, shipping=shipping, free_shipping=free)
    return priced, [*priced.lines, *([priced.shipping] if priced.shipping else [])]

@settings(max_examples=300, deadline=None)
@given(carts())
def test_the_total_is_what_each_charge_charges(cart: tuple[list[Line], TaxRules, Decimal | None, bool]) -> None:
    priced, every = _priced(cart)
    assert priced.total == sum((charge.charged for charge in every), D("0"))
    assert priced.total == priced.subtotal - priced.discount + priced.shipping_cost + priced.tax_amount - priced.tax_included
    assert priced.total >= 0 and priced.tax_included <= priced.tax_amount


@settings(max_examples=300, deadline=None)
@given(carts())
def test_each_line_tax_is_its_share_of_its_rates_rounded_tax(cart: tuple[list[Line], TaxRules, Decimal | None, bool]) -> None:
    lines, tax, _, _ = cart
    priced, every = _priced(cart)
    # Each line at its class's rate, shipping (when taxed) at the standard one.
    assert [c.tax_rate for c in priced.lines] == [tax.rate_of(line.tax_class) for line in lines]
    if priced.shipping is not None:
        assert priced.shipping.tax_rate == (tax.rate if tax.shipping_taxed else 0)
    for rate in {c.tax_rate for c in every if c.tax_rate > 0}:
        for inclusive in (False, True):
            group = [c for c in every if c.tax_inclusive == inclusive and c.tax_rate == rate]
            # The group's tax is its summed base taxed once, half-up (the stated rule)…
            assert sum((c.tax for c in group), D("0")) == charges.group_tax([c.base for c in group], rate,
                                                                          inclusive=inclusive)
            # …and each line's share of it is within a cent of its own base's exact tax.
            for c in group:
                exact = c.base * rate / (1 + rate) if inclusive else c.base * rate
                assert abs(c.tax - exact) < D("0.02")
    assert all(c.tax == 0 for c in every if c.tax_rate == 0)
