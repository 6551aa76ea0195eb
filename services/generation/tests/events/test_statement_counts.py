"""The SQL statements a guest checkout costs generation (`-s` prints them): under load each one is a
round trip and statement-building CPU. On PostgreSQL the counts are pinned; change them here when
a path changes on purpose."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from atelier_common.contracts.catalog import ProductChanged
from atelier_common.contracts.identity import AnonymousClaimed
from atelier_testing.statements import statements

from ..conftest import User

pytestmark = pytest.mark.databases("sqlite", "postgres", why="statement counts differ by dialect")

# The job worker's heartbeat runs on its own meanwhile.
WATCHDOG = ("UPDATE generation_job SET heartbeat_at",)


async def test_a_guest_checkout(api, db_backend) -> None:
    anon_id, user = uuid.uuid4(), api.user()
    product = ProductChanged(product_id=uuid.uuid4(), name="Lamp", sku="LAMP-1", kind="physical",
                             price=Decimal("10.00"), currency="USD", stock_quantity=48, track_inventory=True,
                             is_active=True, stock_only=True)

    with statements(api.h.runtime.db, "catalog.product_changed (the reservation's stock)", ignore=WATCHDOG) as changed:
        await api.h.deliver(product, producer="catalog")
    with statements(api.h.runtime.db, "identity.anonymous_claimed", ignore=WATCHDOG) as claimed:
        await api.h.deliver(AnonymousClaimed(anon_id=anon_id, user_id=user.id), producer="identity")

    assert await api.balance(User(api.keys, user.id)) == 0
    if db_backend != "postgres":
        return
    # The stock of a product that is no pack: acknowledged without a statement. The claim: the inbox
    # row, both owners' locks, then every owned row moved and the wallet taken in one statement.
    assert {"changed": len(changed), "claimed": len(claimed)} == {"changed": 0, "claimed": 4}
