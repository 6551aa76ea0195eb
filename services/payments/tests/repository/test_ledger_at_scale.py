"""Finance's ledger as it grows (#57): the whole ledger's count is the planner's estimate, flagged,
rather than a count of every entry; one storefront's payments of a day are read (and counted) through
ix_ledger_entry_storefront_kind_created, not through every storefront's entries of that day."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import event, text

pytestmark = pytest.mark.databases("sqlite", "postgres", why="the plans of each database")

ENTRIES = 50_000
STOREFRONTS = ("default", "default", "default", "shop", "b", "c")


async def _grow(api) -> None:
    """A ledger spread over two years and six storefronts, newest last, with the planner's statistics."""
    async with api.h.runtime.db.transaction() as session:
        await session.execute(text("""
            INSERT INTO ledger_entry (id, owner_id, storefront, kind, amount, currency, created_at, description)
            SELECT gen_random_uuid(), md5('o' || (n % 5000))::uuid, (CAST(:storefronts AS text[]))[1 + n % 6],
                   (ARRAY['payment', 'payment', 'refund', 'credit_purchase', 'credit_consumed'])[1 + n % 5], 10, 'USD',
                   timestamptz '2026-11-26' - (:entries - n) * interval '1 second' * (730 * 86400.0 / :entries), ''
            FROM generate_series(1, :entries) AS n"""), {"entries": ENTRIES, "storefronts": list(STOREFRONTS)})
    async with api.h.runtime.db.transaction() as session:
        await session.execute(text("ANALYZE ledger_entry"))


async def _read(api, params: dict[str, str]) -> tuple[Any, list[str]]:
    """`GET /staff/ledger` with `params`, and EXPLAIN of the statements it sent that read the ledger."""
    sent: list[tuple[str, dict[str, Any]]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if "FROM ledger_entry" in statement and not statement.startswith("EXPLAIN"):
            sent.append((statement, dict(parameters or {})))

    engine = api.h.runtime.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = await api.client.get("/api/v1/staff/ledger", params=params, headers=api.keys.staff_headers("finance"))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.text
    plans = []
    async with api.h.runtime.db.transaction() as session:
        connection = await session.connection()
        for statement, parameters in sent:
            plans.append("\n".join((await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters))
                                   .scalars().all()))
    return response, plans


@pytest.mark.databases("postgres", why="PostgreSQL's plans and estimates")
async def test_the_whole_ledger_is_estimated_and_a_storefronts_day_read_by_its_index(api, db_backend: str) -> None:
    await _grow(api)

    response, plans = await _read(api, {})
    body = response.json()
    assert response.headers.get("x-count-estimated") == "true"
    assert 0.8 * ENTRIES < body["count"] < 1.2 * ENTRIES and len(body["results"]) == 20
    # The count reads at most exact_count_limit + 1 entries; the page walks ix_ledger_entry_created.
    assert plans[0].splitlines()[1].strip().startswith("->  Limit") and "rows=1001" in plans[0], plans[0]
    assert "ix_ledger_entry_created" in plans[1] and "Sort" not in plans[1], plans[1]
    # The next page with the same filters reuses the estimate (`count_estimate_seconds`): no count.
    again, plans = await _read(api, {"offset": "20"})
    assert again.json()["count"] == body["count"] and again.headers.get("x-count-estimated") == "true"
    assert len(plans) == 1 and "ix_ledger_entry_created" in plans[0], plans

    day = {"storefront": "shop", "kind": "payment", "created_after": "2026-08-18T00:00:00Z",
           "created_before": "2026-08-19T00:00:00Z"}
    response, plans = await _read(api, day)
    assert "x-count-estimated" not in response.headers
    assert {(e["storefront"], e["kind"]) for e in response.json()["results"]} <= {("shop", "payment")}
    for plan in plans:
        assert "ix_ledger_entry_storefront_kind_created" in plan and "Seq Scan" not in plan, plan


async def test_a_short_ledger_is_counted_exactly(api) -> None:
    async with api.h.runtime.db.transaction() as session:
        for n in range(3):
            await session.execute(text(
                "INSERT INTO ledger_entry (id, owner_id, storefront, kind, amount, currency, created_at, description) "
                "VALUES (:id, :owner, 'default', 'payment', 10, 'USD', :at, '')"),
                {"id": str(uuid.uuid4()), "owner": str(uuid.uuid4()), "at": f"2026-11-2{n}T10:00:00+00:00"})
    response = await api.client.get("/api/v1/staff/ledger", params={"limit": 2},
                                    headers=api.keys.staff_headers("finance"))
    assert response.status_code == 200
    assert response.json()["count"] == 3 and "x-count-estimated" not in response.headers
