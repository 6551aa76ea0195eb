"""What the cart hears, per storefront: an order clears the cart of its storefront only, a
claim merges the guest's carts storefront by storefront, a product's storefronts are kept."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlmodel import select

from atelier_cart.models import Cart, CartProduct
from atelier_common.contracts.identity import AnonymousClaimed, StorefrontTax, UserDeleted
from atelier_common.contracts.orders import OrderLine, OrderPlaced
from atelier_testing import ServiceHarness
from atelier_testing.storefronts import add_storefront, make_storefront

from ..conftest import Catalog, Shopper, line_of

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")


@pytest.fixture(autouse=True)
def storefronts(harness: ServiceHarness) -> None:
    add_storefront(harness.app, make_storefront("a", currency="USD", tax=StorefrontTax(rate="0.09")))
    add_storefront(harness.app, make_storefront("b", currency="USD", tax=StorefrontTax(rate="0.20")))


def placed(owner: Shopper, storefront: str | None, *lines: tuple[uuid.UUID, int],
           anonymous: bool = True) -> OrderPlaced:
    values = {} if storefront is None else {"storefront": storefront}
    return OrderPlaced(order_id=uuid.uuid4(), order_number="ORD-20261125-SF0001", owner_id=owner.owner_id,
                       user_id=None if anonymous else owner.owner_id, from_cart=True,
                       lines=[OrderLine(product_id=product_id, sku="X", kind="physical", quantity=quantity,
                                        unit_price=Decimal("10.00")) for product_id, quantity in lines], **values)


async def carts(harness: ServiceHarness) -> list[tuple[uuid.UUID, str]]:
    async with harness.runtime.db.read_only() as session:
        return sorted((c.owner_id, c.storefront) for c in (await session.exec(select(Cart))).all())


class TestOrderPlaced:
    async def test_an_order_clears_the_cart_of_its_storefront_only(self, harness, catalog: Catalog,
                                                                  guest: Shopper) -> None:
        product = await catalog.product(stock=50)
        for shop in (guest.on("a"), guest.on("b"), guest):
            await shop.add(product.product_id, 2)
        await harness.deliver(placed(guest, "b", (product.product_id, 2)), producer="orders")
        assert [(await s.cart())["item_count"] for s in (guest.on("a"), guest.on("b"), guest)] == [2, 0, 2]
        assert harness.bus.dead_letters == []

    async def test_an_order_without_a_storefront_clears_the_default_cart(self, harness, catalog: Catalog,
                                                                         guest: Shopper) -> None:
        product = await catalog.product(stock=50)
        await guest.on("a").add(product.product_id, 1)
        await guest.add(product.product_id, 1)
        await harness.deliver(placed(guest, None, (product.product_id, 1)), producer="orders")
        assert [(await s.cart())["item_count"] for s in (guest.on("a"), guest)] == [1, 0]

    async def test_a_guest_order_heard_after_the_claim_leaves_the_users_cart_of_that_storefront(
            self, harness, catalog: Catalog, guest: Shopper, user: Shopper) -> None:
        ordered, own = await catalog.product(stock=50), await catalog.product(stock=50)
        await guest.on("b").add(ordered.product_id, 2)
        await user.on("b").add(own.product_id, 1)
        await user.on("a").add(ordered.product_id, 4)
        order = placed(guest, "b", (ordered.product_id, 2))
        await harness.deliver(AnonymousClaimed(anon_id=guest.owner_id, user_id=user.owner_id), producer="identity")
        assert (await user.on("b").cart())["item_count"] == 3
        await harness.deliver(order, producer="orders")
        assert [(i["product_id"], i["quantity"]) for i in (await user.on("b").cart())["items"]] == [
            (str(own.product_id), 1)]
        assert line_of(await user.on("a").cart(), ordered.product_id)["quantity"] == 4


class TestClaimPerStorefront:
    async def test_each_guest_cart_joins_the_users_cart_of_its_storefront(self, harness, catalog: Catalog,
                                                                          guest: Shopper, user: Shopper) -> None:
        one, two = await catalog.product(stock=50), await catalog.product(stock=50)
        await guest.on("a").add(one.product_id, 1)
        guest_b = await guest.on("b").add(two.product_id, 2)
        user_a = await user.on("a").add(one.product_id, 3)
        await harness.deliver(AnonymousClaimed(anon_id=guest.owner_id, user_id=user.owner_id), producer="identity")

        on_a, on_b = await user.on("a").cart(), await user.on("b").cart()
        # A: merged into the user's cart there; B: the user had none, the guest's cart is theirs now.
        assert on_a["id"] == user_a["id"]
        assert [(i["product_id"], i["quantity"]) for i in on_a["items"]] == [(str(one.product_id), 4)]
        assert on_b["id"] == guest_b["id"]
        assert [(i["product_id"], i["quantity"]) for i in on_b["items"]] == [(str(two.product_id), 2)]
        assert (await user.cart())["items"] == []  # nothing landed in the default storefront's cart
        assert await carts(harness) == sorted([(user.owner_id, "a"), (user.owner_id, "b"),
                                               (user.owner_id, "default")])
        assert harness.bus.dead_letters == []

    async def test_a_guest_cart_on_b_never_lands_in_the_users_cart_on_a(self, harness, catalog: Catalog,
                                                                        guest: Shopper, user: Shopper) -> None:
        product = await catalog.product(stock=50)
        await guest.on("b").add(product.product_id, 2)
        await user.on("a").add(product.product_id, 1)
        await harness.deliver(AnonymousClaimed(anon_id=guest.owner_id, user_id=user.owner_id), producer="identity")
        assert [(await s.cart())["item_count"] for s in (user.on("a"), user.on("b"))] == [1, 2]

    async def test_erasing_the_user_erases_their_carts_on_every_storefront(self, harness, catalog: Catalog,
                                                                         user: Shopper, guest: Shopper) -> None:
        product = await catalog.product(stock=50)
        for shop in (user.on("a"), user.on("b"), user, guest.on("b")):
            await shop.add(product.product_id, 1)
        await harness.deliver(UserDeleted(user_id=user.owner_id), producer="identity")
        assert await carts(harness) == [(guest.owner_id, "b")]


class TestProductStorefronts:
    async def test_the_read_model_keeps_the_storefronts_of_each_change(self, harness, catalog: Catalog,
                                                                       guest: Shopper) -> None:
        product = await catalog.product(storefronts=["a"])
        await catalog.change(product, storefronts=["a", "b"])
        async with harness.runtime.db.read_only() as session:
            [row] = (await session.exec(select(CartProduct))).all()
        assert row.storefronts == ["a", "b"]
        assert (await guest.on("b").add(product.product_id))["item_count"] == 1
        await catalog.change(product, storefronts=[])  # every storefront
        assert (await guest.add(product.product_id))["item_count"] == 1
