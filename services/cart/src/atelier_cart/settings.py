"""Settings of the cart service: `ATELIER_CART_<FIELD>`, falling back to `ATELIER_<FIELD>`."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from atelier_common.settings import PricingSettings


class CartSettings(PricingSettings):
    model_config = SettingsConfigDict(env_prefix="ATELIER_CART_")
    service_name: ClassVar[str] = "cart"

    # The currency an empty cart shows until its first line decides it.
    default_currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
