"""Settings of the catalog service: `ATELIER_CATALOG_<FIELD>`, falling back to `ATELIER_<FIELD>`."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from atelier_common.settings import ServiceSettings


class CatalogSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ATELIER_CATALOG_")
    service_name: ClassVar[str] = "catalog"

    # Create the demo categories, stone products and digital offers at start when missing
    # (idempotent). The embedded mode turns it on; real deployments leave it off.
    seed_demo_data: bool = False
