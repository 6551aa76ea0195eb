"""Settings of the cart service: `ATELIER_CART_<FIELD>`, falling back to `ATELIER_<FIELD>`."""

from decimal import Decimal
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from atelier_common.settings import ServiceSettings


class CartSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ATELIER_CART_")
    service_name: ClassVar[str] = "cart"

    # Applied to the subtotal and rounded half-up to the cent (S1: 9%).
    tax_rate: Decimal = Field(default=Decimal("0.09"), ge=0, lt=1)
    # The currency an empty cart shows until its first line decides it.
    default_currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
