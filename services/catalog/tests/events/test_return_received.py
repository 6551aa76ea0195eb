"""return.received: the resaleable lines of a received return go back in stock, once; the
others, and products that count no stock, stay as they are."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlmodel import select

from atelier_catalog.models import StockMovement
from atelier_common.contracts.orders import ReturnLine, ReturnReceived
from atelier_common.events.envelope import Envelope
from atelier_testing import ServiceHarness

from ..conftest import Catalog
from .test_reservations import stock

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")


def _line(product: dict[str, Any], quantity: int, *, restock: bool,
          variant: dict[str, Any] | None = None) -> ReturnLine:
    return ReturnLine(order_item_id=uuid.uuid4(), product_id=product["id"],
                      variant_id=variant["id"] if variant else None, sku=(variant or product)["sku"],
                      quantity=quantity, resaleable=restock)


def _received(*lines: ReturnLine) -> ReturnReceived:
    return ReturnReceived(return_id=uuid.uuid4(), number="RET-20261127-ABC123", order_id=uuid.uuid4(),
                          order_number="ORD-20261126-NNKSU0", owner_id=uuid.uuid4(), amount="12.00", currency="USD",
                          items=list(lines))


class TestRestock:
    async def test_resaleable_lines_come_back_once(self, harness: ServiceHarness, catalog: Catalog) -> None:
        lamp = await catalog.product(stock_quantity=5)
        vase = await catalog.product(stock_quantity=5)
        tile = await catalog.product(stock_quantity=0)
        variant = await catalog.variant(tile, "Big", stock_quantity=1)
        event = _received(_line(lamp, 2, restock=True), _line(vase, 1, restock=False),
                          _line(tile, 3, restock=True, variant=variant))
        envelope = await harness.deliver(event, producer="orders")
        await harness.deliver(event, producer="orders", envelope_id=envelope.id)  # redelivered
        assert await stock(harness, lamp) == 7
        assert await stock(harness, vase) == 5
        assert await stock(harness, tile, variant) == 4 and await stock(harness, tile) == 0
        async with harness.runtime.db.read_only() as session:
            moved = (await session.exec(select(StockMovement.delta, StockMovement.reason).where(
                StockMovement.reason == "return RET-20261127-ABC123"))).all()
        assert sorted(delta for delta, _ in moved) == [2, 3]
        assert harness.bus.dead_letters == []

    async def test_an_exchanges_lines_come_back_once(self, harness: ServiceHarness, catalog: Catalog) -> None:
        """An exchange's lines received (kind `exchange`, its refund the difference): restocked as a return's."""
        lamp = await catalog.product(stock_quantity=5)
        event = _received(_line(lamp, 1, restock=True)).model_copy(update={"kind": "exchange", "amount": "0.00"})
        envelope = await harness.deliver(event, producer="orders")
        await harness.deliver(event, producer="orders", envelope_id=envelope.id)  # redelivered
        assert await stock(harness, lamp) == 6

    async def test_an_unknown_product_is_skipped(self, harness: ServiceHarness, catalog: Catalog) -> None:
        lamp = await catalog.product(stock_quantity=5)
        gone = {"id": str(uuid.uuid4()), "sku": "GONE"}
        await harness.deliver(_received(_line(gone, 1, restock=True), _line(lamp, 1, restock=True)),
                              producer="orders")
        assert await stock(harness, lamp) == 6

    async def test_an_event_with_the_old_names_restocks_too(self, harness: ServiceHarness, catalog: Catalog) -> None:
        """An event written before the rename (`lines`, `item_id`, `restock`), still in a queue."""
        lamp = await catalog.product(stock_quantity=5)
        vase = await catalog.product(stock_quantity=5)
        data = _received(_line(lamp, 2, restock=True), _line(vase, 1, restock=False)).model_dump(mode="json")
        data["lines"] = [{**{k: v for k, v in line.items() if k not in ("order_item_id", "resaleable")},
                          "item_id": line["order_item_id"], "restock": line["resaleable"]} for line in data.pop("items")]
        await harness.bus.publish([Envelope(type=ReturnReceived.type, producer="orders", data=data)])
        await harness.drain()
        assert (await stock(harness, lamp), await stock(harness, vase)) == (7, 5)
        assert harness.bus.dead_letters == []
