"""Settings of the payments service: `ATELIER_PAYMENTS_<FIELD>`, falling back to `ATELIER_<FIELD>`."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from atelier_common.settings import ServiceSettings


class PaymentsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ATELIER_PAYMENTS_")
    service_name: ClassVar[str] = "payments"
