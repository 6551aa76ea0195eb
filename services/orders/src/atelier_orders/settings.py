"""Settings of the orders service: `ATELIER_ORDERS_<FIELD>`, falling back to `ATELIER_<FIELD>`."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from atelier_common.settings import ServiceSettings


class OrdersSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ATELIER_ORDERS_")
    service_name: ClassVar[str] = "orders"
