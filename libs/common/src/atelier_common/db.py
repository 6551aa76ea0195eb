"""Database access: one async engine per service, the unit of work and the request dependency.

The commit happens in exactly one place per entry point: `Database.transaction()` (used by the
request dependency, `inbox.handle_once`, workers and the CLI). Service methods only flush.
Just before it, the steps queued with `before_commit` run in the transaction (the outbox's INSERT);
after every commit the registered hooks run with the session's `info` (the relay publishes the
events the transaction wrote, the cache forgets what it changed, the mail sender wakes).

Requests that only read take `ReadSessionDep` (`Database.read_only`): no transaction at all, each
statement on its own, which saves a BEGIN and a COMMIT round trip per request (see `read_only`).

No pre-ping: the pool does not send `SELECT 1` before every checkout (a round trip per
transaction, on every request and every event). A pooled connection the server closed (a restart,
a failover) is found at checkout without one, its socket readable or closed, and the pool then
replaces it and every connection pooled before it (`_drop_if_dead`). A statement under way when the
server goes fails: the error is transient (a 503 with Retry-After to a client, a redelivery to a
consumer), never retried inside the request, whose COMMIT may or may not have landed; SQLAlchemy
then discards every pooled connection older than the failure too.

The busiest paths run their statements as `Statement`s: on PostgreSQL compiled once and run on
the transaction's psycopg connection (the `statements` fast path, `atelier_common.fast`).

A use case that must keep a record even though it then answers an error (a reused refresh token
revokes its family and answers 401) calls `commit_on_error(session)` before raising: the
transaction is then committed when a domain error (`AtelierError`) leaves it, instead of rolled back.
"""

from __future__ import annotations

import json
import select
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar, cast

import orjson
from fastapi import Depends, Request
from sqlalchemy import ARRAY, ColumnElement, Select, String, Table, any_, bindparam, column, event, func, insert
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as SaAsyncSession
from sqlalchemy.sql import Executable, visitors
from sqlalchemy.sql.dml import UpdateBase
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import fast, metrics
from atelier_common.errors import AtelierError
from atelier_common.fast.statements import Compiled
from atelier_common.settings import DEFAULT_POSTGRES_CONNECT_TIMEOUT_SECONDS, DEFAULT_POSTGRES_OPTIONS, is_sqlite
from atelier_common.state import app_state

# In a session's `info`: an object whose `note(session, table)` hears of every write a `Statement`
# makes (the cache's write tracker; the ORM's writes it hears of through the ORM's own events).
WRITE_TRACKER = "atelier.db.write_tracker"

# In a session's `info`: the steps `before_commit` queued, run in order just before its COMMIT.
_BEFORE_COMMIT = "atelier.db.before_commit"

# Runs after every commit, given the committed session's `info`.
SessionCommitted = Callable[[dict[str, Any]], Awaitable[None]]
# Runs just before a COMMIT is sent, or once it failed; given the session's `info`.
SessionCommitting = Callable[[dict[str, Any]], None]


# (kept, overflow) connections per process role: requests need a few at once; the relay one at a
# time; consumers one per event in flight; the worker one per short step; housekeeping one batch
# at a time. A process's pool is the sum over its roles. The default `atelier up` topology then
# fits within 80 % of PostgreSQL's default max_connections of 100 (`atelier up --plan` prints its
# sum; test_processes.py holds it there). More replicas: raise max_connections or put PgBouncer (transaction pooling) in front.
# Nothing is overflow: the pool closes an overflow connection as soon as it comes back to a full
# pool, so under steady load they were opened and closed all the time (7 % of product-detail
# requests paid for a new PostgreSQL session: ~1,200 → ~830 req/s at 32 callers). The pool still
# opens connections only as they are needed, and then keeps them.
ROLE_POOLS: dict[str, tuple[int, int]] = {"api": (5, 0), "relay": (1, 0), "consumer": (2, 0), "worker": (2, 0),
                                          "housekeeping": (1, 0)}


def pool_for_roles(roles: Iterable[str], pool_size: int | None = None,
                   max_overflow: int | None = None) -> tuple[int, int]:
    """(pool_size, max_overflow) for a process with these roles; explicit settings win."""
    kept = sum(ROLE_POOLS.get(role, (0, 0))[0] for role in roles) or 1
    extra = sum(ROLE_POOLS.get(role, (0, 0))[1] for role in roles)
    return (pool_size if pool_size is not None else kept, max_overflow if max_overflow is not None else extra)


class Database:
    def __init__(self, url: str, *, service: str = "unknown", pool_size: int = 5, max_overflow: int = 5,
                 echo: bool = False, postgres_options: str = DEFAULT_POSTGRES_OPTIONS,
                 connect_timeout: int = DEFAULT_POSTGRES_CONNECT_TIMEOUT_SECONDS) -> None:
        self.url = url
        self.service = service
        self.is_sqlite = is_sqlite(url)
        if self.is_sqlite:
            self.engine: AsyncEngine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
        else:
            # `postgres_options`: session settings, see settings.DEFAULT_POSTGRES_OPTIONS.
            connect_args: dict[str, Any] = {"options": postgres_options} if postgres_options else {}
            # psycopg prepares nothing on its own (a threshold never reached; None would refuse
            # explicit preparing too): a statement it prepared after its fifth run could get
            # PostgreSQL's generic plan, blind to a LIMIT or a search term. A `Statement` is
            # prepared unless its plan depends on its values (`fast.statements.planned_per_run`).
            connect_args["prepare_threshold"] = sys.maxsize
            if connect_timeout and "connect_timeout" not in make_url(url).query:  # the URL's own wins
                connect_args["connect_timeout"] = connect_timeout
            self.engine = create_async_engine(
                url, echo=echo, pool_size=pool_size, max_overflow=max_overflow, pool_recycle=1800,
                connect_args=connect_args, json_deserializer=_json_loads,
            )
            event.listen(self.engine.sync_engine, "checkout", _drop_if_dead(service))
        self.sessionmaker = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        # Same pool; the connection is in autocommit while it serves a reader (PostgreSQL only:
        # SQLite's statements cost no round trip, and its readers never block the writer in WAL).
        readers = self.engine.execution_options(**{_SQLITE_READER: True}) if self.is_sqlite else \
            self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.read_sessionmaker = async_sessionmaker(readers, class_=AsyncSession, expire_on_commit=False)
        self._session_committed: list[SessionCommitted] = []
        self._session_committing: list[SessionCommitting] = []
        self._session_commit_failed: list[SessionCommitting] = []
        # Copied into every session's `info` at its start (the cache's write tracker).
        self.session_info: dict[str, Any] = {}

    def on_session_commit(self, hook: SessionCommitted, *, first: bool = False) -> None:
        """Run `hook(session.info)` after every commit (in the order given; `first`: before the others).
        A hook that awaits shields what it owes from a cancel of the caller (`WriteTracker.committed`)."""
        if first:
            self._session_committed.insert(0, hook)
        else:
            self._session_committed.append(hook)

    def before_session_commit(self, hook: SessionCommitting) -> None:
        """Run `hook(session.info)` just before every COMMIT is sent (the commit may still fail)."""
        self._session_committing.append(hook)

    def on_session_commit_failed(self, hook: SessionCommitting) -> None:
        """Run `hook(session.info)` when a COMMIT raised or was cancelled: the after-commit hooks
        will not run, though the transaction may have committed all the same."""
        self._session_commit_failed.append(hook)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Open a session, commit on success, roll back on error, then run after-commit hooks."""
        async with self.sessionmaker() as session:
            session.info["service"] = self.service
            session.info.update(self.session_info)
            try:
                yield session
                await self._commit(session)
            except AtelierError:
                if not session.info.pop("commit_on_error", False):
                    await session.rollback()
                    raise
                await self._commit(session)
                await self._committed(session)
                raise
            except BaseException:
                await session.rollback()
                raise
            await self._committed(session)

    async def _commit(self, session: AsyncSession) -> None:
        for step in session.info.pop(_BEFORE_COMMIT, ()):
            await step(session)
        for committing in self._session_committing:
            committing(session.info)
        try:
            await session.commit()
        except BaseException:
            # Cancelled under the COMMIT too: a delivery's handler is, when its channel closes.
            for failed in self._session_commit_failed:
                failed(session.info)
            raise

    async def _committed(self, session: AsyncSession) -> None:
        for committed in self._session_committed:
            await committed(session.info)

    @asynccontextmanager
    async def read_only(self) -> AsyncIterator[AsyncSession]:
        """A session for a request that only reads: every statement runs on its own (autocommit).

        Nothing a reader sees changes: at READ COMMITTED, PostgreSQL gives each statement of a
        transaction its own snapshot anyway. What goes is the BEGIN and the COMMIT, two of the
        three round trips of a one-query request. A reader must not write or lock (`FOR UPDATE`
        would hold its lock for one statement only): changed objects left in the session raise.
        """
        async with self.read_sessionmaker() as session:
            session.info["service"] = self.service
            yield session
            if session.new or session.dirty or session.deleted:
                raise RuntimeError("a read-only session was asked to write; use the request's transaction")

    async def ping(self) -> None:
        from sqlalchemy import text

        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


class Statement:
    """A Core statement for the busiest paths, rows back as tuples: `rows(session, params)`,
    `execute(session, params)` (the number of rows changed), `keys` (the result's column names).

    On PostgreSQL, with the `statements` fast path on (`atelier_common.fast.statements`), it is
    compiled once and run on the transaction's own psycopg connection; otherwise (SQLite, or the
    fast path off) SQLAlchemy runs it on the session's connection. Either way: inside the session's
    transaction, after its autoflush, errors as SQLAlchemy's exception classes, writes noted for the
    cache (`WRITE_TRACKER`). Named, non-expanding parameters only (no `IN` lists): the fast path
    refuses others with `TypeError` when the statement is built. `sqlite`: the statement SQLite
    runs instead, where the two dialects' SQL differs (`ON CONFLICT` builders are per dialect).
    `rows_on` / `execute_on` run it on a connection outside any session instead. `per_run`:
    whether PostgreSQL plans it for its values at every run (True) or may keep a plan made once
    per connection (False); by default, decided from its SQL (`fast.statements.planned_per_run`).
    """

    __slots__ = ("_compiled", "_per_run", "keys", "sqlite", "stmt", "tables")

    def __init__(self, stmt: Executable, *, sqlite: Executable | None = None, per_run: bool | None = None) -> None:
        self.stmt = stmt
        self._per_run = per_run
        self.sqlite = sqlite if sqlite is not None else stmt
        self.tables = written_tables(stmt)
        exported = getattr(stmt, "exported_columns", None)
        self.keys: list[str] = list(exported.keys()) if exported is not None else []
        self._compiled: Compiled | None = Compiled(stmt, per_run=per_run) if fast.enabled(fast.STATEMENTS) else None

    async def rows(self, session: AsyncSession, params: dict[str, Any] | None = None) -> list[Any]:
        return (await self._run(session, params or {}, fetch=True))[0]

    async def execute(self, session: AsyncSession, params: dict[str, Any] | None = None) -> int:
        """Run a statement that returns no rows; the number of rows it changed."""
        return (await self._run(session, params or {}, fetch=False))[1]

    async def rows_on(self, conn: AsyncConnection, params: dict[str, Any] | None = None) -> list[Any]:
        """`rows` on a connection outside any session: an autocommit one on PostgreSQL (the
        outbox's mark of what the broker confirmed, the mail sender), whose statements each commit."""
        return (await self._run_on(conn, params or {}, fetch=True))[0]

    async def execute_on(self, conn: AsyncConnection, params: dict[str, Any] | None = None) -> int:
        """`execute` on a connection outside any session (`rows_on`)."""
        return (await self._run_on(conn, params or {}, fetch=False))[1]

    async def _run(self, session: AsyncSession, params: dict[str, Any], *, fetch: bool) -> tuple[list[Any], int]:
        if _needs_flush(session):
            await session.flush()  # as `session.execute` would: the statement may read what waits there
        if self.tables and (tracker := session.info.get(WRITE_TRACKER)) is not None:
            for table in self.tables:
                tracker.note(session.sync_session, table)
        if not fast.enabled(fast.STATEMENTS) or _dialect(session) != "postgresql":
            return await self._plain(await session.connection(), params, fetch=fetch)
        conn, driver = await _connections(session)
        return await self._fast(conn, driver, params, fetch=fetch)

    async def _run_on(self, conn: AsyncConnection, params: dict[str, Any], *, fetch: bool) -> tuple[list[Any], int]:
        if not fast.enabled(fast.STATEMENTS) or conn.dialect.name != "postgresql":
            return await self._plain(conn, params, fetch=fetch)
        assert conn.sync_connection is not None  # started by `engine.connect()`
        return await self._fast(conn, conn.sync_connection.connection.driver_connection, params, fetch=fetch)

    async def _fast(self, conn: AsyncConnection, driver: Any, params: dict[str, Any], *,
                    fetch: bool) -> tuple[list[Any], int]:
        if self._compiled is None:
            self._compiled = Compiled(self.stmt, per_run=self._per_run)
        return await self._compiled.run(conn, driver, params, fetch=fetch)

    async def _plain(self, conn: AsyncConnection, params: dict[str, Any], *, fetch: bool) -> tuple[list[Any], int]:
        """SQLAlchemy's own execution (a Core result, whatever the statement selects; the ORM's
        `session.execute` would answer some with an ORM result)."""
        result: Any = await conn.execute(self.sqlite if conn.dialect.name == "sqlite" else self.stmt, params)
        if not result.returns_rows:
            return [], result.rowcount
        rows = list(result) if fetch else []
        return rows, len(rows) if fetch else result.rowcount


def written_tables(stmt: Executable) -> tuple[str, ...]:
    """The tables `stmt` writes, its data-modifying CTEs' too (a SELECT over an INSERT … RETURNING,
    an UPDATE beside it): what a write tracker must hear of."""
    return tuple(dict.fromkeys(node.table.name for node in visitors.iterate(cast(Any, stmt))
                               if isinstance(node, UpdateBase) and isinstance(node.table, Table)))


def one_of(column: Any, name: str, *, postgres: bool = True) -> ColumnElement[bool]:
    """`column` equals one of the values of the list parameter `name`. PostgreSQL: `= ANY(array)`,
    the same SQL whatever the list's length, as a `Statement` needs (no IN lists); SQLite, which has
    no arrays: an IN list (a `Statement`'s `sqlite=` twin)."""
    if not postgres:
        return cast(ColumnElement[bool], column.in_(bindparam(name, expanding=True)))
    # Strings as VARCHAR[] whatever the column's length (SQLModel's are `AutoString`s of a
    # `String`): a cast to VARCHAR(n)[] would cut a longer value, which could then match a row.
    element = String() if isinstance(getattr(column.type, "impl_instance", column.type), String) else column.type
    return cast(ColumnElement[bool], column == any_(bindparam(name, type_=ARRAY(element))))


def unnested(name: str, columns: Mapping[str, tuple[str, Any]]) -> Any:
    """PostgreSQL: rows given as one array parameter per column, read back by `unnest` as the rows of
    `name` (`unnest(:a, :b) AS name(x, y)`): the same SQL whatever the number of rows, as a
    `Statement` needs (no executemany). `columns`: each column's name → (its parameter's name, its
    type); the arrays are typed, so a NULL element keeps its column's type."""
    return (func.unnest(*[bindparam(parameter, type_=ARRAY(type_)) for parameter, type_ in columns.values()])
            .table_valued(*[column(column_name, type_) for column_name, (_, type_) in columns.items()])
            .render_derived(name=name))


def written(value: str) -> Any:
    """`value` written into the SQL as a string literal (`literal_execute`), not bound: for a
    statement's own constants (a storefront's scope in catalog's statements, built once per
    storefront), which a plan PostgreSQL keeps then sees (`fast.statements.planned_per_run`).
    Never for client text: that stays bound."""
    return bindparam(None, value, type_=String, literal_execute=True)


def insert_row(table: Table) -> Statement:
    """An INSERT of one row of `table`, every column bound by its own name (a row's values, a
    model's `model_dump()`): a Statement applies no column default, so every value is given."""
    return Statement(insert(table).values({column.name: bindparam(column.name) for column in table.c}))


def _dialect(session: SaAsyncSession) -> str | None:
    # The sync session's attributes: the async session's and engine's proxies cost more, before every Statement.
    bind = session.sync_session.bind
    return bind.dialect.name if bind is not None else None


# The dialect seam: the one place that asks which database a session is on (a test holds it,
# libs/common/tests/test_dialect_seam.py). PostgreSQL has row locks and many writers; SQLite (the
# embedded mode) has one writer, whose write lock every write transaction takes, and ignores
# FOR UPDATE. Repositories choose their SQL with these; use cases never do.

Bound = SaAsyncSession | AsyncConnection | AsyncEngine | Connection | Engine
_Select = TypeVar("_Select", bound=Select[Any])


def dialect_name(where: Bound) -> str | None:
    """"postgresql", "sqlite", or None for a session bound to nothing."""
    if isinstance(where, SaAsyncSession):
        return _dialect(where)
    # An engine or connection has its dialect; a session (a test's stand-in too) its bind's, if bound.
    dialect = getattr(where, "dialect", None) or getattr(getattr(where, "bind", None), "dialect", None)
    return dialect.name if dialect is not None else None


def on_postgres(where: Bound) -> bool:
    return dialect_name(where) == "postgresql"


def on_sqlite(where: Bound) -> bool:
    return dialect_name(where) == "sqlite"


def dialect_insert(where: Bound) -> Callable[..., Any]:
    """The dialect's INSERT, which has `on_conflict_do_nothing` / `on_conflict_do_update` (an upsert)."""
    return pg_insert if on_postgres(where) else sqlite_insert


def held_for_write(stmt: _Select, where: Bound, **lock: Any) -> _Select:
    """`stmt` holding the rows it reads until the transaction ends: `FOR UPDATE` with `lock`'s
    options (`of`, `skip_locked`, `key_share`) on PostgreSQL. On SQLite the statement as it is:
    one writer at a time, and the transaction's first write takes the database's lock."""
    return stmt.with_for_update(**lock) if on_postgres(where) else stmt


def _needs_flush(session: AsyncSession) -> bool:
    """Whether autoflush would flush now. Asked before every Statement: `session.dirty` builds a
    set of the whole identity map's changed objects, where "any object changed" is all it needs."""
    sync = session.sync_session
    return sync.autoflush and bool(sync.identity_map.check_modified() or sync.new or sync.deleted)


_CONNECTIONS = "atelier.db.connections"


async def _connections(session: AsyncSession) -> tuple[AsyncConnection, Any]:
    """The session's connection and its psycopg connection, looked up once per transaction and
    savepoint: each lookup is a greenlet hop of SQLAlchemy's (~20 µs apiece). A savepoint's
    own lookup is what makes SQLAlchemy send its SAVEPOINT, which it does only when the
    connection is next asked for."""
    sync = session.sync_session
    transaction = sync.get_nested_transaction() or sync.get_transaction()
    known = session.info.get(_CONNECTIONS)
    if known is not None and transaction is not None and known[0] is transaction:
        return known[1], known[2]
    conn = await session.connection()
    # What `get_raw_connection()` answers, without its greenlet hop: the connection was just
    # checked out and begun, so reading it does no I/O.
    assert conn.sync_connection is not None  # started by `session.connection()`
    driver = conn.sync_connection.connection.driver_connection
    session.info[_CONNECTIONS] = (sync.get_nested_transaction() or sync.get_transaction(), conn, driver)
    return conn, driver


def before_commit(session: AsyncSession, step: Callable[[AsyncSession], Awaitable[None]]) -> None:
    """Run `step(session)` once, in this transaction, just before its COMMIT (after the use case
    has returned): the outbox writes a transaction's events there, in one INSERT."""
    session.info.setdefault(_BEFORE_COMMIT, []).append(step)


def commit_on_error(session: AsyncSession) -> None:
    """Keep what this transaction wrote even if the use case now raises a domain error."""
    session.info["commit_on_error"] = True


def _json_loads(data: str | bytes) -> Any:
    """JSON and JSONB values as read from PostgreSQL (a product page's images and variants come
    back as JSON): orjson parses them in a fraction of the standard library's time. It would turn
    an integer beyond 64 bits into a float, which JSON does not: text with a run of 19 digits or
    more (rare) goes to the standard library. The run is looked for with `translate` (every digit
    to "0", anything else to " "), which scans a page's JSON faster than a regular expression."""
    raw = data.encode() if isinstance(data, str) else data
    if _LONG_DIGIT_RUN not in raw.translate(_DIGITS_ONLY):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:  # numbers beyond a double (1e400), which the library reads as inf
            pass
    return json.loads(raw)


_DIGITS_ONLY = bytes(ord("0") if byte in b"0123456789" else ord(" ") for byte in range(256))
_LONG_DIGIT_RUN = b"0" * 19


def _drop_if_dead(service: str) -> Callable[[Any, Any, Any], None]:
    """The pool's `checkout` hook: a pooled connection the server has closed is replaced, with every
    connection pooled before it (they went with the same server), before any statement is sent on
    it. An idle connection has nothing to read unless the server said goodbye (a shutdown, a
    terminated backend) or the socket was closed, so a readable socket is a dead connection: a
    poll, not a round trip. What it cannot see (a server gone without closing its sockets) fails
    its first statement as before."""

    def check(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        driver = dbapi_connection.driver_connection
        if driver.closed or driver.broken or _readable(driver.pgconn.socket):
            metrics.DB_CONNECTIONS_DROPPED.labels(service).inc()
            # Handled by the pool: it invalidates every connection pooled before now and retries the
            # checkout on a new connection.
            raise sa_exc.InvalidatePoolError("the server closed this pooled connection")

    return check


def _readable(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


# An execution option of the SQLite reader sessions: their transactions begin deferred.
_SQLITE_READER = "atelier_sqlite_reader"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers and the one writer work at once; the busy timeout queues writers.
    dbapi_conn.isolation_level = None  # the driver sends no BEGIN of its own: `_sqlite_begin` does
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    """Every transaction begins at its first statement, as on PostgreSQL; one that may write takes
    SQLite's write lock there, waiting its turn (the busy timeout). The driver's own BEGIN came only
    before the first write: what the transaction had read was outside it (two read-then-write
    transactions at once lost an update), and a writer committing in between made SQLite refuse
    at once, whatever the timeout ("database is locked")."""
    # On the driver's connection, as psycopg's BEGIN is: not one of the statements counted.
    cursor = conn.connection.dbapi_connection.cursor()
    cursor.execute("BEGIN" if conn.get_execution_options().get(_SQLITE_READER) else "BEGIN IMMEDIATE")
    cursor.close()


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    db = app_state(request.app, "db", Database)
    async with db.transaction() as session:
        yield session


async def _read_session(request: Request) -> AsyncIterator[AsyncSession]:
    db = app_state(request.app, "db", Database)
    async with db.read_only() as session:
        yield session


# The session of one request: committed after the route returns, before the response is sent.
SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]
# The session of a request that only reads (`Database.read_only`): no transaction to commit.
ReadSessionDep = Annotated[AsyncSession, Depends(_read_session, scope="function")]
