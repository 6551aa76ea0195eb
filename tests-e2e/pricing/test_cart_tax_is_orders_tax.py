"""The cart's own totals (no promotion: `atelier_cart.domain.cart_totals`) are the ones orders'
pricing gives the same lines (`atelier_orders.pricing.price`) for random carts of mixed kinds and
tax classes, on storefronts that add tax and that include it. The services never import each other;
this test, beside the journeys, imports both (docs/api.md#money-and-tax)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from atelier_cart import domain as cart_domain
from atelier_common.contracts.catalog import TAX_CLASSES, TAX_INCLUSIVE_KINDS
from atelier_common.contracts.identity import StorefrontTax
from atelier_orders.pricing import charges, destinations
from atelier_testing.storefronts import make_storefront

D = Decimal
KINDS = ["physical", "print_tier", "credit_pack", "retry_pack"]
RATES = st.sampled_from([D("0"), D("0.021"), D("0.055"), D("0.0725"), D("0.09"), D("0.2"), D("0.25")])
money = st.decimals(min_value=D("0.01"), max_value=D("500.00"), places=2, allow_nan=False, allow_infinity=False)
lines = st.lists(st.tuples(st.sampled_from(KINDS), money, st.integers(1, 99), st.sampled_from(TAX_CLASSES)),
                 max_size=8)
taxes = st.builds(lambda rate, inclusive, rates: StorefrontTax(rate=rate, inclusive=inclusive, tax_rates=rates),
                  RATES, st.booleans(), st.dictionaries(st.sampled_from(["reduced", "zero"]), RATES, max_size=2))


@settings(max_examples=400, deadline=None)
@given(lines, taxes)
def test_the_carts_tax_is_what_orders_charges(cart: list[tuple[str, Decimal, int, str]], tax: StorefrontTax) -> None:
    storefront = make_storefront("b", currency="USD", tax=tax)
    local = cart_domain.cart_tax(storefront, TAX_INCLUSIVE_KINDS)
    shown = cart_domain.cart_totals(cart, local.rate, inclusive_kinds=local.inclusive_kinds,
                                    class_rates=local.class_rates)
    priced = charges.price([charges.Line(kind, price, quantity, tax_class=tax_class)
                            for kind, price, quantity, tax_class in cart],
                           destinations.storefront_tax(storefront, tax_inclusive_kinds=TAX_INCLUSIVE_KINDS))
    assert (shown.subtotal, shown.tax_amount, shown.tax_included, shown.total) == (
        priced.subtotal, priced.tax_amount, priced.tax_included, priced.total)
