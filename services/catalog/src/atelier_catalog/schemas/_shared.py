"""What several resources' models share: the request bases and the fields they have in common."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from atelier_catalog import domain
from atelier_common.inputs import InputModel


def _not_id_shaped(slug: str) -> str:
    if domain.is_id_shaped(slug):
        raise ValueError("must not look like an id: ids and slugs share the same URLs")
    return slug


Name = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=200)]
Slug = Annotated[str, StringConstraints(strict=True, max_length=domain.SLUG_MAX_LENGTH, pattern=domain.SLUG_PATTERN),
                 AfterValidator(_not_id_shaped)]
Sku = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, max_length=100,
                                       pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
Description = Annotated[str, StringConstraints(strict=True, max_length=20_000)]
Currency = Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Z]{3}$")]
Price = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
Quantity = Annotated[int, Field(strict=True, ge=0, le=10_000_000)]
Attributes = Annotated[dict[str, Any], Field(description=(
    "Kind-specific attributes: credit_pack {credits}, retry_pack {retries}, subscription_plan {interval, tier, "
    "monthly_quota, provider_price_id?}, print_tier {max_retries_per_unit}; any other key is kept as given"))]
StorefrontSlug = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Storefronts = Annotated[list[StorefrontSlug], Field(
    max_length=50, description="The storefronts it belongs to (slugs of known storefronts); empty: every storefront")]


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _storefronts(value: Any) -> Any:
    """A row's `storefronts_key` (",a,b,") as the list of slugs it names."""
    return domain.storefronts_of(value) if isinstance(value, str) else value


def _scoped_read() -> Any:
    """A read's `storefronts`, from the row's `storefronts_key`."""
    return Field(validation_alias="storefronts_key", description="The storefronts it belongs to; empty: every storefront")


class _Input(InputModel):
    # docs/api.md: unknown request fields are ignored; wrong types are 400.
    model_config = ConfigDict(extra="ignore")


class _PartialUpdate(_Input):
    """PUT and PATCH both take the Update model: only the fields sent change. A field that
    cannot be empty may be left out, but not sent as null."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*")
    @classmethod
    def _null_only_where_allowed(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.NULLABLE:
            raise ValueError("may not be null")
        return value

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)
