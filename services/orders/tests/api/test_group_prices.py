"""Business prices on the orders side: a business customer's order is priced at the storefront's business price
(catalog's lookup asked with the buyer's group, from the token), and the cart's shown price still
holds: the price shown is the price charged."""

from __future__ import annotations

import uuid

import pytest

from atelier_testing import ServiceHarness, TestKeys

from ..conftest import Customer, FakePlatform, assert_error


@pytest.fixture
def business(harness: ServiceHarness, test_keys: TestKeys) -> Customer:
    user_id = uuid.uuid4()
    return Customer(harness, test_keys.group_headers("business", user_id), user_id)


async def test_a_business_customer_pays_the_group_price(business: Customer, customer: Customer,
                                                        platform: FakePlatform) -> None:
    slab = platform.product(price="100.00")
    platform.group_prices[(slab["id"], "default", "business")] = "80.00"
    order = await business.placed(items=[{"product_id": slab["id"], "quantity": 2}],
                                  shipping_address_id=platform.address(business.owner_id))
    assert [(i["unit_price"], i["line_total"]) for i in order["items"]] == [("80.00", "160.00")]
    assert order["subtotal"] == "160.00"
    assert platform.lookups[-1]["customer_group"] == "business"
    assert platform.lookups[-1]["storefront"] == "default"
    consumer = await customer.placed(items=[{"product_id": slab["id"], "quantity": 2}],
                                     shipping_address_id=platform.address(customer.owner_id))
    assert consumer["subtotal"] == "200.00"
    assert "customer_group" not in platform.lookups[-1]


async def test_a_cart_shown_at_the_group_price_is_charged_it(business: Customer, platform: FakePlatform) -> None:
    slab = platform.product(price="100.00")
    platform.group_prices[(slab["id"], "default", "business")] = "80.00"
    platform.carts[business.owner_id] = [{"id": str(uuid.uuid4()), "product_id": slab["id"], "variant_id": None,
                                          "quantity": 1, "unit_price": "80.00"}]
    order = await business.placed(shipping_address_id=platform.address(business.owner_id))
    assert order["items"][0]["unit_price"] == "80.00"


async def test_a_cart_shown_at_the_base_price_is_refused_and_repriced(business: Customer,
                                                                      platform: FakePlatform) -> None:
    """A guest cart merged at sign-in shows the consumer price: the business customer is not charged a
    price the cart did not show, and the cart is given the group price for the next attempt."""
    slab = platform.product(price="100.00")
    platform.group_prices[(slab["id"], "default", "business")] = "80.00"
    platform.fill_cart(business.owner_id, (slab, 1))
    address = platform.address(business.owner_id)
    error = assert_error(await business.place(shipping_address_id=address), 409, "PRICE_CHANGED")
    assert error["details"]["items"][0]["current_unit_price"] == "80.00"
    assert platform.carts[business.owner_id][0]["unit_price"] == "80.00"
    assert (await business.placed(shipping_address_id=address))["subtotal"] == "80.00"
