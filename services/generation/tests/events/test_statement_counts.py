"""The SQL statements a guest checkout costs generation (`-s` prints them): under load each one is a
round trip and statement-building CPU. On PostgreSQL the counts are pinned; change them here when
a path changes on purpose."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import event

from atelier_common.contracts.catalog import ProductChanged
from atelier_common.contracts.identity import AnonymousClaimed
from atelier_testing import ServiceHarness

from ..conftest import User


@contextmanager
def statements(harness: ServiceHarness, label: str) -> Iterator[list[str]]:
    """The statements run meanwhile, but the outbox relay's and the job watchdog's (they run on their own)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        text = " ".join(statement.split())
        if ("FROM outbox" not in text and not text.startswith("UPDATE outbox")
                and not text.startswith("UPDATE generation_job SET heartbeat_at")):  # the worker's watchdog
            seen.append(text)

    engine = harness.runtime.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
        print(f"\n{label}: {len(seen)} statements")
        for text in seen:
            print("   ", text[:200])


async def test_a_guest_checkout(api, db_backend) -> None:
    anon_id, user = uuid.uuid4(), api.user()
    product = ProductChanged(product_id=uuid.uuid4(), name="Lamp", sku="LAMP-1", kind="physical",
                             price=Decimal("10.00"), currency="USD", stock_quantity=48, track_inventory=True,
                             is_active=True)

    with statements(api.h, "catalog.product_changed (the reservation's stock)") as changed:
        await api.h.deliver(product, producer="catalog")
    with statements(api.h, "identity.anonymous_claimed") as claimed:
        await api.h.deliver(AnonymousClaimed(anon_id=anon_id, user_id=user.id), producer="identity")

    assert await api.balance(User(api.keys, user.id)) == 0
    if db_backend != "postgres":
        return
    # A product that is no pack: the inbox row and the pack list's DELETE. The claim: the inbox
    # row, both owners' locks, then every owned row moved and the wallet taken in one statement.
    assert {"changed": len(changed), "claimed": len(claimed)} == {"changed": 2, "claimed": 4}
