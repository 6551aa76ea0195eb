"""identity.anonymous_claimed: the guest cart merges into the user's cart and is gone (S1); one in
another currency stays the guest's."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import select

from atelier_cart.models import Cart, CartItem
from atelier_common.contracts.identity import AnonymousClaimed

from ..conftest import Catalog, Shopper, line_of

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")


def claimed(guest: Shopper, user: Shopper) -> AnonymousClaimed:
    return AnonymousClaimed(anon_id=guest.owner_id, user_id=user.owner_id)


async def all_carts(harness) -> list[Cart]:
    async with harness.runtime.db.read_only() as session:
        return list((await session.exec(select(Cart))).all())


class TestMerge:
    async def test_quantities_add_up_into_one_cart(self, harness, catalog: Catalog, guest: Shopper,
                                                   user: Shopper) -> None:
        shared, guest_only, user_only = (await catalog.product(stock=50), await catalog.product(price="3.00"),
                                         await catalog.product(price="4.00"))
        await guest.add(shared.product_id, 3)
        await guest.add(guest_only.product_id, 2)
        await user.add(shared.product_id, 4)
        user_cart = await user.add(user_only.product_id, 1)

        await harness.deliver(claimed(guest, user), producer="identity")

        cart = await user.cart()
        assert cart["id"] == user_cart["id"]
        assert {(i["product_id"], i["quantity"]) for i in cart["items"]} == {
            (str(shared.product_id), 7), (str(guest_only.product_id), 2), (str(user_only.product_id), 1)}
        assert (cart["item_count"], cart["subtotal"]) == (10, "80.00")  # 7 x 10 + 2 x 3 + 4
        assert [c.owner_id for c in await all_carts(harness)] == [user.owner_id]

    async def test_the_guest_token_then_sees_an_empty_cart(self, harness, catalog: Catalog, guest: Shopper,
                                                           user: Shopper) -> None:
        product = await catalog.product()
        guest_cart = await guest.add(product.product_id, 2)
        await user.cart()
        await harness.deliver(claimed(guest, user), producer="identity")
        after = await guest.cart()
        assert (after["items"], after["item_count"]) == ([], 0)
        assert after["id"] != guest_cart["id"]
        assert (await user.cart())["item_count"] == 2

    async def test_capped_at_99(self, harness, catalog: Catalog, guest: Shopper, user: Shopper) -> None:
        product = await catalog.product(stock=1000)
        await guest.add(product.product_id, 60)
        await user.add(product.product_id, 70)
        await harness.deliver(claimed(guest, user), producer="identity")
        assert line_of(await user.cart(), product.product_id)["quantity"] == 99

    async def test_capped_at_the_stock(self, harness, catalog: Catalog, guest: Shopper, user: Shopper) -> None:
        product = await catalog.product(stock=10)
        await guest.add(product.product_id, 6)
        await user.add(product.product_id, 3)
        await catalog.change(product, stock_quantity=7)
        await harness.deliver(claimed(guest, user), producer="identity")
        assert line_of(await user.cart(), product.product_id)["quantity"] == 7

    async def test_a_guest_line_is_capped_at_the_stock_too(self, harness, catalog: Catalog, guest: Shopper,
                                                           user: Shopper) -> None:
        product, sold_out, other = await catalog.product(stock=10), await catalog.product(), await catalog.product()
        await guest.add(product.product_id, 8)
        await guest.add(sold_out.product_id, 2)
        await user.add(other.product_id, 1)
        await catalog.change(product, stock_quantity=5)
        await catalog.change(sold_out, stock_quantity=0)
        await harness.deliver(claimed(guest, user), producer="identity")
        cart = await user.cart()
        assert {(i["product_id"], i["quantity"]) for i in cart["items"]} == {
            (str(product.product_id), 5), (str(other.product_id), 1)}

    async def test_the_users_line_keeps_its_frozen_price(self, harness, catalog: Catalog, guest: Shopper,
                                                         user: Shopper) -> None:
        product = await catalog.product(price="10.00", stock=50)
        await user.add(product.product_id, 1)
        await catalog.change(product, price="12.00")
        await guest.add(product.product_id, 1)
        await harness.deliver(claimed(guest, user), producer="identity")
        line = line_of(await user.cart(), product.product_id)
        assert (line["quantity"], line["unit_price"]) == (2, "10.00")

    async def test_variants_merge_per_variant(self, harness, catalog: Catalog, guest: Shopper,
                                              user: Shopper) -> None:
        product = await catalog.product(stock=50)
        variant = await catalog.product(product.product_id, variant_id=uuid.uuid4(), variant_name="v", stock=50)
        await guest.add(product.product_id, 1)
        await guest.add(product.product_id, 2, variant_id=variant.variant_id)
        await user.add(product.product_id, 4, variant_id=variant.variant_id)
        await harness.deliver(claimed(guest, user), producer="identity")
        cart = await user.cart()
        assert line_of(cart, product.product_id)["quantity"] == 1
        assert line_of(cart, product.product_id, variant.variant_id)["quantity"] == 6

    async def test_a_redelivered_claim_does_not_add_twice(self, harness, catalog: Catalog, guest: Shopper,
                                                          user: Shopper) -> None:
        product = await catalog.product(stock=50)
        await guest.add(product.product_id, 2)
        await user.add(product.product_id, 3)
        envelope_id = uuid.uuid4()
        await harness.deliver(claimed(guest, user), producer="identity", envelope_id=envelope_id)
        await harness.deliver(claimed(guest, user), producer="identity", envelope_id=envelope_id)
        # A second, distinct claim (another login with the same token) finds no guest cart left.
        await harness.deliver(claimed(guest, user), producer="identity")
        assert line_of(await user.cart(), product.product_id)["quantity"] == 5

    async def test_a_user_cart_in_another_currency_keeps_its_own(self, harness, catalog: Catalog, guest: Shopper,
                                                                 user: Shopper) -> None:
        gel, usd = await catalog.product(currency="GEL"), await catalog.product(currency="USD")
        guest_cart = await guest.add(gel.product_id, 1)
        await user.add(usd.product_id, 1)
        await harness.deliver(claimed(guest, user), producer="identity")
        cart = await user.cart()
        assert (cart["currency"], [i["product_id"] for i in cart["items"]]) == ("USD", [str(usd.product_id)])
        # The guest's lines are not thrown away: the guest cart stays the anonymous visitor's.
        assert await guest.cart() == guest_cart
        assert {c.owner_id for c in await all_carts(harness)} == {user.owner_id, guest.owner_id}
        assert harness.bus.dead_letters == []


class TestTakeOver:
    async def test_a_user_without_a_cart_takes_the_guest_cart(self, harness, catalog: Catalog, guest: Shopper,
                                                              user: Shopper) -> None:
        product = await catalog.product(price="85.50", stock=5)
        guest_cart = await guest.add(product.product_id, 2)
        await harness.deliver(claimed(guest, user), producer="identity")
        cart = await user.cart()
        assert cart == guest_cart  # the same cart, id and lines, now the user's
        assert (await guest.cart())["items"] == []

    async def test_an_empty_user_cart_takes_the_guest_currency(self, harness, catalog: Catalog, guest: Shopper,
                                                               user: Shopper) -> None:
        gel = await catalog.product(currency="GEL", price="2.00")
        await guest.add(gel.product_id, 1)
        await user.cart()  # created, empty, in the default currency
        await harness.deliver(claimed(guest, user), producer="identity")
        cart = await user.cart()
        assert (cart["currency"], cart["total"]) == ("GEL", "2.18")

    async def test_nothing_to_merge(self, harness, guest: Shopper, user: Shopper) -> None:
        await harness.deliver(claimed(guest, user), producer="identity")
        assert await all_carts(harness) == []
        assert harness.bus.dead_letters == []

    async def test_an_empty_guest_cart_just_disappears(self, harness, catalog: Catalog, guest: Shopper,
                                                       user: Shopper) -> None:
        product = await catalog.product()
        await guest.cart()
        user_cart = await user.add(product.product_id, 1)
        await harness.deliver(claimed(guest, user), producer="identity")
        assert [c.id for c in await all_carts(harness)] == [uuid.UUID(user_cart["id"])]
        async with harness.runtime.db.read_only() as session:
            assert len((await session.exec(select(CartItem))).all()) == 1
