"""Settings of the identity service: `ATELIER_IDENTITY_<FIELD>`, falling back to `ATELIER_<FIELD>`."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from atelier_common.settings import ServiceSettings


class IdentitySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ATELIER_IDENTITY_")
    service_name: ClassVar[str] = "identity"
