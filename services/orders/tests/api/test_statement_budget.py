"""The statements of the busiest paths: placing, reading one order, the stock and payment events and
a claim. Counted on orders' own tables (the outbox, the inbox and the owner rows are
libs/common's), so that a change that brings back ORM loads or a reload shows here, not under load."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from atelier_common.contracts.catalog import StockReserved
from atelier_common.contracts.identity import AnonymousClaimed
from atelier_common.contracts.payments import OrderPaid
from atelier_testing import ServiceHarness

from ..conftest import Customer, FakePlatform

pytestmark = pytest.mark.databases("sqlite", "postgres", why="statement counts differ by dialect")

_OWN_TABLES = ("customer_order", "order_item", "order_status_history", "invoice", "credit_note")


class _Statements:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def own(self) -> list[str]:
        """The statements since the last call that touch orders' tables, first words only."""
        own = [" ".join(s.split()[:3]) for s in self.seen if any(t in s for t in _OWN_TABLES)]
        self.seen = []
        return own


@pytest.fixture
def statements() -> Iterator[_Statements]:
    seen = _Statements()

    def record(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]  # SQLAlchemy's event listener signature, untyped
        seen.seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


async def test_a_guest_checkout_costs_one_statement_per_table_written(
        harness: ServiceHarness, anonymous: Customer, platform: FakePlatform, statements: _Statements,
        db_backend: str) -> None:
    lamp, pack = platform.product(price="30.00"), platform.product(kind="credit_pack", price="4.99")
    platform.fill_cart(anonymous.owner_id, (lamp, 2), (pack, 1))
    statements.own()
    order = await anonymous.placed(shipping_address_id=platform.address(anonymous.owner_id))
    # The order with its first history entry (one statement on PostgreSQL), its two items in one
    # statement; no reload.
    assert statements.own() == (["WITH placed AS"] if db_backend == "postgres" else [
        "INSERT INTO customer_order", "INSERT INTO order_status_history"]) + ["INSERT INTO order_item"]
    assert len(order["items"]) == 2 and len(order["status_history"]) == 1

    assert (await anonymous.order(order["id"]))["items"] == order["items"]
    assert statements.own() == ["SELECT 0 AS"]  # order, items and history in one statement

    await harness.deliver(StockReserved(order_id=order["id"]))
    # The locked order with whether it ships, then its update and history entry: one statement on
    # PostgreSQL (a data-modifying CTE), two on SQLite.
    changed = ["SELECT customer_order.id, customer_order.order_number,"] + (
        ["WITH saved AS"] if db_backend == "postgres" else ["UPDATE customer_order SET",
                                                            "INSERT INTO order_status_history"])
    assert statements.own() == changed
    await harness.deliver(OrderPaid(order_id=order["id"], owner_id=anonymous.owner_id,
                                    amount=Decimal(order["total_amount"]), currency="USD",
                                    payment_id=uuid.uuid4(), provider="local"))
    # Paid: the same, then its invoice (#56): the order read once for its snapshot, the storefront's
    # next number (one upsert that locks its counter), the invoice.
    assert statements.own() == [*changed, "SELECT 0 AS", "INSERT INTO invoice_sequence", "INSERT INTO invoice"]

    await harness.deliver(AnonymousClaimed(anon_id=anonymous.owner_id, user_id=uuid.uuid4()))
    assert statements.own() == ["UPDATE customer_order SET"]
