"""One definition of "on sale": a product under an inactive category (or under one below an
inactive category) is hidden from customers, reported not sellable to other services, announced
inactive, and refused at `order.placed`."""

from __future__ import annotations

from typing import Any

import pytest

from atelier_common.auth import SERVICE_HEADER
from atelier_testing import ServiceHarness

from ..conftest import Catalog, product_changed_events
from .test_reservations import decisions, line, placed

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")


@pytest.fixture
def service(catalog_settings) -> dict[str, str]:
    return {SERVICE_HEADER: catalog_settings.service_token}


async def _hidden_product(harness: ServiceHarness, catalog: Catalog, staff: dict[str, str]) -> tuple[
        dict[str, Any], dict[str, Any]]:
    """A product two levels under a category that staff then deactivate."""
    top = await catalog.category(name="Stone")
    child = await catalog.category(name="Marble", parent_id=top["id"])
    product = await catalog.product(category_id=child["id"], stock_quantity=5)
    response = await harness.client.delete(f"/api/v1/categories/{top['id']}", headers=staff)
    assert response.status_code == 204, response.text
    return top, product


async def test_a_product_under_a_hidden_ancestor_is_not_sellable_anywhere(harness: ServiceHarness, catalog: Catalog,
                                                                          staff, service) -> None:
    _, product = await _hidden_product(harness, catalog, staff)
    visible = await catalog.product(stock_quantity=5)

    assert (await harness.client.get(f"/api/v1/products/{product['id']}")).status_code == 404
    internal = await harness.client.get(f"/internal/products/{product['id']}", headers=service)
    assert internal.status_code == 200
    assert internal.json()["is_active"] is False
    lookup = await harness.client.post("/internal/products/lookup", headers=service,
                                       json={"ids": [product["id"], visible["id"]]})
    assert {p["id"]: p["is_active"] for p in lookup.json()["results"]} == {product["id"]: False,
                                                                          visible["id"]: True}
    # Carts heard that it went off sale when the category was deactivated.
    changed = [c for c in await product_changed_events(harness) if c["product_id"] == product["id"]]
    assert changed[-1]["is_active"] is False


async def test_order_placed_for_it_is_rejected_and_holds_nothing(harness: ServiceHarness, catalog: Catalog,
                                                                 staff) -> None:
    _, product = await _hidden_product(harness, catalog, staff)
    order = placed(line(product, 1))

    await harness.deliver(order)

    [(kind, data)] = decisions(harness, order.order_id)
    assert kind == "stock.rejected"
    assert data["reason"] == "unavailable"
    assert (await harness.client.get(f"/internal/products/{product['id']}", headers={
        SERVICE_HEADER: harness.runtime.settings.service_token})).json()["stock_quantity"] == 5


async def test_reactivating_the_category_puts_it_back_on_sale(harness: ServiceHarness, catalog: Catalog, staff,
                                                              service) -> None:
    top, product = await _hidden_product(harness, catalog, staff)
    response = await harness.client.patch(f"/api/v1/categories/{top['id']}", headers=staff,
                                          json={"is_active": True})
    assert response.status_code == 200, response.text

    assert (await harness.client.get(f"/internal/products/{product['id']}", headers=service)).json()["is_active"]
    changed = [c for c in await product_changed_events(harness) if c["product_id"] == product["id"]]
    assert changed[-1]["is_active"] is True
    order = placed(line(product, 1))
    await harness.deliver(order)
    assert [kind for kind, _ in decisions(harness, order.order_id)] == ["stock.reserved"]
