"""Catalog test fixtures: the app on a migrated database with an in-memory bus, and factories."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import atelier_catalog
from atelier_catalog.app import create_app
from atelier_catalog.settings import CatalogSettings
from atelier_common.contracts.identity import CustomerGroupChanged
from atelier_testing import RecordingBus, ServiceHarness, TestKeys
from atelier_testing import assert_error as assert_error  # tests import it from here

MIGRATIONS = Path(atelier_catalog.__file__).parent / "migrations"
_numbers = itertools.count(1)


@pytest.fixture
def catalog_settings(service_database, test_settings_overrides) -> CatalogSettings:
    # Tests run the reservation sweep themselves (sweeper.sweep_once), at the moment they choose.
    return CatalogSettings(database_url=service_database("catalog", MIGRATIONS), reservation_sweep_seconds=0,
                           **test_settings_overrides)


@pytest.fixture
async def harness(catalog_settings: CatalogSettings) -> AsyncIterator[ServiceHarness]:
    bus = RecordingBus()
    async with ServiceHarness(create_app(catalog_settings, bus=bus), bus) as h:
        yield h


@pytest.fixture
def staff(test_keys: TestKeys) -> dict[str, str]:
    return test_keys.staff_headers()


class Catalog:
    """Creates catalog rows through the staff API, as an administrator would."""

    def __init__(self, harness: ServiceHarness, staff: dict[str, str]) -> None:
        self.client = harness.client
        self.staff = staff

    async def product(self, **fields: Any) -> dict[str, Any]:
        n = next(_numbers)
        body = {"name": f"Product {n}", "sku": f"SKU-{n:05d}", "price": "10.00", "stock_quantity": 5, **fields}
        response = await self.client.post("/api/v1/products", json=body, headers=self.staff)
        assert response.status_code == 201, response.text
        return response.json()

    async def variant(self, product: dict[str, Any], name: str = "Big", **fields: Any) -> dict[str, Any]:
        """A variant of `product` (its SKU: the product's, then `-` and the first letter of `name`)."""
        body = {"name": name, "sku": f"{product['sku']}-{name[0]}", **fields}
        response = await self.client.post(f"/api/v1/products/{product['id']}/variants", json=body, headers=self.staff)
        assert response.status_code == 201, response.text
        return response.json()

    async def category(self, **fields: Any) -> dict[str, Any]:
        n = next(_numbers)
        response = await self.client.post("/api/v1/categories", json={"name": f"Category {n}", **fields},
                                          headers=self.staff)
        assert response.status_code == 201, response.text
        return response.json()

    async def deactivate_product(self, ref: str) -> None:
        response = await self.client.delete(f"/api/v1/products/{ref}", headers=self.staff)
        assert response.status_code == 204, response.text


@pytest.fixture
def catalog(harness: ServiceHarness, staff: dict[str, str]) -> Catalog:
    return Catalog(harness, staff)


async def customer_group(harness: ServiceHarness, code: str = "business", storefront: str = "default", *,
                         revision: int = 1) -> None:
    """Identity made the group `code` on `storefront`: catalog hears of it (price lists may name it)."""
    await harness.deliver(CustomerGroupChanged(storefront=storefront, code=code, name=code.title(), revision=revision),
                          producer="identity")


async def product_changed_events(harness: ServiceHarness) -> list[dict[str, Any]]:
    """`catalog.product_changed` events that went outbox → relay → bus, oldest first."""
    await harness.drain()
    return [envelope.data for envelope in harness.published("catalog.product_changed")]

