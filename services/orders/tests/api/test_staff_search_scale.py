"""Staff's order search as the table grows (#57): the list, whole or of one day, is a walk of
ix_customer_order_created that stops after the page (no sort of every order), and a broad list's
count is the planner's estimate, flagged, rather than a count of every row."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, text

from atelier_testing import ServiceHarness

from ..conftest import Customer, FakePlatform, Staff

ORDERS = 5_000


async def _grow(harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
    """One order placed through the API, cloned ORDERS times a minute apart (newest first in time,
    oldest first in the table, as they would have been appended): enough rows that sorting them
    all is the plan to avoid, with the planner's statistics of them."""
    pack = platform.product(kind="credit_pack", price="1.00")
    placed = await customer.placed(items=[{"product_id": pack["id"]}])
    async with harness.runtime.db.transaction() as session:
        await session.execute(text("""
            INSERT INTO customer_order
            SELECT (jsonb_populate_record(NULL::customer_order, to_jsonb(o) || jsonb_build_object(
                'id', gen_random_uuid(), 'order_number', 'ORD-SCALE-' || n,
                'created_at', now() - (:orders - n) * interval '1 minute'))).*
            FROM customer_order AS o, generate_series(1, :orders) AS n WHERE o.id = :id"""),
            {"orders": ORDERS, "id": placed["id"]})
    async with harness.runtime.db.transaction() as session:
        await session.execute(text("ANALYZE customer_order"))


async def _plans(harness: ServiceHarness, staff: Staff, query: str) -> tuple[Any, list[str]]:
    """The response to `GET /staff/orders?query`, and EXPLAIN of each statement it sent that reads
    customer_order (the service's own statements, captured, with their parameters)."""
    sent: list[tuple[str, dict[str, Any]]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if "FROM customer_order" in statement and not statement.startswith("EXPLAIN"):
            sent.append((statement, dict(parameters or {})))

    engine = harness.runtime.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = await staff.client.get(f"/api/v1/staff/orders?{query}", headers=staff.headers)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.text
    plans = []
    async with harness.runtime.db.transaction() as session:
        connection = await session.connection()
        for statement, parameters in sent:
            rows = (await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)).scalars().all()
            plans.append("\n".join(rows))
    return response, plans


@pytest.mark.databases("postgres", why="PostgreSQL's plans and estimates")
async def test_the_list_walks_the_time_index_and_estimates_a_broad_count(
        harness: ServiceHarness, customer: Customer, platform: FakePlatform, staff: Staff, db_backend: str) -> None:
    await _grow(harness, customer, platform)

    response, plans = await _plans(harness, staff, "")
    body = response.json()
    # Past exact_count_limit (1,000): the planner's figure, flagged; the page is still the newest.
    assert response.headers.get("x-count-estimated") == "true"
    assert 0.8 * ORDERS < body["count"] < 1.2 * ORDERS
    assert body["results"][0]["order_number"] == f"ORD-SCALE-{ORDERS}" and len(body["results"]) == 20
    count_plan, page_plan = plans[0], plans[1]
    # The count reads at most exact_count_limit + 1 rows, whatever the table's size.
    assert count_plan.splitlines()[1].strip().startswith("->  Limit") and "rows=1001" in count_plan, count_plan
    assert "ix_customer_order_created" in page_plan and "Sort" not in page_plan and "Seq Scan" not in page_plan, \
        page_plan
    # The next page with the same filters reuses the estimate (`count_estimate_seconds`): no count.
    again, plans = await _plans(harness, staff, "offset=20")
    assert again.json()["count"] == body["count"] and again.headers.get("x-count-estimated") == "true"
    assert len(plans) == 1 and "ix_customer_order_created" in plans[0], plans

    # One day (the last 24 hours: 1,440 orders), as the console asks it.
    response, plans = await _plans(harness, staff, "created_after=" + body["results"][0]["created_at"][:10]
                                   + "T00:00:00Z&limit=5")
    for plan in plans[:2]:
        assert "Seq Scan" not in plan and "Sort" not in plan.replace("Sort Key", ""), plan
    assert "ix_customer_order_created" in plans[1], plans[1]

    # A narrow search is counted exactly, and says so by saying nothing.
    response = await staff.client.get("/api/v1/staff/orders?number=ORD-SCALE-7", headers=staff.headers)
    assert response.json()["count"] == 1 and "x-count-estimated" not in response.headers


async def test_a_small_list_is_counted_exactly(customer: Customer, platform: FakePlatform, staff: Staff) -> None:
    pack = platform.product(kind="credit_pack", price="1.00")
    for _ in range(3):
        await customer.placed(items=[{"product_id": pack["id"]}])
    response = await staff.client.get("/api/v1/staff/orders?limit=2", headers=staff.headers)
    assert response.status_code == 200
    assert response.json()["count"] == 3 and "x-count-estimated" not in response.headers
