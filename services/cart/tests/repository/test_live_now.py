"""The cart's SQL twin of when a promotion runs (`promotions.live_window`), run on rows of a real
database (SQLite, and PostgreSQL when there is one) against the cases orders' rule is held to
(`atelier_testing.promotion_windows`): the cart cannot import orders, so the same cases stand
between them. Through the statement the hot path runs too (`PromotionCodes.state`)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_cart.models import PromotionWindow
from atelier_cart.promotions import PromotionCodes, live_window
from atelier_common.columns import UtcDateTime, table_of
from atelier_testing.promotion_windows import CASES, NOW, Case

from ..conftest import MIGRATIONS

pytestmark = pytest.mark.databases("sqlite", "postgres", why="the live-now SQL on each dialect")

WINDOWS = table_of(PromotionWindow).c


@pytest.fixture
def session(open_session) -> AsyncSession:
    return open_session("cart", MIGRATIONS)


def _window(case: Case, storefront: str = "default") -> PromotionWindow:
    return PromotionWindow(promotion_id=uuid.uuid4(), storefront=storefront, automatic=True,
                           is_active=case.window.is_active, starts_at=case.window.starts_at,
                           ends_at=case.window.ends_at, updated_at=NOW)


async def test_the_sql_twin_answers_every_case(session: AsyncSession) -> None:
    windows = {case.name: _window(case) for case in CASES}
    session.add_all(windows.values())
    await session.commit()
    live = sa_select(WINDOWS.promotion_id).where(live_window(bindparam("now", type_=UtcDateTime())))
    wrong = []
    for case in CASES:
        running = {row[0] for row in (await session.execute(live, {"now": case.now})).all()}
        if (windows[case.name].promotion_id in running) != case.runs:
            wrong.append(case.name)
    assert wrong == []


async def test_a_cart_asks_orders_exactly_while_an_automatic_promotion_runs(session: AsyncSession) -> None:
    # One storefront per case: `state` answers whether any automatic promotion runs there now.
    session.add_all([_window(case, storefront=f"case-{i}") for i, case in enumerate(CASES)])
    await session.commit()
    codes = PromotionCodes(session)
    answers = {case.name: (await codes.state(uuid.uuid4(), f"case-{i}", case.now)).live
               for i, case in enumerate(CASES)}
    assert answers == {case.name: case.runs for case in CASES}
