"""Settings of the generation service: `ATELIER_GENERATION_<FIELD>`, falling back to `ATELIER_<FIELD>`."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from atelier_common.settings import ServiceSettings


class GenerationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ATELIER_GENERATION_")
    service_name: ClassVar[str] = "generation"
