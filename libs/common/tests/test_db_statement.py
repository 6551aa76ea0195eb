"""`db.Statement`: a Core statement run on the transaction's psycopg connection must behave as if
SQLAlchemy had run it — same rows, same transaction, same errors, still seen by the statement
counters and the cache's write tracker — and fall back to SQLAlchemy on SQLite. Every test runs
with the `statements` fast path on and off (`ATELIER_FAST_PATHS`)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    TypeDecorator,
    Uuid,
    bindparam,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import registry

from atelier_common import fast
from atelier_common.db import WRITE_TRACKER, Database, Statement, written
from atelier_common.fast.statements import Compiled
from atelier_common.transient import is_transient
from atelier_testing.statements import statements

pytestmark = pytest.mark.databases("sqlite", "postgres", why="the statement layer's SQL on each dialect")


class Shouted(TypeDecorator[str]):
    """A type that converts what it reads: `Statement` must apply it as SQLAlchemy would."""

    impl = String
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else value.upper()


METADATA = MetaData()
THING = Table(f"statement_test_{uuid.uuid4().hex[:8]}", METADATA,
              Column("id", Uuid, primary_key=True),
              Column("name", String(40), nullable=False, unique=True),
              Column("price", Numeric(12, 2), nullable=False),
              Column("made_at", DateTime(timezone=True), nullable=False),
              Column("extra", JSON, nullable=True),
              Column("label", Shouted(40), nullable=True),
              Column("count", Integer, nullable=False, server_default="0"))


class Thing:
    """The table as an ORM class: a row pending in the session (`test_it_sees_what_waits_in_the_session`)."""

    def __init__(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, value)


registry().map_imperatively(Thing, THING)

INSERT = Statement(insert(THING).values(id=bindparam("id"), name=bindparam("name"), price=bindparam("price"),
                                        made_at=bindparam("made_at"), extra=bindparam("extra"), label=literal("quiet")))
BY_NAME = Statement(select(THING.c.id, THING.c.price, THING.c.made_at, THING.c.extra, THING.c.label,
                           literal(7).label("seven")).where(THING.c.name == bindparam("name")))
BUMP = Statement(update(THING).where(THING.c.price < bindparam("below")).values(count=THING.c.count + 1))
BUMP_ONE = Statement(update(THING).where(THING.c.name == bindparam("which")).values(count=THING.c.count + 1)
                     .returning(THING.c.count))


@pytest.fixture(autouse=True, params=["all", "none"], ids=["fast", "plain"])
def fast_path(request: pytest.FixtureRequest) -> Iterator[str]:
    fast.switch(request.param)
    yield request.param
    fast.switch(None)


# Selected through the mapped class's attributes, as a repository may (`session.execute` would give
# an ORM result here, not rows).
ORM_BY_NAME = Statement(select(Thing.id, Thing.price)  # type: ignore[attr-defined]  # mapped imperatively
                        .where(Thing.name == bindparam("name")))  # type: ignore[attr-defined]  # mapped imperatively


class Tracker:
    def __init__(self) -> None:
        self.tables: list[str | None] = []

    def note(self, session: Any, table: str | None) -> None:
        self.tables.append(table)


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.infra), "sqlite"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_server_url")
        database = Database(f"{url}/postgres".replace("postgresql://", "postgresql+psycopg://", 1), service="test")
    else:
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'statement.db'}", service="test")
    async for ready in _with_table(database):
        yield ready


@pytest.fixture
async def postgres_db(postgres_server_url: str) -> AsyncIterator[Database]:
    url = f"{postgres_server_url}/postgres".replace("postgresql://", "postgresql+psycopg://", 1)
    async for ready in _with_table(Database(url, service="test")):
        yield ready


async def _with_table(database: Database) -> AsyncIterator[Database]:
    async with database.engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
    yield database
    async with database.engine.begin() as conn:
        await conn.run_sync(METADATA.drop_all)
    await database.dispose()


def _row(name: str, price: str = "12.50") -> dict[str, Any]:
    return {"id": uuid.uuid4(), "name": name, "price": Decimal(price), "made_at": datetime(2026, 11, 24, 5, 0, tzinfo=UTC),
            "extra": {"tags": ["marble", "tile"], "size": 60}}


async def test_rows_are_what_sqlalchemy_reads(db: Database) -> None:
    row = _row("carrara")
    async with db.transaction() as session:
        await INSERT.execute(session, row)
        ours = await BY_NAME.rows(session, {"name": "carrara"})
        theirs = (await (await session.connection()).execute(BY_NAME.stmt, {"name": "carrara"})).all()
    assert [tuple(r) for r in theirs] == ours
    [(id_, price, made_at, extra, label, seven)] = ours
    assert (id_, price, extra, label, seven) == (row["id"], Decimal("12.50"), row["extra"], "QUIET", 7)
    assert made_at.replace(tzinfo=UTC) == row["made_at"]  # SQLite keeps no time zone
    assert BY_NAME.keys == ["id", "price", "made_at", "extra", "label", "seven"]


async def test_a_statement_over_mapped_attributes_gives_rows(db: Database) -> None:
    row = _row("statuario")
    async with db.transaction() as session:
        await INSERT.execute(session, row)
        assert await ORM_BY_NAME.rows(session, {"name": "statuario"}) == [(row["id"], Decimal("12.50"))]
    assert ORM_BY_NAME.keys == ["id", "price"]


async def test_it_runs_inside_the_sessions_transaction(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await INSERT.execute(session, _row("nero"))
            assert await BY_NAME.rows(session, {"name": "nero"})  # seen by the same transaction
            raise RuntimeError("roll it back")
    async with db.transaction() as session:
        assert await BY_NAME.rows(session, {"name": "nero"}) == []  # and gone with it


async def test_counts_and_returning(db: Database) -> None:
    async with db.transaction() as session:
        for name, price in (("a", "1.00"), ("b", "2.00"), ("c", "30.00")):
            await INSERT.execute(session, _row(name, price))
        assert await BUMP.execute(session, {"below": Decimal("10")}) == 2
        assert await BUMP_ONE.rows(session, {"which": "a"}) == [(2,)]
        assert await BUMP_ONE.rows(session, {"which": "missing"}) == []


async def test_errors_are_sqlalchemys(db: Database) -> None:
    async with db.transaction() as session:
        await INSERT.execute(session, _row("twice"))
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            await INSERT.execute(session, _row("twice"))
    async with db.transaction() as session:  # the pool's connection is usable again
        assert len(await BY_NAME.rows(session, {"name": "twice"})) == 1


async def test_counted_and_tracked(db: Database) -> None:
    tracker = Tracker()
    with statements(db, "statement") as seen:
        async with db.transaction() as session:
            session.info[WRITE_TRACKER] = tracker
            await INSERT.execute(session, _row("seen"))
            await BY_NAME.rows(session, {"name": "seen"})
    assert [text.split()[0] for text in seen] == ["INSERT", "SELECT"]
    assert set(tracker.tables) == {THING.name}  # the write, not the read


def test_the_tables_a_statement_writes_include_its_ctes_writes() -> None:
    added = insert(THING).values(id=bindparam("id"), name=bindparam("name")).returning(THING.c.id).cte("added")
    assert Statement(select(added.c.id)).tables == (THING.name,)
    assert BY_NAME.tables == ()


def test_expanding_parameters_are_refused(fast_path: str) -> None:
    if fast_path == "none":
        pytest.skip("the plain path runs what SQLAlchemy runs")
    with pytest.raises(TypeError, match="non-expanding"):
        Statement(select(THING.c.id).where(THING.c.name.in_(bindparam("names", expanding=True))))


@pytest.mark.infra
async def test_a_lost_connection_is_transient_and_leaves_the_pool(postgres_db: Database) -> None:
    db = postgres_db
    async with db.transaction() as session:
        await INSERT.execute(session, _row("kept"))
    with pytest.raises(DBAPIError) as raised:
        async with db.transaction() as session:
            pid = (await Statement(select(func.pg_backend_pid())).rows(session))[0][0]
            async with db.engine.connect() as other:
                await other.execute(select(func.pg_terminate_backend(pid)))
            await BY_NAME.rows(session, {"name": "kept"})
    assert raised.value.connection_invalidated and is_transient(raised.value)
    async with db.transaction() as session:  # a new connection serves the next transaction
        assert len(await BY_NAME.rows(session, {"name": "kept"})) == 1


async def test_it_sees_what_waits_in_the_session(db: Database) -> None:
    # As `session.execute` would, it flushes the session's pending rows first.
    row = _row("pending")
    async with db.transaction() as session:
        session.add(Thing(**row))
        assert len(await BY_NAME.rows(session, {"name": "pending"})) == 1


async def test_it_sees_what_the_session_changed_or_deleted(db: Database) -> None:
    async with db.transaction() as session:
        session.add(Thing(**_row("before")))
    async with db.transaction() as session:
        thing = (await session.execute(select(Thing))).scalar_one()
        thing.name = "after"
        assert len(await BY_NAME.rows(session, {"name": "after"})) == 1
        await session.delete(thing)
        assert await BY_NAME.rows(session, {"name": "after"}) == []


async def test_a_savepoints_rollback_takes_back_what_it_wrote(db: Database) -> None:
    # Even when the transaction ran a Statement before the savepoint (its connection looked up
    # then): SQLAlchemy sends the SAVEPOINT only when the connection is next asked for.
    async with db.transaction() as session:
        await INSERT.execute(session, _row("kept"))
        savepoint = await session.begin_nested()
        await INSERT.execute(session, _row("taken back"))
        await savepoint.rollback()
        await INSERT.execute(session, _row("after"))
    async with db.transaction() as session:
        assert len(await BY_NAME.rows(session, {"name": "kept"})) == 1
        assert await BY_NAME.rows(session, {"name": "taken back"}) == []
        assert len(await BY_NAME.rows(session, {"name": "after"})) == 1


@pytest.mark.infra
async def test_it_runs_on_an_autocommit_connection_of_its_own(postgres_db: Database) -> None:
    async with postgres_db.transaction() as session:
        await INSERT.execute(session, _row("cheap", "5.00"))
        await INSERT.execute(session, _row("dear", "50.00"))
    async with postgres_db.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
        assert await BUMP.execute_on(conn, {"below": Decimal("10")}) == 1
    async with postgres_db.engine.connect() as other:  # committed on its own
        counts = dict((await other.execute(select(THING.c.name, THING.c.count))).all())
    assert counts == {"cheap": 1, "dear": 0}


@pytest.mark.infra
async def test_each_transaction_of_a_session_uses_its_own_connection(postgres_db: Database) -> None:
    # The connection is looked up once per transaction: after a commit, the session's next one.
    backend = Statement(select(func.pg_backend_pid()))
    async with postgres_db.sessionmaker() as session:
        first = await backend.rows(session)
        await session.commit()  # its connection goes back to the pool…
        async with postgres_db.engine.connect() as other:  # …and is taken by someone else
            assert (await other.execute(select(func.pg_backend_pid()))).all() == first
            ours = await backend.rows(session)
            assert ours != first
            assert ours == (await session.execute(select(func.pg_backend_pid()))).all()


def test_a_plan_is_kept_unless_it_depends_on_the_values_of_a_run() -> None:
    # Prepared (PostgreSQL may keep one plan) unless a LIMIT or an OFFSET is given per run, or a
    # pattern or a text search is there; a LIMIT the statement fixes itself is written in as a literal.
    fixed = Compiled(select(THING.c.name).order_by(THING.c.name).limit(1).offset(2))
    assert fixed.sql.endswith("LIMIT 1 OFFSET 2") and fixed.prepare
    assert "param" not in " ".join(fixed._defaults)
    assert not Compiled(select(THING.c.name).limit(bindparam("n"))).prepare
    assert not Compiled(select(THING.c.name).where(THING.c.name.like(bindparam("pattern")))).prepare
    assert not Compiled(select(THING.c.name).where(THING.c.name.like("%,shop,%"))).prepare
    assert Compiled(select(THING.c.name).where(THING.c.name.like("%,shop,%")), per_run=False).prepare
    # A pattern written into the SQL (`literal_execute`) is seen by any plan; one built from it and
    # a value given per run is not.
    scoped = Compiled(select(THING.c.name).where(THING.c.name.like(written("%,o'b,%"), escape="\\")))
    assert "LIKE '%%,o''b,%%' ESCAPE" in scoped.sql and scoped.prepare
    assert not [name for name in scoped._defaults if name.startswith("param")]
    assert not Compiled(select(THING.c.name).where(THING.c.name.like(written("%") + bindparam("part")))).prepare
    assert not Compiled(select(THING.c.name).where(THING.c.name == bindparam("name")), per_run=True).prepare


async def test_a_value_written_into_the_sql_selects_as_a_bound_one_would(db: Database) -> None:
    # Quotes, backslashes and `%` in the value: escaped for the SQL as SQLAlchemy's execution does.
    odd = "50% o'brien \\ _x"
    odd_one = Statement(select(THING.c.name).where(THING.c.name.like(written(odd.replace("_", "!_")), escape="!"),
                                                    THING.c.name != written("'; DROP TABLE x; --")))
    async with db.transaction() as session:
        for name in (odd, "50% o'brien \\ yx", "other"):
            await INSERT.execute(session, _row(name))
        assert await odd_one.rows(session) == [(odd,)]


@pytest.mark.infra
async def test_statements_are_prepared_and_those_planned_per_run_are_not(postgres_db: Database, fast_path: str) -> None:
    # What psycopg prepared on the session's connection: a keyed Statement (and one whose LIMIT is
    # its own) at its first run; one with a LIMIT given per run, and whatever SQLAlchemy runs
    # itself, never (psycopg prepares nothing on its own, `Database`), so PostgreSQL plans those
    # for their values every time.
    first = Statement(select(THING.c.name, literal(8).label("eight")).order_by(THING.c.name).limit(1))
    limited = Statement(select(THING.c.name).where(THING.c.price < bindparam("below")).order_by(THING.c.name)
                        .limit(bindparam("n")))
    scoped = Statement(select(THING.c.name).where(THING.c.name.like(written("che%"))))
    prepared = text("SELECT statement FROM pg_prepared_statements")
    async with postgres_db.transaction() as session:
        await INSERT.execute(session, _row("cheap", "5.00"))
        for _ in range(6):  # past psycopg's default threshold of five
            assert len(await BY_NAME.rows(session, {"name": "cheap"})) == 1
            assert await first.rows(session) == [("cheap", 8)]
            assert await scoped.rows(session) == [("cheap",)]
            assert len(await limited.rows(session, {"below": Decimal("10"), "n": 5})) == 1
            assert len((await session.execute(select(THING.c.id).where(THING.c.name == "cheap"))).all()) == 1
        seen = [row[0] for row in (await session.execute(prepared)).all()]
    ours = [sql for sql in seen if THING.name in sql]
    if fast_path == "all":
        assert len([sql for sql in ours if "seven" in sql]) == 1, seen  # BY_NAME names its literal column
        assert len([sql for sql in ours if "LIMIT 1" in sql]) == 1, seen
        assert len([sql for sql in ours if "LIKE 'che%'" in sql]) == 1, seen
        assert len(ours) == 4, seen  # and INSERT
    else:
        assert ours == [], seen
