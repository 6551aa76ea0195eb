"""Settings of the cart service: `ATELIER_CART_<FIELD>`, falling back to `ATELIER_<FIELD>`."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from atelier_common.settings import PricingSettings


class CartSettings(PricingSettings):
    model_config = SettingsConfigDict(env_prefix="ATELIER_CART_")
    service_name: ClassVar[str] = "cart"

