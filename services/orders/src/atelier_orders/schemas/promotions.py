"""Promotions as staff write and read them, and the cart's quote (`POST /internal/promotions/quote`)."""

from __future__ import annotations

import uuid
from dataclasses import fields as dataclass_fields
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_type_hints

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, ConfigDict, Field, StringConstraints, create_model

from atelier_common import locales
from atelier_common.contracts.identity import CUSTOMER_GROUP_PATTERN
from atelier_common.money import Money
from atelier_orders.promotions import rules
from atelier_orders.schemas._shared import StorefrontSlug, _Input, _Read

PromotionCode = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=64,
                                                 pattern=r"^[A-Za-z0-9_-]+$")]
def _locale_tag(value: str) -> str:
    tag = locales.normalize(value)
    if tag is None:
        raise ValueError("Not a language tag (en, ka, pt-BR)")
    return tag


PromotionName = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=200)]
PromotionAmount = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]
Uses = Annotated[int, Field(strict=True, ge=1, le=1_000_000_000)]
# A customer group's code as identity makes it (lower case letters, digits, `-`, `_`; 32 at most).
GroupCode = Annotated[str, StringConstraints(strict=True, pattern=CUSTOMER_GROUP_PATTERN)]


class PromotionWrite(_Input):
    """What staff set on a promotion; an update (PATCH) sends only what it changes."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"value": "15", "ends_at": "2026-12-31T23:00:00Z"}]})

    name: PromotionName | None = None
    code: PromotionCode | None = Field(default=None, description="Empty for an automatic promotion; unique per "
                                                                 "storefront whatever its case")
    kind: Literal["percentage", "fixed", "free_shipping"] | None = None
    value: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)] | None = Field(
        default=None, description="Percent (up to 100) for a percentage, an amount in the storefront's currency "
                                  "for a fixed discount, nothing for free shipping")
    product_ids: Annotated[list[uuid.UUID], Field(max_length=500)] | None = Field(
        default=None, description="It covers these products' lines (with category_ids: either); none: the order")
    category_ids: Annotated[list[uuid.UUID], Field(max_length=500)] | None = Field(
        default=None, description="It covers the lines of products in these categories (their own category)")
    customer_groups: Annotated[list[GroupCode], Field(max_length=50)] | None = Field(
        default=None, description="Only customers of these groups (codes of the storefront's customer groups, "
                                  "`/api/v1/staff/customer-groups`) get it; empty: everybody. Anonymous visitors "
                                  "and customers in no group never get a promotion that names groups",
        examples=[["business"]])
    min_subtotal: PromotionAmount | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    is_active: bool | None = None
    combinable: bool | None = Field(default=None, description="Whether it applies together with other promotions")
    usage_limit: Uses | None = Field(default=None, description="Orders that may redeem it in all (empty: no limit)")
    usage_limit_per_customer: Uses | None = Field(default=None,
                                                  description="Orders per customer (user, visitor or email)")
    names: Annotated[dict[Annotated[str, AfterValidator(_locale_tag)], PromotionName],
                     Field(max_length=20)] | None = Field(
        default=None, description="Its name in the storefront's other languages (locale → name), replaced whole; "
                                  "a buyer reading in one of them is shown it, and an order placed in it keeps it",
        examples=[{"ka": "ათი პროცენტი"}])
    expected_version: str | None = Field(default=None, max_length=100)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"expected_version"})


class PromotionCreate(PromotionWrite):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"storefront": "default", "name": "Ten off", "code": "TEN", "kind": "percentage", "value": "10",
         "usage_limit": 100, "usage_limit_per_customer": 1, "combinable": False},
        {"storefront": "default", "name": "Business 5%", "kind": "percentage", "value": "5",
         "customer_groups": ["business"]}]})

    storefront: Annotated[StorefrontSlug, Field(strict=True)] | None = Field(
        default=None, description="The storefront it belongs to; none: the request's")
    name: PromotionName
    kind: Literal["percentage", "fixed", "free_shipping"]
    value: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)] = Decimal("0")


class PromotionQuery(_Input):
    storefront: StorefrontSlug | None = None
    active: bool | None = None
    code: str | None = Field(default=None, max_length=64)


class _PromotionReadBase(_Read):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "3c1e2d4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "storefront": "default", "name": "Summer 10%",
         "code": "SUMMER10", "kind": "percentage", "value": "10.00", "product_ids": [], "category_ids": [],
         "customer_groups": [], "min_subtotal": "50.00", "starts_at": "2026-06-01T00:00:00Z",
         "ends_at": "2026-09-01T00:00:00Z",
         "is_active": True, "combinable": False, "usage_limit": 100, "uses": 3, "usage_limit_per_customer": 1,
         "created_at": "2026-05-20T09:00:00Z", "updated_at": "2026-05-20T09:00:00Z",
         "names": {"ka": "ზაფხული 10%"}, "version": "9f2c4b1a7d3e5f60"}]})


# How the API answers the read shape's types, as it always has (docs/api.md#versioning: a field is
# never retyped): money as decimal strings, ids as strings, the kind by its name.
_TEXT = Annotated[str, BeforeValidator(str)]
_READ_TYPES: dict[Any, Any] = {Decimal: Money, Decimal | None: Money | None, rules.PromotionKind: str,
                               tuple[uuid.UUID, ...]: list[_TEXT], tuple[str, ...]: list[str]}
_READ_DESCRIPTIONS = {"names": "Its name in the storefront's other languages (locale → name)",
                      "uses": "Orders that redeemed it (cancelled or rejected unpaid orders give theirs back)",
                      "customer_groups": "Only customers of these customer groups (codes) get it; empty: everybody"}


def _promotion_read() -> type[_PromotionReadBase]:
    """Staff's read of a promotion: the one read shape (`promotions.rules.PromotionTerms`), field for
    field and in its order, each field required, with `version` for an edit's If-Match. A field
    added to the shape is in the API at once; none is declared twice."""
    hints = get_type_hints(rules.PromotionTerms)
    read: dict[str, Any] = {
        f.name: (_READ_TYPES.get(hints[f.name], hints[f.name]), Field(description=_READ_DESCRIPTIONS.get(f.name)))
        for f in dataclass_fields(rules.PromotionTerms)}
    return create_model("PromotionRead", __base__=_PromotionReadBase, __module__=__name__, **read,
                        version=(str, Field(description="For an edit's If-Match")))


if TYPE_CHECKING:  # what type checkers see of it: a model of the API (its fields are made at import)
    PromotionRead = _PromotionReadBase
else:
    PromotionRead = _promotion_read()


class QuoteLine(_Input):
    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    unit_price: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
    quantity: Annotated[int, Field(ge=1)]
    # The product's kind (how it is taxed); none: taxed like goods, never under-charged.
    kind: str = Field(default="physical", max_length=32)
    # The product's tax class (`contracts.catalog.TaxClass`); none: standard, never under-charged.
    tax_class: str = Field(default="standard", max_length=32)


class QuoteShipping(_Input):
    """Where the cart ships (one of its owner's addresses, or a country and region) and by which method."""

    address_id: uuid.UUID | None = None
    country: str | None = Field(default=None, min_length=2, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    method_id: uuid.UUID | None = None
    # True when the customer is choosing them: an address, zone or method that does not do is a 4xx then.
    strict: bool = False


class PromotionQuoteRequest(_Input):
    """`POST /internal/promotions/quote` (cart): what a cart's lines save on its storefront and,
    given `shipping`, what its order would charge sent there."""

    storefront: StorefrontSlug
    owner_id: uuid.UUID
    user_id: uuid.UUID | None = None
    email: str | None = Field(default=None, max_length=320)
    # The caller's customer group on `storefront` (its token's): promotions for groups need it.
    customer_group: str | None = Field(default=None, max_length=32)
    code: str | None = Field(default=None, max_length=64)
    lines: Annotated[list[QuoteLine], Field(max_length=500)] = []
    # True when the customer is applying the code: a code that does not apply is a 4xx then.
    strict: bool = False
    shipping: QuoteShipping | None = None
    # The customer's client address (the cart's request's): wrong codes are counted per address too.
    client_ip: str | None = Field(default=None, max_length=64)
    # The customer's language (the cart's request's): promotions and shipping methods are named in it.
    locale: str | None = Field(default=None, max_length=35)
