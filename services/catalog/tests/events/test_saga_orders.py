"""Catalog's step of the checkout saga in every delivery order (`atelier_testing.permutations`):
`order.placed`, `order.paid` and `order.cancelled` of one order, each also redelivered, always
leave the same stock."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from atelier_catalog import sweeper
from atelier_catalog.models import Purchase, StockReservation
from atelier_common.contracts.identity import AnonymousClaimed, UserDeleted
from atelier_common.contracts.orders import OrderCancelled, OrderPlaced
from atelier_common.contracts.payments import OrderPaid
from atelier_common.events.envelope import IntegrationEvent
from atelier_testing import ServiceHarness, deliver_in_every_order, redelivering

from ..conftest import Catalog
from .test_reservations import _past_deadline, decisions, line, paid, placed, stock

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")


class TestCheckoutSagaInEveryOrder:
    async def _outcome(self, harness: ServiceHarness, events: Sequence[IntegrationEvent],
                       products: dict) -> tuple[int, int, list[str]]:
        """Units left on the shelf, units still held (reserved or committed), the decisions."""
        order = next(e for e in events if isinstance(e, OrderPlaced))
        async with harness.runtime.db.read_only() as session:
            held = (await session.exec(select(func.coalesce(func.sum(StockReservation.quantity), 0)).where(
                StockReservation.order_id == order.order_id,
                col(StockReservation.status).in_(("reserved", "committed"))))).one()
        return await stock(harness, products[order.order_id]), held, [t for t, _ in decisions(harness, order.order_id)]

    @staticmethod
    def _paid_order(catalog: Catalog, products: dict, *then: Callable[[OrderPlaced], IntegrationEvent],
                    ) -> Callable[[], Awaitable[list[IntegrationEvent]]]:
        """The scenario: an order of 2 of a product with 5 in stock (`products`: order id → product),
        its payment, then the events `then` makes of the order."""

        async def scenario() -> list[IntegrationEvent]:
            slab = await catalog.product(stock_quantity=5)
            order = placed(line(slab, 2))
            products[order.order_id] = slab
            return [order, paid(order), *(make(order) for make in then)]

        return scenario

    async def test_placed_and_paid_in_any_order_commit_the_stock(self, harness: ServiceHarness,
                                                                 catalog: Catalog) -> None:
        products: dict = {}
        scenario = self._paid_order(catalog, products)

        async def outcome(events: Sequence[IntegrationEvent]) -> tuple[int, int, list[str]]:
            await _past_deadline(harness)  # half an hour later: a paid order keeps its stock
            await sweeper.sweep_once(harness.runtime)
            return await self._outcome(harness, events, products)

        await deliver_in_every_order(scenario, redelivering(harness), outcome, expected=(3, 2, ["stock.reserved"]))

    async def test_a_cancellation_in_any_order_gives_everything_back(self, harness: ServiceHarness,
                                                                     catalog: Catalog) -> None:
        products: dict = {}
        scenario = self._paid_order(catalog, products, lambda order: OrderCancelled(
            order_id=order.order_id, owner_id=order.owner_id, was_paid=True))

        async def outcome(events: Sequence[IntegrationEvent]) -> tuple[int, int]:
            shelf, held, _ = await self._outcome(harness, events, products)  # the decision depends on who came first
            return shelf, held

        await deliver_in_every_order(scenario, redelivering(harness), outcome, expected=(5, 0))


class TestVerifiedPurchasesInEveryOrder:
    """An anonymous buyer's `order.paid`, their `identity.anonymous_claimed` and the user's
    `identity.user_deleted`: the purchase ends the user's, or nobody's once the user is gone."""

    async def _purchases(self, harness: ServiceHarness, *owners: uuid.UUID) -> list[uuid.UUID]:
        async with harness.runtime.db.read_only() as session:
            return list((await session.exec(select(Purchase.owner_id).where(
                col(Purchase.owner_id).in_(owners)))).all())

    async def test_paid_and_claimed_in_any_order_make_the_user_a_verified_buyer(self, harness: ServiceHarness,
                                                                                catalog: Catalog) -> None:
        claims: dict[uuid.UUID, AnonymousClaimed] = {}
        slab = await catalog.product(stock_quantity=100)

        async def scenario() -> list[IntegrationEvent]:
            order = placed(line(slab, 1))
            claim = AnonymousClaimed(anon_id=order.owner_id, user_id=uuid.uuid4())
            claims[order.order_id] = claim
            return [paid(order), claim]

        async def outcome(events: Sequence[IntegrationEvent]) -> list[str]:
            claim = claims[next(e for e in events if isinstance(e, OrderPaid)).order_id]
            owners = await self._purchases(harness, claim.anon_id, claim.user_id)
            return ["user" if o == claim.user_id else "anonymous" for o in owners]

        await deliver_in_every_order(scenario, redelivering(harness), outcome, expected=["user"])

    async def test_paid_claimed_and_deleted_in_any_order_leave_no_purchase(self, harness: ServiceHarness,
                                                                          catalog: Catalog) -> None:
        slab = await catalog.product(stock_quantity=100)

        async def scenario() -> list[IntegrationEvent]:
            order = placed(line(slab, 1))
            user_id = uuid.uuid4()
            return [paid(order), AnonymousClaimed(anon_id=order.owner_id, user_id=user_id),
                    UserDeleted(user_id=user_id)]

        async def outcome(events: Sequence[IntegrationEvent]) -> int:
            claim = next(e for e in events if isinstance(e, AnonymousClaimed))
            return len(await self._purchases(harness, claim.anon_id, claim.user_id))

        await deliver_in_every_order(scenario, redelivering(harness), outcome, expected=0)
