"""Shipping zones and their methods (docs/storefronts.md#shipping-zones): as a storefront carries them, and
on their own staff routes."""

from __future__ import annotations

import uuid
from decimal import Decimal
from itertools import pairwise
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from atelier_common.contracts.identity import EVERY_COUNTRY
from atelier_identity.schemas._shared import LocaleTag, Request, ShippingRate, TaxRate, TaxRates, _two_places

ShippingCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
ShippingName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


def _country(value: str) -> str:
    value = value.strip().upper()
    if value != EVERY_COUNTRY and not (len(value) == 2 and value.isascii() and value.isalpha()):
        raise ValueError(f'{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. "US"), nor "*"')
    return value


def _region(value: str) -> str:
    value = value.strip().upper()
    country, _, subdivision = value.partition("-")
    if not (len(country) == 2 and country.isalpha() and 1 <= len(subdivision) <= 3 and subdivision.isalnum()
            and value.isascii()):
        raise ValueError(f'{value!r} is not an ISO 3166-2 region code (e.g. "US-CA")')
    return value


Country = Annotated[str, StringConstraints(max_length=2 + 1), AfterValidator(_country)]
Region = Annotated[str, StringConstraints(max_length=6 + 1), AfterValidator(_region)]


class ShippingTierIn(Request):
    # From this weight in grams (by weight) or this subtotal (by subtotal) up; the first tier is 0.
    min: Annotated[ShippingRate, AfterValidator(_two_places)]
    amount: Annotated[ShippingRate, AfterValidator(_two_places)]


class ShippingMethodIn(Request):
    # None: derived from the zone's id and the code (uuid5), stable across edits.
    id: uuid.UUID | None = None
    code: ShippingCode
    name: ShippingName
    # Its name in the storefront's other languages (docs/storefronts.md#languages).
    names: Annotated[dict[LocaleTag, ShippingName], Field(max_length=20)] = {}
    # flat: `amount`; weight / subtotal: the tier the shipped lines' weight (grams) / subtotal reaches.
    kind: Literal["flat", "weight", "subtotal"] = "flat"
    amount: Annotated[ShippingRate, AfterValidator(_two_places)] = Decimal("0.00")
    tiers: Annotated[list[ShippingTierIn], Field(max_length=50)] = []
    # A shipped subtotal at or above it ships free.
    free_over: Annotated[ShippingRate | None, AfterValidator(_two_places)] = None

    @model_validator(mode="after")
    def _tiers_fit_the_kind(self) -> ShippingMethodIn:
        if self.kind == "flat":
            if self.tiers:
                raise ValueError(f"method {self.code!r}: a flat method has an amount, no tiers")
            return self
        if self.amount:
            raise ValueError(f"method {self.code!r}: a {self.kind} method is priced by its tiers, not an amount")
        mins = [tier.min for tier in self.tiers]
        if not mins or mins[0] != 0:
            raise ValueError(f"method {self.code!r}: the tiers start at 0 (min 0), so every order is priced")
        if any(later <= earlier for earlier, later in pairwise(mins)):
            raise ValueError(f"method {self.code!r}: the tiers' min grow strictly")
        if self.kind == "weight" and any(value != value.to_integral_value() for value in mins):
            raise ValueError(f"method {self.code!r}: weight tiers start at whole grams")
        return self


class ShippingZoneIn(Request):
    # None: derived from the code (uuid5), stable across edits.
    id: uuid.UUID | None = None
    code: ShippingCode
    name: ShippingName
    countries: Annotated[list[Country], Field(max_length=300)] = []
    regions: Annotated[list[Region], Field(max_length=300)] = []
    # Replaces the storefront's `tax.rate` for addresses in the zone; null: the storefront's.
    tax_rate: TaxRate | None = None
    # Overrides the storefront's `tax.inclusive` there; null: the storefront's.
    tax_inclusive: bool | None = None
    # Whether shipping there is taxed with the goods; null: it is when the zone taxes goods (rate > 0).
    shipping_taxed: bool | None = None
    # Its tax classes' rates; null: the storefront's (none where the zone's rate is 0).
    tax_rates: TaxRates | None = None
    # Offered in this order; the first is the default. None: the zone is taxed but not shipped to.
    methods: Annotated[list[ShippingMethodIn], Field(max_length=20)] = []

    @model_validator(mode="after")
    def _covers_somewhere(self) -> ShippingZoneIn:
        if not self.countries and not self.regions:
            raise ValueError(f"zone {self.code!r}: name its countries or regions")
        codes = [method.code for method in self.methods]
        if len(set(codes)) != len(codes):
            raise ValueError(f"zone {self.code!r}: method codes are unique in a zone")
        self.countries, self.regions = list(dict.fromkeys(self.countries)), list(dict.fromkeys(self.regions))
        return self


def _zones(zones: list[ShippingZoneIn]) -> list[ShippingZoneIn]:
    """Zone codes are unique, and a country (or region, or "*") is in one zone at most, so an address
    has one most specific zone."""
    codes = [zone.code for zone in zones]
    if twice := sorted({code for code in codes if codes.count(code) > 1}):
        raise ValueError(f"zone codes are unique: {', '.join(twice)} used twice")
    zone_of: dict[str, str] = {}
    for zone in zones:
        for place in (*zone.countries, *zone.regions):
            if place in zone_of:
                raise ValueError(f"{place} is in zones {zone_of[place]!r} and {zone.code!r}: a place is in one zone")
            zone_of[place] = zone.code
    return zones


ShippingZones = Annotated[list[ShippingZoneIn], Field(max_length=50), AfterValidator(_zones)]


# -- the staff routes of zones and methods (/api/v1/staff/shipping-zones, docs/api.md) -------------

ShippingPrice = Annotated[ShippingRate, AfterValidator(_two_places)]


class ShippingZoneWrite(Request):
    """A zone's fields as staff send them (PATCH: only those sent change)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "United States", "tax_inclusive": True}]})

    name: ShippingName | None = None
    countries: Annotated[list[Country], Field(max_length=300)] | None = None
    regions: Annotated[list[Region], Field(max_length=300)] | None = None
    tax_rate: TaxRate | None = None
    tax_inclusive: bool | None = None
    # Whether shipping there is taxed with the goods; null: it is when the zone taxes goods (rate > 0).
    shipping_taxed: bool | None = None
    # Its tax classes' rates ({"reduced": "0.055"}), replaced as a whole; null: the storefront's.
    tax_rates: TaxRates | None = None


class ShippingZoneCreate(ShippingZoneWrite):
    model_config = ConfigDict(json_schema_extra={"examples": [{"storefront": "default", "name": "United States", "countries": ["US"], "tax_rate": "0.0725"}]})

    # The storefront it belongs to; none: the request's.
    storefront: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = None
    name: ShippingName
    countries: Annotated[list[Country], Field(max_length=300)] = []
    regions: Annotated[list[Region], Field(max_length=300)] = []


class ShippingMethodWrite(Request):
    """A method as staff send it: `price` for a flat method; `rates` (`[{min, amount}]`, from 0 up)
    for a weight or subtotal one (a tiered method sent with only a `price` costs that everywhere)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"price": "6.50"}]})

    name: ShippingName | None = None
    # Its name in the storefront's other languages, replaced whole ({} removes them).
    names: Annotated[dict[LocaleTag, ShippingName], Field(max_length=20)] | None = None
    kind: Literal["flat", "weight", "subtotal"] | None = None
    price: ShippingPrice | None = None
    free_over: ShippingPrice | None = None
    rates: Annotated[list[ShippingTierIn], Field(max_length=50)] | None = None


class ShippingMethodCreate(ShippingMethodWrite):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "By weight", "kind": "weight", "price": "5", "free_over": "100", "rates": [{"min": "0", "amount": "5"}, {"min": "2000", "amount": "9.50"}]}]})

    name: ShippingName
    kind: Literal["flat", "weight", "subtotal"] = "flat"


class ShippingMethodRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id": "77a08bc9-02da-53a5-9768-4935e68b17a8", "name": "Standard", "kind": "flat", "price": "5.00", "free_over": "100.00", "rates": []}]})

    id: uuid.UUID
    name: str
    names: dict[str, str] = Field(default={}, description="Its name in the storefront's other languages")
    kind: str
    price: Decimal
    free_over: Decimal | None
    rates: list[dict[str, Decimal]]


class ShippingZoneRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id": "f5c1c9b6-d86a-5557-b8a6-af57bf0d105f", "storefront": "default", "currency": "USD", "name": "United States", "countries": ["US"], "regions": [], "tax_rate": "0.0725", "tax_inclusive": None, "methods": [{"id": "77a08bc9-02da-53a5-9768-4935e68b17a8", "name": "Standard", "kind": "flat", "price": "5.00", "free_over": "100.00", "rates": []}]}]})

    id: uuid.UUID
    storefront: str
    currency: str = Field(description="The storefront's currency: the methods' prices are in it")
    name: str
    countries: list[str]
    regions: list[str]
    tax_rate: Decimal | None
    tax_inclusive: bool | None
    shipping_taxed: bool | None = None
    tax_rates: dict[str, Decimal] | None = None
    methods: list[ShippingMethodRead]


class ShippingZoneList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"results": [{"id": "f5c1c9b6-d86a-5557-b8a6-af57bf0d105f", "storefront": "default", "currency": "USD", "name": "United States", "countries": ["US"], "regions": [], "tax_rate": "0.0725", "tax_inclusive": None, "methods": [{"id": "77a08bc9-02da-53a5-9768-4935e68b17a8", "name": "Standard", "kind": "flat", "price": "5.00", "free_over": "100.00", "rates": []}]}]}]})

    results: list[ShippingZoneRead]
