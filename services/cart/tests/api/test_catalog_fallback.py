"""A product no event has told the cart about yet: asked from catalog's internal API once, kept."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from ..conftest import Catalog, FakeCatalog, Shopper, assert_error, deliver_at, line_of


async def test_an_unknown_product_is_fetched_once_and_kept(guest: Shopper, user: Shopper,
                                                            fake_catalog: FakeCatalog) -> None:
    product = fake_catalog.add(name="Travertine Tile", sku="TRAV-1", price="12.40", stock=3)
    cart = await guest.add(product["id"], 2)
    line = line_of(cart, product["id"])
    assert (line["name"], line["sku"], line["unit_price"], line["image_url"]) == (
        "Travertine Tile", "TRAV-1", "12.40", product["image_url"])
    assert_error(await user.add_raw(product["id"], 4), 409, "INSUFFICIENT_STOCK")
    await user.add(product["id"], 3)
    assert fake_catalog.calls == [product["id"]]  # the read-model answered after the first call


async def test_variants_come_with_their_product(guest: Shopper, fake_catalog: FakeCatalog) -> None:
    variant_id = str(uuid.uuid4())
    product = fake_catalog.add(name="Slab", price="100.00", variants=[
        {"id": variant_id, "name": "3 cm", "sku": "SLAB-3", "price": "120.00", "stock_quantity": 2,
         "attributes": {}, "is_active": True}])
    cart = await guest.add(product["id"], 2, variant_id=variant_id)
    line = line_of(cart, product["id"], variant_id)
    assert (line["name"], line["sku"], line["unit_price"]) == ("Slab (3 cm)", "SLAB-3", "120.00")
    assert_error(await guest.add_raw(product["id"], 1, variant_id=variant_id), 409, "INSUFFICIENT_STOCK")
    await guest.add(product["id"], 1)
    assert len(fake_catalog.calls) == 1


async def test_an_inactive_variant_or_product_is_404(guest: Shopper, fake_catalog: FakeCatalog) -> None:
    variant_id = str(uuid.uuid4())
    product = fake_catalog.add(variants=[{"id": variant_id, "name": "v", "sku": "V-1", "price": "1.00",
                                          "stock_quantity": 2, "attributes": {}, "is_active": False}])
    assert_error(await guest.add_raw(product["id"], 1, variant_id=variant_id), 404, "PRODUCT_NOT_FOUND")
    gone = fake_catalog.add(is_active=False)
    assert_error(await guest.add_raw(gone["id"]), 404, "PRODUCT_NOT_FOUND")


@pytest.mark.databases("sqlite", "postgres", why="the product read-model's upsert (newer wins) is written per dialect")
async def test_a_later_event_replaces_the_fetched_facts(harness, catalog: Catalog, guest: Shopper,
                                                        fake_catalog: FakeCatalog) -> None:
    product = fake_catalog.add(price="10.00", stock=1)
    await guest.add(product["id"], 1)
    event = catalog.event(uuid.UUID(product["id"]), price="11.00", stock=50)
    # An event from before the fetch is older news than what was fetched.
    await deliver_at(harness, event, datetime.now(UTC) - timedelta(minutes=5))
    assert_error(await guest.add_raw(product["id"], 5), 409, "INSUFFICIENT_STOCK")
    await deliver_at(harness, event, datetime.now(UTC) + timedelta(seconds=1))
    cart = await guest.add(product["id"], 5)
    assert line_of(cart, product["id"])["quantity"] == 6


async def test_catalog_down_is_503_not_500(guest: Shopper, fake_catalog: FakeCatalog) -> None:
    product = fake_catalog.add()
    fake_catalog.failing = True
    assert_error(await guest.add_raw(product["id"]), 503, "SERVICE_UNAVAILABLE")
    assert (await guest.cart())["items"] == []
    fake_catalog.failing = False
    assert (await guest.add(product["id"]))["item_count"] == 1


async def test_the_service_credential_is_sent(harness, guest: Shopper, fake_catalog: FakeCatalog) -> None:
    product = fake_catalog.add()
    fake_catalog.token = "another"  # catalog now refuses our credential
    assert_error(await guest.add_raw(product["id"]), 503, "SERVICE_UNAVAILABLE")
