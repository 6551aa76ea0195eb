"""Settings of the cart service: `ATELIER_CART_<FIELD>`, falling back to `ATELIER_<FIELD>`."""

from decimal import Decimal
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from atelier_common.contracts.catalog import TAX_INCLUSIVE_KINDS, ProductKind
from atelier_common.settings import ServiceSettings


class CartSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ATELIER_CART_")
    service_name: ClassVar[str] = "cart"

    # Added on the lines of tax-exclusive kinds, rounded half-up to the cent (S1: 9%).
    tax_rate: Decimal = Field(default=Decimal("0.09"), ge=0, lt=1)
    # Kinds whose prices already include tax (issue #11: the price shown is the price charged);
    # by default the digital goods. Must match orders' setting of the same name.
    tax_inclusive_kinds: frozenset[ProductKind] = frozenset(ProductKind(k) for k in TAX_INCLUSIVE_KINDS)
    # The currency an empty cart shows until its first line decides it.
    default_currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
