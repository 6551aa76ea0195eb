"""The lookups of a provider event, on PostgreSQL: each finds its payment through an index, so a
webhook's cost does not grow with the payment table."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from atelier_payments.repository import _LOCK_ORDER_BY

pytestmark = pytest.mark.databases("sqlite", "postgres", why="the plans of each database")


@pytest.mark.databases("postgres", why="PostgreSQL's plans")
@pytest.mark.parametrize(("column", "value", "index"), [("provider_session_id", "cs_77", "uq_payment_session"),
                                                        ("provider_intent_id", "pi_77", "uq_payment_intent"),
                                                        ("provider_charge_id", "ch_77", "ix_payment_charge")])
async def test_an_event_finds_its_payment_through_an_index(api, db_backend: str, column: str, value: str,
                                                          index: str) -> None:
    compiled = _LOCK_ORDER_BY[column].stmt.compile(dialect=postgresql.dialect())
    async with api.h.runtime.db.transaction() as session:
        # A year's worth of payments, in miniature: enough rows that reading them all is the plan
        # to avoid, with the planner's statistics of them.
        await session.execute(text("""
            INSERT INTO payment (id, order_id, owner_id, provider, kind, provider_intent_id, provider_session_id,
                                 provider_charge_id, amount, currency, status, pays_order, order_snapshot,
                                 created_at, updated_at)
            SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'stripe', 'intent', 'pi_' || n,
                   'cs_' || n, 'ch_' || n, 10, 'USD', 'succeeded', true, '{}', now(), now()
            FROM generate_series(1, 5000) AS n"""))
    async with api.h.runtime.db.transaction() as session:
        await session.execute(text("ANALYZE payment"))
        connection = await session.connection()
        plan = (await connection.exec_driver_sql(f"EXPLAIN {compiled}", {
            **compiled.params, "provider": "stripe", "value": value})).scalars().all()
    lookup = next(line for line in plan if "Limit" in line)
    below = plan[plan.index(lookup) + 1]
    assert "Seq Scan" not in "\n".join(plan) and index in below, plan
