"""When a promotion runs is said once in Python (`PromotionTerms.live`) and once in SQL
(`promotions.repository.live_sql`, in the statement every quote and placement runs): both are run
on the same rows of a real database (SQLite, and PostgreSQL when there is one) and must agree,
on the cases the cart's SQL twin is held to too (`atelier_testing.promotion_windows`) and on
windows Hypothesis draws around the boundary instants."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.columns import UtcDateTime, table_of
from atelier_orders.models import Promotion
from atelier_orders.promotions.repository import PromotionRepository, live_sql
from atelier_testing.promotion_windows import CASES, MICRO, NOW, NOW_FRACTION, PARIS, Window

from ..conftest import MIGRATIONS

pytestmark = pytest.mark.databases("sqlite", "postgres", why="the live-now SQL on each dialect")

LIVE = sa_select(table_of(Promotion).c.id).where(live_sql(bindparam("now", type_=UtcDateTime())))


@pytest.fixture
def session(open_session) -> AsyncSession:
    return open_session("orders", MIGRATIONS)


def _promotion(window: Window, storefront: str = "default") -> Promotion:
    return Promotion(storefront=storefront, name="Window", kind="percentage", value=Decimal("10.00"),
                     is_active=window.is_active, starts_at=window.starts_at, ends_at=window.ends_at,
                     created_at=NOW, updated_at=NOW)


async def _sql_and_python(session: AsyncSession, ids: list[uuid.UUID], now: datetime) -> tuple[set, set]:
    """At `now`: the rows the SQL twin picks, and those the Python rule says run, read back as the
    repository reads them (the timestamps after their round trip through the database)."""
    by_sql = {row[0] for row in (await session.execute(LIVE, {"now": now})).all()}
    read = [await PromotionRepository(session).read(promotion_id) for promotion_id in ids]
    by_python = {terms.id for terms in read if terms is not None and terms.live(now)}
    return by_sql, by_python


async def test_the_rule_and_its_sql_twin_answer_every_case(session: AsyncSession) -> None:
    rows = {case.name: _promotion(case.window) for case in CASES}
    session.add_all(rows.values())
    await session.commit()
    ids = [row.id for row in rows.values()]
    wrong = []
    for case in CASES:
        by_sql, by_python = await _sql_and_python(session, ids, case.now)
        promotion_id = rows[case.name].id
        if not (promotion_id in by_sql) == (promotion_id in by_python) == case.runs:
            wrong.append((case.name, promotion_id in by_sql, promotion_id in by_python))
    assert wrong == []


async def test_the_promotions_a_basket_is_priced_with_are_the_live_ones(session: AsyncSession) -> None:
    """`live_of`, the statement a quote and a placement read: each case alone on a storefront."""
    session.add_all([_promotion(case.window, storefront=f"case-{i}") for i, case in enumerate(CASES)])
    await session.commit()
    repository = PromotionRepository(session)
    answers = {case.name: bool(await repository.live_of(f"case-{i}", case.now, None)) for i, case in enumerate(CASES)}
    assert answers == {case.name: case.runs for case in CASES}


# Instants around the boundaries, so that Hypothesis meets a bound exactly (or a microsecond off) often.
_INSTANTS = [at + offset for at in (NOW, NOW_FRACTION)
             for offset in (-timedelta(days=1), -timedelta(seconds=1), -MICRO, timedelta(0), MICRO,
                            timedelta(seconds=1), timedelta(days=1))]
instants = st.one_of(st.sampled_from(_INSTANTS), st.sampled_from(_INSTANTS).map(lambda at: at.astimezone(PARIS)))
windows = st.builds(Window, is_active=st.booleans(), starts_at=st.none() | instants, ends_at=st.none() | instants)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=st.lists(windows, min_size=1, max_size=8), now=instants)
async def test_the_rule_and_its_sql_twin_agree_on_drawn_windows(session: AsyncSession, drawn: list[Window],
                                                                 now: datetime) -> None:
    rows = [_promotion(window) for window in drawn]
    session.add_all(rows)
    await session.flush()  # in this transaction, rolled back: each example sees its own rows only
    try:
        by_sql, by_python = await _sql_and_python(session, [row.id for row in rows], now)
        assert by_sql == by_python, drawn
    finally:
        await session.rollback()

