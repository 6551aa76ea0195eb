"""pytest fixtures shared by every service's tests and the end-to-end tests."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.db import Database
from atelier_common.fast.routes import share_route_contexts
from atelier_common.migrations import upgrade
from atelier_common.settings import DEV_SECRET
from atelier_testing.infra import amqp_server, postgres_from_env, postgres_server, redis_server, unavailable
from atelier_testing.timings import LANE_PROPERTY
from atelier_testing.tokens import TestKeys

# The run's timing table (per worker and folder) at the end of every run.
pytest_plugins = ["atelier_testing.timings"]

# With pytest-xdist (`make test`: `-n 3 --dist loadgroup`), the end-to-end tests that start a
# distributed platform run in two lanes, each on one worker, one test after another: such a
# platform holds ~44 PostgreSQL connections and a test's own beside it at most ~21, so two lanes
# stay under ~130 (CI's max_connections is 300). A whole file goes to one lane (its module-scoped
# platforms start once), the files dealt out by their number of such tests, the largest first.
# One lane held all ~254 such tests, mostly waiting on its platforms; two lanes overlap the waits.
DISTRIBUTED_LANE = "distributed"
DISTRIBUTED_LANES = 2


def starts_a_distributed_platform(item: pytest.Item) -> bool:
    """A distributed-mode end-to-end test, or one marked `distributed_lane` (the failover test's
    clusters). Not `xdist_group` itself: xdist joins every group a test is marked with into one
    name, which would make such a test a group of its own, run last."""
    if "tests-e2e" not in item.path.parts:
        return False
    if item.get_closest_marker("distributed_lane") is not None:
        return True
    callspec = getattr(item, "callspec", None)
    params = callspec.params.values() if callspec is not None else ()
    return "distributed" in params or "postgres_server_url" in getattr(item, "fixturenames", ())


def distributed_lanes(items: list[pytest.Item], lanes: int = DISTRIBUTED_LANES) -> dict[pytest.Item, str]:
    """Each test that starts a distributed platform → its lane's group name. Every worker collects the
    same items, so every worker computes the same lanes."""
    by_file: dict[Path, list[pytest.Item]] = {}
    for item in items:
        if starts_a_distributed_platform(item):
            by_file.setdefault(item.path, []).append(item)
    load = [0] * lanes
    out: dict[pytest.Item, str] = {}
    for path in sorted(by_file, key=lambda path: (-len(by_file[path]), str(path))):
        lane = load.index(min(load))
        load[lane] += len(by_file[path])
        out.update((item, f"{DISTRIBUTED_LANE}-{lane + 1}") for item in by_file[path])
    return out


# Where a test runs (docs/development.md#where-each-test-runs): an end-to-end test in the
# distributed mode, the one that exercises more (processes, PostgreSQL, RabbitMQ, Redis), and a
# service test on SQLite, the cheaper one (the distributed journeys run on PostgreSQL), unless a
# marker names more and why: `@pytest.mark.modes("embedded", "distributed", why=...)` where the
# mode changes what the test checks, `@pytest.mark.databases("sqlite", "postgres", why=...)` where
# the SQL differs by dialect. ATELIER_TEST_EVERY_MODE=1 runs every unmarked test everywhere.
CHOICES = {"mode": ("modes", ("embedded", "distributed"), ("distributed",)),
           "db_backend": ("databases", ("sqlite", "postgres"), ("sqlite",))}
EVERY_MODE_ENV = "ATELIER_TEST_EVERY_MODE"


def runs_in(definition: pytest.Function | Any, marker_name: str, known: tuple[str, ...],
            default: tuple[str, ...]) -> list[str]:
    """The values a test's marker names (checked: known names and a `why`), else the default (all
    of them with ATELIER_TEST_EVERY_MODE: a marker already says where a test means something)."""
    marker = definition.get_closest_marker(marker_name)
    if marker is None:
        return list(known) if os.environ.get(EVERY_MODE_ENV, "") in {"1", "true", "yes"} else list(default)
    names = list(marker.args)
    if not names or not set(names) <= set(known) or not marker.kwargs.get("why"):
        raise pytest.UsageError(f"{definition.nodeid}: @pytest.mark.{marker_name}(...) names some of {known} "
                                f"and says why (why=...), got {marker.args} {marker.kwargs}")
    return names


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for fixture, (marker_name, known, default) in CHOICES.items():
        if fixture in metafunc.fixturenames:
            metafunc.parametrize(fixture, runs_in(metafunc.definition, marker_name, known, default), indirect=True)


def long_tail_first(items: list[pytest.Item]) -> None:
    """The long tests (`@pytest.mark.long_tail(why=...)`: fuzzing, failover, load) first, in place.
    xdist's `loadgroup` hands out the lanes (the largest groups) first, then the other tests in this
    order, and a lane runs its tests in this order too: a long test starts at once beside the rest
    instead of being the run's tail on one worker. Every worker sorts the same way."""
    items.sort(key=lambda item: item.get_closest_marker("long_tail") is None)


def no_later_test_needs(item: pytest.Item, nextitem: pytest.Item | None,
                         needs: Callable[[pytest.Item], bool]) -> bool:
    """Whether no test this process runs after `item` needs what `needs` names. Alone, pytest knows
    the whole order; a pytest-xdist worker knows only its next test, and the tests come in the
    collection's order (a lane whole), so a next test that does not need it (and is not one of the
    long tail, sorted first) says the rest will not either. A wrong guess costs a restart, not a
    failure: a session fixture ended early is set up again by the next test that asks for it."""
    if nextitem is None:
        return True
    if hasattr(item.config, "workerinput"):
        return not needs(nextitem) and nextitem.get_closest_marker("long_tail") is None
    last = _last_needing.get(needs)
    if last is None:
        order = {each: i for i, each in enumerate(item.session.items)}
        last = _last_needing[needs] = (order, max((i for each, i in order.items() if needs(each)), default=-1))
    order, last_index = last
    return order[nextitem] > last_index


# Per `needs`: the run's order of tests and the index of the last test needing it (pytest alone).
_last_needing: dict[Callable[[pytest.Item], bool], tuple[dict[pytest.Item, int], int]] = {}


def end_session_fixture(item: pytest.Item, name: str) -> None:
    """End the session fixture `name` now if it is set up (its dependants first, as pytest ends
    them), instead of at the end of the run: a platform idle for the rest of a run costs every test
    after it some CPU (docs/development.md#tests). pytest's own teardown, through its fixture
    manager (held by libs/testing/tests/test_session_fixture_end.py)."""
    for fixturedef in item.session._fixturemanager.getfixturedefs(name, item) or ():
        if fixturedef.cached_result is not None:
            # What finishing reads of its request: the node (its hooks) and the config (--setup-show).
            fixturedef.finish(cast(Any, SimpleNamespace(node=item, config=item.config)))


def pytest_configure(config: pytest.Config) -> None:
    # Every service test starts apps of the same routers: one route state each (atelier_common.fast.routes).
    share_route_contexts()


@pytest.hookimpl(tryfirst=True)  # before xdist's own, which reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    long_tail_first(items)
    for item, lane in distributed_lanes(items).items():
        item.add_marker(pytest.mark.xdist_group(lane))
        item.user_properties.append((LANE_PROPERTY, lane))  # for the timing table


@pytest.fixture(scope="session")
def test_keys() -> TestKeys:
    return TestKeys()


@pytest.fixture
def namespace() -> str:
    """A prefix of this test's own for the RabbitMQ exchange and queues its bus declares."""
    return f"t{uuid.uuid4().hex[:8]}."


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A real PostgreSQL server (no database name); infra tests only."""
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    with amqp_server() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis server (the shared cache, rate limits); infra tests only."""
    with redis_server() as url:
        yield url


@pytest.fixture
def db_backend(request: pytest.FixtureRequest) -> str:
    """The database this run of a service test uses: the ones its `databases` marker names (SQLite
    without one), parametrized by `pytest_generate_tests`."""
    backend: str = request.param
    return backend


@pytest.fixture(scope="module")
def mode(request: pytest.FixtureRequest) -> str:
    """The run mode (`embedded`, `distributed`) this run of an end-to-end test uses: the ones its
    `modes` marker names (distributed without one), parametrized by `pytest_generate_tests`."""
    name: str = request.param
    return name


class _PostgresDatabases:
    """One database per service per test session, migrated once, emptied before each test."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url.rstrip("/")
        self.migrated: set[str] = set()
        self.run = uuid.uuid4().hex[:6]

    def url(self, name: str, migrations: Path) -> str:
        url = f"{self.server_url}/atelier_test_{name}_{self.run}"
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        if name not in self.migrated:
            upgrade(migrations, url)
            self.migrated.add(name)
        else:
            self._truncate(url)
        return url

    def _truncate(self, url: str) -> None:
        """Empty what the last test wrote. Only the tables holding rows are truncated: a TRUNCATE
        makes new files for each table and index (~150 ms for identity's 23 tables), where most
        tests write to a few. A sequence is restarted when it was used, rows or not (`nextval`
        outlives a rollback)."""
        dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(dsn, autocommit=True) as conn:
            tables = [r[0] for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")]
            written = [r[0] for r in conn.execute(" UNION ALL ".join(
                f"(SELECT '{t}' FROM \"{t}\" LIMIT 1)" for t in tables))] if tables else []
            if written:
                conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in written) + " CASCADE")
            for (sequence,) in conn.execute(
                    "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL").fetchall():
                conn.execute(f'ALTER SEQUENCE "{sequence}" RESTART')

    def drop_all(self) -> None:
        dsn = self.server_url.replace("postgresql+psycopg://", "postgresql://", 1) + "/postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            for name in self.migrated:
                conn.execute(f'DROP DATABASE IF EXISTS "atelier_test_{name}_{self.run}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _pg_databases() -> Iterator[_PostgresDatabases]:
    with postgres_server() as server:
        dbs = _PostgresDatabases(server)
        yield dbs
        dbs.drop_all()


@pytest.fixture(scope="session")
def _sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {}


@pytest.fixture
def service_database(db_backend: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
                     _sqlite_templates: dict[str, Path], request: pytest.FixtureRequest) -> Callable[[str, Path], str]:
    """`service_database(name, migrations_dir)` → a migrated, empty database URL for this test."""
    databases = request.getfixturevalue("_pg_databases") if db_backend == "postgres" else None

    def make(name: str, migrations: Path) -> str:
        if databases is not None:
            url: str = databases.url(name, migrations)
            return url
        template = _sqlite_templates.get(name)
        if template is None:
            template = tmp_path_factory.mktemp("templates") / f"{name}.db"
            upgrade(migrations, f"sqlite+aiosqlite:///{template}")
            _sqlite_templates[name] = template
        target = tmp_path / f"{name}.db"
        shutil.copyfile(template, target)
        return f"sqlite+aiosqlite:///{target}"

    return make


@pytest.fixture
async def open_database(service_database: Callable[[str, Path], str]) -> AsyncIterator[Callable[[str, Path], Database]]:
    """`open_database(name, migrations)` → a `Database` on a migrated, empty database of this test,
    disposed after it."""
    opened: list[Database] = []

    def open_(name: str, migrations: Path) -> Database:
        opened.append(Database(service_database(name, migrations), service=name))
        return opened[-1]

    yield open_
    for database in opened:
        await database.dispose()


@pytest.fixture
async def open_session(
        service_database: Callable[[str, Path], str]) -> AsyncIterator[Callable[[str, Path], AsyncSession]]:
    """`open_session(name, migrations)` → a session (`expire_on_commit=False`) on a migrated, empty
    database of this test, for a statement run on its own rows; closed and disposed after it."""
    opened: list[tuple[AsyncEngine, AsyncSession]] = []

    def open_(name: str, migrations: Path) -> AsyncSession:
        engine = create_async_engine(service_database(name, migrations))
        opened.append((engine, AsyncSession(engine, expire_on_commit=False)))
        return opened[-1][1]

    yield open_
    for engine, session in opened:
        await session.close()
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of this test's own, not migrated, of each kind: a migration test takes it to
    the revision before the one it tests, writes the rows that revision found, then migrates on.
    A sync URL (`sqlite:///…`, `postgresql+psycopg://…`). Without a PostgreSQL server
    (ATELIER_TEST_POSTGRES_URL) the PostgreSQL case is a visible skip, or fails with
    ATELIER_REQUIRE_INFRA=1."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    if postgres_from_env() is None:
        unavailable("PostgreSQL")
    with postgres_server() as found:
        server = found.replace("postgresql+psycopg://", "postgresql://", 1).rstrip("/")
    name = f"atelier_test_empty_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def test_settings_overrides(test_keys: TestKeys, tmp_path: Path) -> dict[str, Any]:
    """Settings every service test shares: static JWKS, no migrations at start, a temp data dir, and
    the well-known test secrets (a real install generates its own: `with_install_secrets`)."""
    return {"environment": "test", "jwks_json": test_keys.jwks_json, "auto_migrate": False,
            "data_dir": tmp_path / "data", "relay_poll_seconds": 0.2, "log_json": False,
            "consumer_max_retries": 2, "service_token": DEV_SECRET, "webhook_secrets": {"local": DEV_SECRET}}


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """A real S3-compatible HTTP server on this machine (moto's), for the `s3` storage backend."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_storage_settings(s3_server: str) -> dict[str, Any]:
    """Storage settings for a fresh bucket of this test on `s3_server`."""
    import boto3

    bucket = f"atelier-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1", aws_access_key_id="test",
                 aws_secret_access_key="test").create_bucket(Bucket=bucket)
    return {"storage_backend": "s3", "s3_bucket": bucket, "s3_endpoint_url": s3_server,
            "s3_access_key_id": "test", "s3_secret_access_key": "test", "s3_prefix": "assets"}


__all__ = ["AsyncIterator"]
