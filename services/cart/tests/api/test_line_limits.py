"""A cart line's cap is its storefront's (`StorefrontPolicies.cart_line_limit`): none set is
the install's 99, a number is that cap, 0 is no cap but the stock. A request for more than the cap
alone is the validation error the request schema gave before; a line that would pass it, QUANTITY_LIMIT."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from atelier_common.contracts.identity import AnonymousClaimed, StorefrontPolicies
from atelier_testing import ServiceHarness
from atelier_testing.storefronts import add_storefront, make_storefront

from ..conftest import Catalog, Shopper, assert_error, deliver_at


@pytest.fixture(autouse=True)
def storefronts(harness: ServiceHarness) -> None:
    """capped: 5 a line. uncapped: only the stock. plain: the install's 99."""
    for slug, limit in (("capped", 5), ("uncapped", 0), ("plain", None)):
        add_storefront(harness.app, make_storefront(slug, currency="USD",
                                                    policies=StorefrontPolicies(cart_line_limit=limit)))


async def test_without_a_cap_a_line_holds_up_to_the_stock(catalog: Catalog, guest: Shopper) -> None:
    product = await catalog.product(stock=288)
    assert (await guest.on("uncapped").add(product.product_id, 150))["item_count"] == 150
    error = assert_error(await guest.on("uncapped").add_raw(product.product_id, 139), 409, "INSUFFICIENT_STOCK")
    assert error["details"] == {"requested": 289, "available": 288}
    line = (await guest.on("uncapped").cart())["items"][0]
    assert (await guest.on("uncapped").set_quantity(line["id"], 288)).json()["item_count"] == 288


@pytest.mark.parametrize("slug", ["plain", "default"])
async def test_the_install_cap_where_the_storefront_sets_none(catalog: Catalog, guest: Shopper, slug: str) -> None:
    product = await catalog.product(stock=288)
    error = assert_error(await guest.on(slug).add_raw(product.product_id, 150), 400, "VALIDATION_ERROR")
    assert error["details"]["fields"] == {"quantity": ["Input should be less than or equal to 99"]}
    line = (await guest.on(slug).add(product.product_id, 99))["items"][0]
    assert_error(await guest.on(slug).set_quantity(line["id"], 100), 400, "VALIDATION_ERROR")
    assert (await guest.on(slug).cart())["item_count"] == 99


async def test_a_storefront_cap(catalog: Catalog, guest: Shopper) -> None:
    product = await catalog.product(stock=288)
    assert_error(await guest.on("capped").add_raw(product.product_id, 6), 400, "VALIDATION_ERROR")
    line = (await guest.on("capped").add(product.product_id, 3))["items"][0]
    error = assert_error(await guest.on("capped").add_raw(product.product_id, 3), 400, "QUANTITY_LIMIT")
    assert error["details"] == {"requested": 6, "in_cart": 3, "maximum": 5}
    assert error["message"] == "A cart line holds at most 5 units"
    assert_error(await guest.on("capped").set_quantity(line["id"], 6, method="PUT"), 400, "VALIDATION_ERROR")
    assert (await guest.on("capped").set_quantity(line["id"], 5)).json()["item_count"] == 5


async def test_a_malformed_quantity_is_still_refused_everywhere(catalog: Catalog, guest: Shopper) -> None:
    product = await catalog.product(stock=288)
    for quantity in (0, 1_000_001, "2"):
        assert_error(await guest.on("uncapped").add_raw(product.product_id, quantity), 400, "VALIDATION_ERROR")


async def test_a_merged_line_keeps_its_storefronts_cap(catalog: Catalog, harness: ServiceHarness,
                                                      new_shopper) -> None:
    product = await catalog.product(stock=288)
    guest, user = new_shopper(), new_shopper(anonymous=False)
    await guest.on("capped").add(product.product_id, 4)
    await user.on("capped").add(product.product_id, 4)
    await guest.on("uncapped").add(product.product_id, 120)
    await user.on("uncapped").add(product.product_id, 100)
    await deliver_at(harness, AnonymousClaimed(anon_id=guest.owner_id, user_id=user.owner_id), datetime.now(UTC),
                     envelope_id=uuid.uuid4(), producer="identity")
    assert (await user.on("capped").cart())["item_count"] == 5
    assert (await user.on("uncapped").cart())["item_count"] == 220


async def test_the_read_model_hears_stock_above_99_when_a_storefront_has_no_cap(
        catalog: Catalog, guest: Shopper) -> None:
    product = await catalog.product(stock=288)
    await catalog.change(product, stock_quantity=140, stock_only=True, previous_stock_quantity=288)
    assert_error(await guest.on("uncapped").add_raw(product.product_id, 150), 409, "INSUFFICIENT_STOCK")
