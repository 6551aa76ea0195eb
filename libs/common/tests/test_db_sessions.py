"""The unit of work's two kinds of session and the pool, on PostgreSQL: a reader opens no
transaction, a reader cannot write, the pool keeps the connections it opened, and it replaces the
ones the server closed (a restart, a failover) before a request meets them."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text

from atelier_common.db import Database, pool_for_roles
from atelier_common.inbox import InboxMessage

pytestmark = pytest.mark.infra


@pytest.fixture
async def db(postgres_server_url: str):
    pool_size, overflow = pool_for_roles(["api"])
    database = Database(f"{postgres_server_url}/postgres".replace("postgresql://", "postgresql+psycopg://", 1),
                        service="test", pool_size=pool_size, max_overflow=overflow)
    yield database
    await database.dispose()


async def test_a_reader_runs_each_statement_on_its_own(db: Database) -> None:
    # txid_current() assigns a transaction id: one per transaction, so two in a row tell.
    query = text("SELECT txid_current()")
    async with db.read_only() as session:
        first, second = [(await session.execute(query)).scalar_one() for _ in range(2)]
    assert first != second
    async with db.transaction() as session:
        first, second = [(await session.execute(query)).scalar_one() for _ in range(2)]
    assert first == second


async def test_a_reader_that_writes_fails_loudly(db: Database) -> None:
    with pytest.raises(RuntimeError, match="read-only"):
        async with db.read_only() as session:
            session.add(InboxMessage(event_id=uuid.uuid4(), consumer="test", event_type="x",
                                     processed_at=datetime.now(UTC)))


async def test_the_pool_keeps_the_connections_it_opened(db: Database) -> None:
    pool_size, _ = pool_for_roles(["api"])
    gate = asyncio.Barrier(pool_size)

    async def backend() -> int:
        async with db.transaction() as session:
            pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            await gate.wait()  # every connection of the pool in use at once
            return int(pid)

    first = set(await asyncio.gather(*(backend() for _ in range(pool_size))))
    second = set(await asyncio.gather(*(backend() for _ in range(pool_size))))
    # An overflow connection would have been closed on its return and a new one opened for it.
    assert len(first) == pool_size and second == first


@pytest.mark.parametrize("document", [
    '{"images": [{"id": "2b0e0f7e", "display_order": 0, "is_primary": true}], "price": "12.50"}',
    '[123456789012345678901234567890, -98765432109876543210, 1.5, "19 digits 1234567890123456789"]',
    '{"name": "Crème", "n": null, "e": 1e400}',
])
async def test_json_comes_back_as_the_standard_library_reads_it(db: Database, document: str) -> None:
    # orjson reads the JSON here, but integers beyond 64 bits must not turn into floats.
    async with db.read_only() as session:
        value = (await session.execute(text("SELECT CAST(:d AS json)"), {"d": document})).scalar_one()
    assert value == json.loads(document)
    assert [type(v) for v in value] == [type(v) for v in json.loads(document)]


async def test_connections_the_server_closed_are_replaced_before_a_request_meets_them(db: Database) -> None:
    """What a failover leaves in every pool: connections to a server that is gone. The first checkout
    that finds one (its socket readable: the server's goodbye, or closed) replaces every connection
    pooled before it, with no statement failing and no round trip on healthy checkouts."""
    pool_size, _ = pool_for_roles(["api"])
    gate = asyncio.Barrier(pool_size)

    async def backend() -> int:
        async with db.transaction() as session:
            pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            await gate.wait()
            return int(pid)

    pooled = set(await asyncio.gather(*(backend() for _ in range(pool_size))))
    dropped = _dropped()
    admin = Database(db.url, service="admin", pool_size=1, max_overflow=0)
    try:
        async with admin.transaction() as session:
            for pid in pooled:
                # With a timeout: returns once the backend is gone, its goodbye sent.
                await session.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
    finally:
        await admin.dispose()
    again = set(await asyncio.gather(*(backend() for _ in range(pool_size))))
    assert not again & pooled, "a terminated connection was handed out again"
    # The first dead one found replaced the pool: one drop counted, not one per connection.
    assert _dropped() == dropped + 1


def _dropped() -> float:
    return REGISTRY.get_sample_value("atelier_db_connections_dropped_total", {"service": "test"}) or 0.0
