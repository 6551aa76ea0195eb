"""A guest's `order.placed` (from the cart) and `identity.anonymous_claimed` (they signed in) in
every delivery order (`atelier_testing.permutations`): whichever the cart hears first, what was
ordered leaves the cart and the user's own lines stay."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

import pytest
from sqlmodel import col, select

from atelier_cart.events import SUBSCRIPTIONS
from atelier_cart.models import Cart
from atelier_common.contracts.identity import AnonymousClaimed, UserDeleted
from atelier_common.contracts.orders import OrderLine, OrderPlaced
from atelier_common.events.envelope import IntegrationEvent
from atelier_testing import deliver_in_every_order, racing_consumers, redelivering

from ..conftest import Catalog, Shopper

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")


def _line(product_id: uuid.UUID, quantity: int) -> OrderLine:
    return OrderLine(product_id=product_id, sku="X", kind="physical", quantity=quantity, unit_price=Decimal("10.00"))


class TestGuestOrderAndClaimInEveryOrder:
    async def test_the_order_leaves_the_cart_and_the_users_lines_stay(self, harness, catalog: Catalog,
                                                                      new_shopper) -> None:
        users: dict[uuid.UUID, tuple[Shopper, Shopper, uuid.UUID]] = {}

        async def scenario() -> list[IntegrationEvent]:
            guest, user = new_shopper(), new_shopper(anonymous=False)
            lamp, vase = (await catalog.product()).product_id, (await catalog.product()).product_id
            await user.add(vase, 1)  # the user's own line, from an earlier visit
            await guest.add(lamp, 2)
            await guest.add(vase, 1)
            users[guest.owner_id] = (guest, user, lamp)
            order = OrderPlaced(order_id=uuid.uuid4(), order_number="ORD-20261122-ABC123", owner_id=guest.owner_id,
                                from_cart=True, lines=[_line(lamp, 2), _line(vase, 1)])
            return [order, AnonymousClaimed(anon_id=guest.owner_id, user_id=user.owner_id)]

        async def outcome(events: Sequence[IntegrationEvent]) -> tuple[dict[str, int], int]:
            guest, user, lamp = users[next(e for e in events if isinstance(e, OrderPlaced)).owner_id]
            lines = {("lamp" if i["product_id"] == str(lamp) else "vase"): i["quantity"]
                     for i in (await user.cart())["items"]}
            return lines, (await guest.cart())["item_count"]

        await deliver_in_every_order(scenario, redelivering(harness), outcome, expected=({"vase": 1}, 0))


    async def test_a_guest_cart_in_another_currency_is_emptied_by_its_order(self, harness, catalog: Catalog,
                                                                           new_shopper) -> None:
        """The claim cannot merge a GEL guest cart into a USD one and leaves it the guest's; the
        order placed from it still empties it, heard before the claim or after."""
        users: dict[uuid.UUID, tuple[Shopper, Shopper]] = {}

        async def scenario() -> list[IntegrationEvent]:
            guest, user = new_shopper(), new_shopper(anonymous=False)
            gel, usd = (await catalog.product(currency="GEL")).product_id, (await catalog.product()).product_id
            await user.add(usd, 1)
            await guest.add(gel, 2)
            users[guest.owner_id] = (guest, user)
            order = OrderPlaced(order_id=uuid.uuid4(), order_number="ORD-20261123-GEL001", owner_id=guest.owner_id,
                                from_cart=True, lines=[_line(gel, 2)])
            return [order, AnonymousClaimed(anon_id=guest.owner_id, user_id=user.owner_id)]

        async def outcome(events: Sequence[IntegrationEvent]) -> tuple[str, int, int]:
            guest, user = users[next(e for e in events if isinstance(e, OrderPlaced)).owner_id]
            cart = await user.cart()
            return cart["currency"], cart["item_count"], (await guest.cart())["item_count"]

        await deliver_in_every_order(scenario, redelivering(harness), outcome, expected=("USD", 1, 0))

    @pytest.mark.databases("postgres", why="real concurrency needs PostgreSQL")
    async def test_at_once_on_postgresql(self, harness, catalog: Catalog, new_shopper, db_backend: str) -> None:
        users: dict[uuid.UUID, tuple[Shopper, Shopper, uuid.UUID]] = {}

        async def scenario() -> list[IntegrationEvent]:
            guest, user = new_shopper(), new_shopper(anonymous=False)
            lamp, vase = (await catalog.product()).product_id, (await catalog.product()).product_id
            await user.add(vase, 1)
            await guest.add(lamp, 2)
            users[guest.owner_id] = (guest, user, lamp)
            return [OrderPlaced(order_id=uuid.uuid4(), order_number="ORD-20261122-ABC125", owner_id=guest.owner_id,
                                from_cart=True, lines=[_line(lamp, 2)]),
                    AnonymousClaimed(anon_id=guest.owner_id, user_id=user.owner_id)]

        deliver = racing_consumers(harness.runtime.db, "cart", SUBSCRIPTIONS, harness.runtime.context)

        async def outcome(events: Sequence[IntegrationEvent]) -> tuple[int, int]:
            guest, user, _ = users[next(e for e in events if isinstance(e, OrderPlaced)).owner_id]
            return (await user.cart())["item_count"], (await guest.cart())["item_count"]

        for _ in range(3):
            await deliver_in_every_order(scenario, deliver, outcome, concurrently=True, expected=(1, 0))


class TestErasureInEveryOrder:
    async def test_a_claim_and_the_users_erasure_in_any_order_leave_no_cart(self, harness, catalog: Catalog,
                                                                          new_shopper) -> None:
        async def scenario() -> list[IntegrationEvent]:
            guest, user = new_shopper(), new_shopper(anonymous=False)
            lamp = (await catalog.product()).product_id
            await guest.add(lamp, 2)
            await user.add(lamp, 1)
            return [AnonymousClaimed(anon_id=guest.owner_id, user_id=user.owner_id), UserDeleted(user_id=user.owner_id)]

        async def outcome(events: Sequence[IntegrationEvent]) -> int:
            claim = next(e for e in events if isinstance(e, AnonymousClaimed))
            async with harness.runtime.db.read_only() as session:
                carts = (await session.exec(select(Cart).where(
                    col(Cart.owner_id).in_((claim.anon_id, claim.user_id))))).all()
            return len(carts)

        await deliver_in_every_order(scenario, redelivering(harness, producer="identity"), outcome, expected=0)


class TestTheSameOrderHeardAgain:
    async def test_a_resent_order_does_not_empty_the_next_cart(self, harness, catalog: Catalog,
                                                               guest: Shopper) -> None:
        lamp = (await catalog.product()).product_id
        await guest.add(lamp, 2)
        order = OrderPlaced(order_id=uuid.uuid4(), order_number="ORD-20261122-ABC124", owner_id=guest.owner_id,
                            from_cart=True, lines=[_line(lamp, 2)])
        await harness.deliver(order, producer="orders")
        await guest.add(lamp, 1)  # shopping again

        await harness.deliver(order, producer="orders")  # orders sends it again (a new event id)

        assert (await guest.cart())["item_count"] == 1
