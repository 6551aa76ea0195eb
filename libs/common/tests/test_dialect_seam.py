"""The dialect seam (`atelier_common.db`: `on_postgres`, `on_sqlite`, `dialect_insert`,
`held_for_write`) is the one place that asks which database a session is on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.db import dialect_insert, held_for_write, on_postgres, on_sqlite

ROOT = Path(__file__).resolve().parents[3]
SEAM = {ROOT / "libs/common/src/atelier_common/db.py"}
FAST = ROOT / "libs/common/src/atelier_common/fast"
ASKS_THE_DIALECT = re.compile(r"\.dialect\.name\b")
_TABLE = Table("things", MetaData(), Column("id", Integer, primary_key=True))


def _sources() -> list[Path]:
    roots = [ROOT / "gateway/src", *ROOT.glob("libs/*/src"), *ROOT.glob("services/*/src")]
    return [path for root in roots for path in root.rglob("*.py")]


def test_only_the_seam_and_the_fast_paths_ask_for_the_dialect() -> None:
    found = [f"{path.relative_to(ROOT)}:{number}" for path in _sources()
             if path not in SEAM and FAST not in path.parents
             for number, line in enumerate(path.read_text().splitlines(), 1) if ASKS_THE_DIALECT.search(line)]
    assert found == [], f"ask atelier_common.db (on_postgres, on_sqlite, dialect_insert, held_for_write): {found}"


def test_the_guard_sees_a_dialect_asked_for() -> None:
    assert ASKS_THE_DIALECT.search('if session.bind.dialect.name == "sqlite":')
    assert len(_sources()) > 300  # every service's and library's sources are read


@pytest.mark.parametrize(("url", "dialect"), [("sqlite+aiosqlite://", sqlite), ("postgresql+psycopg://db/x", postgresql)])
def test_the_seam_answers_for_the_sessions_database(url: str, dialect: object) -> None:
    engine = create_async_engine(url)  # never connected: the dialect is the engine's
    session = AsyncSession(engine)
    postgres = dialect is postgresql
    assert (on_postgres(session), on_sqlite(session)) == (postgres, not postgres)
    assert on_postgres(engine) is postgres
    assert dialect_insert(session) is dialect.insert  # type: ignore[attr-defined]  # both dialect modules have insert
    held = str(held_for_write(select(_TABLE), session, skip_locked=True).compile(dialect=engine.dialect))
    assert ("FOR UPDATE SKIP LOCKED" in held) is postgres
