"""Settings of the catalog service: `ATELIER_CATALOG_<FIELD>`, falling back to `ATELIER_<FIELD>`."""

from pathlib import Path
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from atelier_common.settings import ServiceSettings
from atelier_common.storage import StorageSettings


class CatalogSettings(ServiceSettings, StorageSettings):
    model_config = SettingsConfigDict(env_prefix="ATELIER_CATALOG_")
    service_name: ClassVar[str] = "catalog"

    # Create the demo categories, stone products and digital offers at start when missing
    # (idempotent). The embedded mode turns it on; real deployments leave it off.
    seed_demo_data: bool = False

    # An order's stock is held this long for payment; unpaid past it, the sweep puts it back.
    reservation_ttl_minutes: int = Field(default=30, ge=1)
    # Product image uploads (JPEG, PNG or WEBP) up to this size; files live in the storage backend
    # (`storage_backend`: local under `storage_dir`, by default `<data_dir>/media`, or s3) and are
    # served publicly at `/media/<key>`.
    max_image_bytes: int = Field(default=5 * 1024 * 1024, ge=1)

    # How often the sweep looks for expired reservations (0 turns the sweep off).
    reservation_sweep_seconds: float = Field(default=60.0, ge=0)
    # Product lists count matches exactly up to this many; past it (PostgreSQL) the count is the
    # planner's estimate and the response carries `X-Count-Estimated: true`.
    exact_count_limit: int = Field(default=1_000, ge=1)
    # An estimated count is reused this long for the same filters (0: estimate on every page).
    count_estimate_seconds: float = Field(default=60.0, ge=0)

    def secret_fields(self) -> tuple[str, ...]:
        return (*super().secret_fields(), "s3_secret_access_key")

    @property
    def media_dir(self) -> Path:
        return self.storage_dir or self.data_dir / "media"
