"""Real concurrency on PostgreSQL: parallel requests on one cart, and a merge racing a new cart.

These run on a PostgreSQL server of their own (`postgres_server_url`): skipped with the reason
when there is none, failed when ATELIER_REQUIRE_INFRA=1.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import psycopg
import pytest
from sqlalchemy import text
from sqlmodel import select

from atelier_cart.app import create_app
from atelier_cart.models import Cart, CartItem, CartProduct
from atelier_cart.repository import CartRepository
from atelier_cart.schemas import CartItemCreate
from atelier_cart.service import CartService
from atelier_cart.settings import CartSettings
from atelier_common.contracts.identity import AnonymousClaimed
from atelier_common.contracts.orders import OrderLine, OrderPlaced
from atelier_common.migrations import upgrade
from atelier_testing import RecordingBus, ServiceHarness, TestKeys, poll_until
from atelier_testing.storefronts import add_storefront, make_storefront

from ..conftest import MIGRATIONS, Catalog, FakeCatalog, Shopper


async def _waiting_on_a_lock(harness: ServiceHarness) -> bool:
    """Whether a statement of this database is blocked on a lock another transaction holds."""
    async with harness.runtime.db.read_only() as session:
        waiting = (await session.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ))).scalar_one()
    return bool(waiting)

PARALLEL = 20


@pytest.fixture
async def pg(postgres_server_url: str, test_settings_overrides) -> AsyncIterator[tuple[ServiceHarness, FakeCatalog]]:
    """The cart app on a fresh PostgreSQL database, with a pool wide enough for every request."""
    prefix = f"atelier_race_{uuid.uuid4().hex[:8]}_"
    settings = CartSettings(postgres_server_url=postgres_server_url, database_name_prefix=prefix,
                            db_pool_size=PARALLEL, **test_settings_overrides)
    upgrade(MIGRATIONS, settings.resolved_database_url)
    fake = FakeCatalog(token=settings.service_token)
    bus = RecordingBus()
    mounts = {"http://catalog.internal": httpx.ASGITransport(app=fake.app())}
    try:
        async with ServiceHarness(create_app(settings, bus=bus, http_mounts=mounts), bus) as harness:
            yield harness, fake
    finally:
        admin = postgres_server_url.rstrip("/").replace("postgresql+psycopg://", "postgresql://") + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{prefix}cart" WITH (FORCE)')


def shopper(harness: ServiceHarness, test_keys: TestKeys) -> Shopper:
    owner = uuid.uuid4()
    return Shopper(harness, test_keys.anon_headers(owner), owner)


async def table(harness: ServiceHarness, model: type) -> list:
    async with harness.runtime.db.read_only() as session:
        return list((await session.exec(select(model))).all())


async def cart_row_version(harness: ServiceHarness, owner_id: uuid.UUID) -> tuple[str, str]:
    """Where the owner's cart row lies and which transaction wrote that version of it."""
    async with harness.runtime.db.read_only() as session:
        row = (await session.execute(text("SELECT ctid::text, xmin::text FROM cart WHERE owner_id = :owner"),
                                     {"owner": owner_id})).one()
    return row[0], row[1]


class TestParallelAdds:
    async def test_adds_lock_the_cart_without_writing_its_row_again(self, pg, test_keys: TestKeys) -> None:
        # An add wrote a new version of the cart row (and an entry in each of its indexes) only to
        # lock it; with autovacuum behind, a busy cart's row and indexes grew with every add.
        harness, _ = pg
        catalog = Catalog(harness)
        first, second = await catalog.product(stock=100), await catalog.product(stock=100)
        guest = shopper(harness, test_keys)
        await guest.cart()
        before = await cart_row_version(harness, guest.owner_id)
        await guest.add(first.product_id, 1)   # a new line
        await guest.add(first.product_id, 2)   # the same line again
        await guest.add(second.product_id, 1)
        assert await cart_row_version(harness, guest.owner_id) == before
        assert [line["quantity"] for line in (await guest.cart())["items"]] == [3, 1]

    async def test_parallel_adds_to_one_line_lose_no_update(self, pg, test_keys: TestKeys) -> None:
        harness, _ = pg
        product = await Catalog(harness).product(stock=1000)
        guest = shopper(harness, test_keys)
        await guest.cart()
        responses = await asyncio.gather(*(guest.add_raw(product.product_id, 1) for _ in range(PARALLEL)))
        assert [r.status_code for r in responses] == [201] * PARALLEL
        [line] = (await guest.cart())["items"]
        assert line["quantity"] == PARALLEL
        assert len(await table(harness, CartItem)) == 1

    async def test_parallel_first_adds_create_one_cart_and_one_line(self, pg, test_keys: TestKeys) -> None:
        harness, fake = pg
        product = fake.add(stock=1000)  # unknown to the read-model: every request may ask catalog
        guest = shopper(harness, test_keys)
        responses = await asyncio.gather(*(guest.add_raw(product["id"], 2) for _ in range(PARALLEL)))
        assert [r.status_code for r in responses] == [201] * PARALLEL
        assert len({r.json()["id"] for r in responses}) == 1
        assert (await guest.cart())["item_count"] == 2 * PARALLEL
        assert len(await table(harness, Cart)) == 1
        assert len(await table(harness, CartItem)) == 1
        assert len(await table(harness, CartProduct)) == 1

    async def test_parallel_first_adds_on_two_storefronts_create_one_cart_on_each(self, pg,
                                                                                   test_keys: TestKeys) -> None:
        harness, _ = pg
        for slug in ("a", "b"):
            add_storefront(harness.app, make_storefront(slug, currency="USD"))
        product = await Catalog(harness).product(stock=1000)
        guest = shopper(harness, test_keys)
        responses = await asyncio.gather(*(guest.on(slug).add_raw(product.product_id, 1)
                                           for slug in ("a", "b") * (PARALLEL // 2)))
        assert [r.status_code for r in responses] == [201] * PARALLEL
        for slug in ("a", "b"):
            assert len({r.json()["id"] for r in responses if r.json()["storefront"] == slug}) == 1
            assert (await guest.on(slug).cart())["item_count"] == PARALLEL // 2
        assert sorted(c.storefront for c in await table(harness, Cart)) == ["a", "b"]

    async def test_parallel_views_of_a_new_owner_create_one_cart(self, pg, test_keys: TestKeys) -> None:
        harness, _ = pg
        guest = shopper(harness, test_keys)
        carts = await asyncio.gather(*(guest.cart() for _ in range(PARALLEL)))
        assert len({c["id"] for c in carts}) == 1
        assert len(await table(harness, Cart)) == 1

    async def test_a_view_waiting_on_a_hand_over_gets_a_new_cart(self, pg, test_keys: TestKeys) -> None:
        # The view's INSERT waits for the claim that hands the guest cart to its user; its
        # snapshot still shows that cart as the guest's, but the answer is the new empty cart.
        harness, _ = pg
        product = await Catalog(harness).product(stock=50)
        guest = shopper(harness, test_keys)
        old = await guest.add(product.product_id, 2)
        async with harness.runtime.db.transaction() as claim:
            [cart] = await CartRepository(claim).lock_rows([guest.owner_id])
            assert await CartRepository(claim).give_to(cart, uuid.uuid4())
            view = asyncio.create_task(guest.cart())
            await poll_until(lambda: _waiting_on_a_lock(harness), message="the view waits for the claim's lock")
            assert not view.done()
        new = await view
        assert (new["id"] != old["id"], new["items"]) == (True, [])
        assert len(await table(harness, Cart)) == 2

    async def test_parallel_adds_never_pass_the_stock(self, pg, test_keys: TestKeys) -> None:
        harness, _ = pg
        product = await Catalog(harness).product(stock=7)
        guest = shopper(harness, test_keys)
        responses = await asyncio.gather(*(guest.add_raw(product.product_id, 1) for _ in range(PARALLEL)))
        assert sorted(r.status_code for r in responses) == [201] * 7 + [409] * (PARALLEL - 7)
        assert (await guest.cart())["item_count"] == 7

    async def test_parallel_changes_to_different_carts_do_not_wait_on_each_other(self, pg,
                                                                                 test_keys: TestKeys) -> None:
        harness, _ = pg
        product = await Catalog(harness).product(stock=1000)
        shoppers = [shopper(harness, test_keys) for _ in range(PARALLEL)]
        responses = await asyncio.gather(*(s.add_raw(product.product_id, 3) for s in shoppers))
        assert [r.status_code for r in responses] == [201] * PARALLEL
        assert len(await table(harness, Cart)) == PARALLEL


class TestMergeRace:
    async def test_a_user_cart_created_during_the_merge_receives_the_lines(self, pg, test_keys: TestKeys,
                                                                           monkeypatch) -> None:
        harness, _ = pg
        product = await Catalog(harness).product(price="10.00", stock=50)
        guest = shopper(harness, test_keys)
        await guest.add(product.product_id, 2)
        user_id = uuid.uuid4()
        db = harness.runtime.db
        give_to = CartRepository.give_to

        async def user_cart_appears_first(self: CartRepository, cart: Cart, owner_id: uuid.UUID) -> bool:
            # The user's own first request commits its new cart just before the hand-over.
            async with db.transaction() as other:
                await CartRepository(other).ensure(owner_id, "default", "USD")
            return await give_to(self, cart, owner_id)

        monkeypatch.setattr(CartRepository, "give_to", user_cart_appears_first)
        async with db.transaction() as session:
            service = CartService(session, harness.runtime.context)
            await service.merge_anonymous(guest.owner_id, user_id)

        carts = await table(harness, Cart)
        assert [c.owner_id for c in carts] == [user_id]
        [line] = await table(harness, CartItem)
        assert (line.cart_id, line.quantity, line.unit_price) == (carts[0].id, 2, Decimal("10.00"))

    async def test_parallel_claims_of_two_guests_into_one_user(self, pg, test_keys: TestKeys) -> None:
        harness, _ = pg
        product = await Catalog(harness).product(stock=50)
        guests = [shopper(harness, test_keys) for _ in range(5)]
        for guest in guests:
            await guest.add(product.product_id, 2)
        user_id = uuid.uuid4()
        db = harness.runtime.db

        async def claim(guest: Shopper) -> None:
            async with db.transaction() as session:
                await CartService(session, harness.runtime.context).merge_anonymous(guest.owner_id, user_id)

        await asyncio.gather(*(claim(g) for g in guests))
        carts = await table(harness, Cart)
        assert [c.owner_id for c in carts] == [user_id]
        [line] = await table(harness, CartItem)
        assert line.quantity == 10

    async def test_a_claim_event_and_guest_adds_in_parallel(self, pg, test_keys: TestKeys) -> None:
        harness, _ = pg
        product = await Catalog(harness).product(stock=500)
        guest = shopper(harness, test_keys)
        await guest.add(product.product_id, 1)
        event = AnonymousClaimed(anon_id=guest.owner_id, user_id=uuid.uuid4())
        results = await asyncio.gather(harness.deliver(event, producer="identity"),
                                       *(guest.add_raw(product.product_id, 1) for _ in range(5)))
        assert all(r.status_code == 201 for r in results[1:])
        # Each add landed either in the guest cart before the merge (and moved with it) or in a
        # new guest cart after it: no unit is lost.
        units = sum(item.quantity for item in await table(harness, CartItem))
        assert units == 6
        assert harness.bus.dead_letters == []


def _order(guest: Shopper, *lines: tuple[uuid.UUID, int]) -> OrderPlaced:
    return OrderPlaced(order_id=uuid.uuid4(), order_number="ORD-20261126-RACE01", owner_id=guest.owner_id,
                       from_cart=True, lines=[OrderLine(product_id=product_id, sku="X", kind="physical",
                                                        quantity=quantity, unit_price=Decimal("10.00"))
                                              for product_id, quantity in lines])


class TestOrderRace:
    async def test_an_add_in_flight_when_the_order_is_heard_keeps_its_units(self, pg, test_keys: TestKeys) -> None:
        # The order took A x1; an add of A x2 holds the cart (and the line) uncommitted when the
        # order's event is handled: the handler waits for it, then takes 1 of the 3.
        harness, _ = pg
        product = await Catalog(harness).product(stock=50)
        guest = shopper(harness, test_keys)
        await guest.add(product.product_id, 1)
        storefront = await harness.runtime.storefronts.get()
        async with harness.runtime.db.transaction() as add:
            await CartService(add, harness.runtime.context).add_item(
                guest.owner_id, CartItemCreate(product_id=product.product_id, quantity=2), storefront, anonymous=True)
            placed = asyncio.create_task(harness.deliver(_order(guest, (product.product_id, 1)), producer="orders"))
            await poll_until(lambda: _waiting_on_a_lock(harness), message="the order waits for the add")
            assert not placed.done()
        await placed
        assert [line["quantity"] for line in (await guest.cart())["items"]] == [2]
        assert harness.bus.dead_letters == []

    async def test_an_order_and_parallel_adds_lose_no_unit(self, pg, test_keys: TestKeys) -> None:
        harness, _ = pg
        catalog = Catalog(harness)
        ordered, other = await catalog.product(stock=500), await catalog.product(stock=500)
        guest = shopper(harness, test_keys)
        await guest.add(ordered.product_id, 1)
        adds = [guest.add_raw(product.product_id, 1) for product in (ordered, other) for _ in range(5)]
        results = await asyncio.gather(harness.deliver(_order(guest, (ordered.product_id, 1)), producer="orders"),
                                       *adds)
        assert all(r.status_code == 201 for r in results[1:])
        # Each add landed before the order's lines left or after: either way only the one unit
        # ordered is gone.
        lines = {line["product_id"]: line["quantity"] for line in (await guest.cart())["items"]}
        assert lines == {str(ordered.product_id): 5, str(other.product_id): 5}
        assert harness.bus.dead_letters == []
