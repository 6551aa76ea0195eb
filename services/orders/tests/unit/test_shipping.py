"""Shipping zones and methods: which zone an address is in, what each kind of method costs,
the zone's tax rate, and the totals an order is charged with (`destinations.shipping_quote`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from atelier_common.contracts.catalog import TAX_INCLUSIVE_KINDS
from atelier_common.contracts.identity import ShippingMethod, ShippingZone, StorefrontTax, region_code
from atelier_orders import domain
from atelier_orders.pricing import charges, destinations
from atelier_testing.storefronts import make_storefront

D = Decimal
SERVICE: dict[str, Any] = {"tax_inclusive_kinds": TAX_INCLUSIVE_KINDS, "shipping_cost": D("5.00")}

CALIFORNIA = {"code": "california", "name": "California", "regions": ["US-CA"], "tax_rate": "0.0725",
              "methods": [{"code": "standard", "name": "Standard", "amount": "5.95", "free_over": "75"},
                          {"code": "express", "name": "Express", "amount": "14.95"}]}
US = {"code": "us", "name": "United States", "countries": ["US"],
      "methods": [{"code": "standard", "name": "Standard", "kind": "subtotal",
                   "tiers": [{"min": "0", "amount": "7.95"}, {"min": "50", "amount": "4.95"}]}]}
WORLD = {"code": "world", "name": "Rest of the world", "countries": ["*"], "tax_rate": "0",
         "methods": [{"code": "international", "name": "International", "kind": "weight",
                      "tiers": [{"min": "0", "amount": "15.00"}, {"min": "2000", "amount": "25.00"}]}]}
EU = {"code": "eu", "name": "Europe", "countries": ["FR", "DE"], "tax_rate": "0.20", "methods": []}


def _store(*zones: dict[str, Any], **tax: Any) -> Any:
    return make_storefront("b", currency="USD", tax=StorefrontTax(rate=D("0.09"), **tax),
                           shipping_zones=[ShippingZone.model_validate(zone) for zone in zones])


def _lines(*lines: tuple[str, str, int, dict[str, Any]]) -> list[tuple[str, Decimal, int, dict[str, Any]]]:
    """(kind, line amount, quantity, attributes) lines."""
    return [(kind, D(price), qty, attributes) for kind, price, qty, attributes in lines]


def _quote(store: Any, country: str | None, region: str | None = None, *lines: Any) -> destinations.ShippingQuote:
    return destinations.shipping_quote(store, country=country, region=region,
                                 lines=_lines(*lines) or _lines(("physical", "10.00", 1, {})), **SERVICE)


class TestWhichZone:
    store = _store(US, CALIFORNIA, WORLD, EU)

    @pytest.mark.parametrize(("country", "region", "zone"), [
        ("US", "CA", "california"), ("US", "US-CA", "california"), ("us", "ca", "california"),
        ("US", "NY", "us"), ("US", None, "us"), ("US", "", "us"), ("FR", None, "eu"), ("de", "DE-BY", "eu"),
        ("GE", None, "world"), ("USA", None, "world"), (None, None, "world"), ("CA", "ON", "world"),
    ])
    def test_the_most_specific_zone_wins_region_then_country_then_every_country(
            self, country: str | None, region: str | None, zone: str) -> None:
        found = self.store.shipping_zone(country, region)
        assert found is not None and found.code == zone

    def test_without_a_rest_of_the_world_zone_an_address_elsewhere_has_none(self) -> None:
        assert _store(US, CALIFORNIA).shipping_zone("GE", None) is None

    def test_a_region_is_iso_3166_2_whether_written_whole_or_as_the_state(self) -> None:
        assert (region_code("US", "ca"), region_code("us", "US-CA"), region_code("US", " "),
                region_code(None, "ca")) == ("US-CA", "US-CA", None, "CA")


class TestWhatAMethodCosts:
    def test_flat_is_its_amount_whatever_the_order(self) -> None:
        method = ShippingMethod(code="s", name="S", amount=D("5.00"))
        assert {method.cost(subtotal=s, weight_grams=w) for s, w in ((D(0), 0), (D("999"), 90_000))} == {D("5.00")}

    @pytest.mark.parametrize(("subtotal", "cost"), [("0", "7.95"), ("49.99", "7.95"), ("50", "4.95"),
                                                    ("500", "4.95")])
    def test_by_subtotal_is_the_tier_the_subtotal_reaches(self, subtotal: str, cost: str) -> None:
        method = ShippingMethod.model_validate(US["methods"][0])
        assert method.cost(subtotal=D(subtotal), weight_grams=0) == D(cost)

    @pytest.mark.parametrize(("grams", "cost"), [(0, "15.00"), (1999, "15.00"), (2000, "25.00"), (10_000, "25.00")])
    def test_by_weight_is_the_tier_the_weight_reaches(self, grams: int, cost: str) -> None:
        method = ShippingMethod.model_validate(WORLD["methods"][0])
        assert method.cost(subtotal=D("10"), weight_grams=grams) == D(cost)

    @pytest.mark.parametrize(("subtotal", "cost"), [("74.99", "5.95"), ("75.00", "0.00"), ("200", "0.00")])
    def test_free_over_a_threshold_from_the_threshold_on(self, subtotal: str, cost: str) -> None:
        method = ShippingMethod.model_validate(CALIFORNIA["methods"][0])
        assert method.cost(subtotal=D(subtotal), weight_grams=0) == D(cost)


class TestTheQuote:
    def test_a_storefront_without_zones_is_todays_one_charge_and_rate(self) -> None:
        quote = _quote(_store(shipping_rate=D("7.50")), "GE")
        assert (quote.zone, quote.tax_rate, quote.options) == (None, D("0.09"), (destinations.ShippingOption(
            code=None, name=None, cost=D("7.50")),))
        assert _quote(_store(), "GE").options[0].cost == D("5.00")  # the service's shipping_cost
        assert quote.option(None) is not None and quote.option("standard") is None

    def test_the_zones_methods_in_order_the_first_the_default(self) -> None:
        quote = _quote(_store(CALIFORNIA, US), "US", "CA")
        assert [(o.code, o.cost) for o in quote.options] == [("standard", D("5.95")), ("express", D("14.95"))]
        assert quote.option(None) == quote.options[0]
        assert quote.option("express") == quote.options[1]
        assert quote.option("international") is None

    def test_the_zones_rate_replaces_the_storefronts_and_none_keeps_it(self) -> None:
        assert _quote(_store(CALIFORNIA, US), "US", "CA").tax_rate == D("0.0725")
        assert _quote(_store(CALIFORNIA, US), "US", "NY").tax_rate == D("0.09")

    def test_a_zones_class_rates_replace_the_storefronts_and_none_keeps_them(self) -> None:
        store = _store(CALIFORNIA, US, {**EU, "tax_rates": {"reduced": "0.055"}}, tax_rates={"reduced": D("0.05")})
        rates = {place: _quote(store, *place).tax for place in (("US", "CA"), ("US", "NY"), ("FR", None), ("GE", None))}
        assert [rates[("US", "CA")].rate_of(c) for c in ("standard", "reduced", "zero")] == [D("0.0725"), D("0.05"), 0]
        assert [rates[("US", "NY")].rate_of(c) for c in ("standard", "reduced", "zero")] == [D("0.09"), D("0.05"), 0]
        assert [rates[("FR", None)].rate_of(c) for c in ("standard", "reduced", "zero")] == [D("0.20"), D("0.055"), 0]
        # No zone there: the storefront's own.
        assert rates[("GE", None)].rate_of("reduced") == D("0.05")

    def test_a_zone_that_taxes_nothing_taxes_no_class_unless_it_says_so(self) -> None:
        store = _store(WORLD, tax_rates={"reduced": D("0.05")})
        assert _quote(store, "GE").tax.rate_of("reduced") == 0
        store = _store({**WORLD, "tax_rates": {"reduced": "0.01"}}, tax_rates={"reduced": D("0.05")})
        assert _quote(store, "GE").tax.rate_of("reduced") == D("0.01")

    def test_an_address_no_zone_covers_has_no_method_and_the_storefronts_rate(self) -> None:
        quote = _quote(_store(CALIFORNIA, US), "GE")
        assert (quote.zone, quote.options, quote.tax_rate, quote.option(None)) == (None, (), D("0.09"), None)

    def test_a_zone_without_methods_is_taxed_but_not_shipped_to(self) -> None:
        quote = _quote(_store(EU), "FR")
        assert quote.zone is not None and (quote.zone.code, quote.tax_rate, quote.options) == ("eu", D("0.20"), ())

    def test_thresholds_count_the_shipped_lines_only(self) -> None:
        # 60.00 of goods (tier 50: 4.95) and a 100.00 credit pack that is not shipped.
        quote = _quote(_store(US), "US", None, ("physical", "60.00", 2, {}), ("credit_pack", "100.00", 1, {}))
        assert quote.options[0].cost == D("4.95")

    def test_weight_is_each_shipped_units_weight_grams_times_its_quantity(self) -> None:
        # 2 × 800 g + 1 × 500 g = 2100 g (tier 2000: 25.00); a line without a weight weighs nothing.
        lines = (("physical", "10.00", 2, {"weight_grams": 800}), ("print_tier", "5.00", 1, {"weight_grams": "500"}),
                 ("physical", "1.00", 3, {}), ("credit_pack", "1.00", 9, {"weight_grams": 10_000}))
        assert _quote(_store(WORLD), "GE", None, *lines).options[0].cost == D("25.00")

    @pytest.mark.parametrize("value", [None, True, "heavy", -5, "NaN", [1], {"g": 1}])
    def test_a_weight_that_is_not_a_positive_number_weighs_nothing(self, value: Any) -> None:
        assert destinations.unit_weight({"weight_grams": value}) == 0


class TestTheZonesInclusiveFlag:
    def test_a_zone_may_include_tax_where_the_storefront_adds_it_and_the_reverse(self) -> None:
        inclusive = _quote(_store({**EU, "tax_inclusive": True}), "FR")
        assert "physical" in inclusive.tax.inclusive_kinds
        exclusive = _quote(_store({**EU, "tax_inclusive": False}, inclusive=True), "FR")
        assert "physical" not in exclusive.tax.inclusive_kinds
        assert exclusive.tax.inclusive_kinds == frozenset(TAX_INCLUSIVE_KINDS)
        assert "physical" in _quote(_store(EU, inclusive=True), "FR").tax.inclusive_kinds  # None: the storefront's

    def test_zones_and_methods_have_ids_stable_from_their_codes(self) -> None:
        assert _store(CALIFORNIA).shipping_zones[0].id == _store(CALIFORNIA).shipping_zones[0].id
        assert _quote(_store(CALIFORNIA), "US", "CA").options[0].id == str(
            _store(CALIFORNIA).shipping_zones[0].methods[0].id)


def _priced(quote: destinations.ShippingQuote, lines: list[tuple[str, Decimal, int, dict[str, Any]]],
            method: destinations.ShippingOption | None) -> charges.Priced:
    return charges.price([charges.Line(kind, price, qty) for kind, price, qty, _ in lines], quote.tax,
                         shipping=method.cost if method else None)


class TestTotalsWithTheZone:
    def test_the_zones_rate_is_added_half_up_on_taxable_lines_and_shipping_where_the_zone_says(self) -> None:
        lines = _lines(("physical", "19.99", 3, {}), ("physical", "0.35", 1, {}), ("credit_pack", "10.00", 1, {}))
        untaxed = destinations.shipping_quote(_store({**CALIFORNIA, "shipping_taxed": False}, US), country="US",
                                        region="CA", lines=lines, **SERVICE)
        totals = _priced(untaxed, lines, untaxed.option("express"))
        # Goods 59.97 + 0.35 = 60.32 × 7.25 % = 4.3732 → 4.37 added; the credit pack's 10.00 holds
        # 10 × 0.0725 / 1.0725 = 0.676 → 0.68 of tax, reported and not added.
        assert (totals.subtotal, totals.tax_amount, totals.tax_included, totals.shipping_cost, totals.total) == (
            D("70.32"), D("5.05"), D("0.68"), D("14.95"), D("89.64"))
        # By default a zone that taxes goods taxes shipping with them: (60.32 + 14.95) × 7.25 % = 5.457 → 5.46.
        taxed = destinations.shipping_quote(_store(CALIFORNIA, US), country="US", region="CA", lines=lines, **SERVICE)
        assert taxed.tax.shipping_taxed
        totals = _priced(taxed, lines, taxed.option("express"))
        assert (totals.tax_amount, totals.shipping_tax, totals.total) == (D("6.14"), D("1.08"), D("90.73"))

    def test_a_zone_without_tax_does_not_tax_shipping_unless_it_says_so(self) -> None:
        assert not _quote(_store(WORLD), "GE").tax.shipping_taxed
        assert _quote(_store({**WORLD, "shipping_taxed": True}), "GE").tax.shipping_taxed

    def test_a_storefront_without_zones_taxes_its_flat_charge_only_when_it_says_so(self) -> None:
        assert not _quote(_store(), "US").tax.shipping_taxed
        assert _quote(_store(shipping_taxed=True), "US").tax.shipping_taxed

    def test_free_over_is_judged_on_what_the_lines_cost_after_their_discounts(self) -> None:
        store = _store(CALIFORNIA)
        full = destinations.shipping_quote(store, country="US", region="CA", lines=_lines(("physical", "80.00", 1, {})),
                                     **SERVICE)
        discounted = destinations.shipping_quote(store, country="US", region="CA",
                                           lines=_lines(("physical", "72.00", 1, {})), **SERVICE)
        assert (full.options[0].cost, discounted.options[0].cost) == (D("0.00"), D("5.95"))

    def test_half_up_at_the_half_cent(self) -> None:
        store = _store({**US, "tax_rate": "0.05"})
        lines = _lines(("physical", "0.10", 1, {}))  # 0.10 × 5 % = 0.005 → 0.01
        quote = destinations.shipping_quote(store, country="US", region=None, lines=lines, **SERVICE)
        assert _priced(quote, lines, None).tax_amount == D("0.01")

    def test_prices_including_tax_add_none_whatever_the_zones_rate(self) -> None:
        quote = _quote(_store(CALIFORNIA, inclusive=True), "US", "CA")
        assert quote.tax.inclusive_kinds >= {"physical", "print_tier"}
        assert quote.tax.shipping_inclusive


def test_a_rate_prints_as_a_percentage() -> None:
    assert (domain.percent(D("0.0725")), domain.percent(D("0.20")), domain.percent(D("0"))) == (
        "7.25 %", "20 %", "0 %")
