"""Business prices on the cart side: a business customer's new line is frozen at the storefront's business price
(catalog's internal lookup, asked with the group); everybody else's at the product's own price."""

from __future__ import annotations

from ..conftest import FakeCatalog, Shopper, line_of


async def test_a_business_customers_line_is_frozen_at_the_group_price(fake_catalog: FakeCatalog, business: Shopper,
                                                                      user: Shopper, guest: Shopper) -> None:
    product = fake_catalog.add(price="100.00")
    fake_catalog.group_prices[(product["id"], None, "default", "business")] = "80.00"
    cart = await business.add(product["id"], 2)
    assert line_of(cart, product["id"])["unit_price"] == "80.00"
    assert cart["subtotal"] == "160.00"
    assert fake_catalog.lookups[-1] == {"ids": [product["id"]], "storefront": "default", "customer_group": "business"}
    asked = len(fake_catalog.lookups)
    for shopper in (user, guest):
        assert line_of(await shopper.add(product["id"], 1), product["id"])["unit_price"] == "100.00"
    assert len(fake_catalog.lookups) == asked  # a consumer's add never asks for a group price


async def test_a_variant_takes_its_group_price(fake_catalog: FakeCatalog, business: Shopper) -> None:
    variant = {"id": "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b", "name": "Large", "sku": "V-L", "price": "120.00",
               "stock_quantity": 5, "attributes": {}, "is_active": True}
    product = fake_catalog.add(price="100.00", variants=[variant])
    fake_catalog.group_prices[(product["id"], variant["id"], "default", "business")] = "99.00"
    cart = await business.add(product["id"], 1, variant["id"])
    assert line_of(cart, product["id"], variant["id"])["unit_price"] == "99.00"


async def test_a_product_without_a_group_price_costs_the_business_customer_its_price(
        fake_catalog: FakeCatalog, business: Shopper) -> None:
    product = fake_catalog.add(price="42.00")
    assert line_of(await business.add(product["id"], 1), product["id"])["unit_price"] == "42.00"
