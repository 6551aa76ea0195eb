"""Housekeeping: what is past retention goes, in batches, while writes go on; nothing else does.

On a real service database (orders': outbox, inbox and idempotency keys), SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import col, select

import atelier_orders
from atelier_common import idempotency, inbox, metrics, outbox
from atelier_common.db import Database
from atelier_common.housekeeping import Housekeeper, Sweep, Swept
from atelier_common.idempotency import IdempotencyKey
from atelier_common.inbox import InboxMessage
from atelier_common.outbox import OutboxMessage
from atelier_common.service import Runtime, ServiceSpec
from atelier_common.settings import AtelierSettings, inbox_floor
from atelier_testing import poll_until
from atelier_testing.housekeeping import idempotency_key
from atelier_testing.sqlite import assert_write_lock_free, hold_statement
from atelier_testing.stopping import stop_inside_a_step

pytestmark = pytest.mark.databases("sqlite", "postgres", why="housekeeping's batched deletes and row locks")

MIGRATIONS = Path(atelier_orders.__file__).parent / "migrations"
NOW = datetime.now(UTC)
WEEK = timedelta(days=7)


@pytest.fixture
def db(open_database) -> Database:
    return open_database("orders", MIGRATIONS)


def _outbox_row(age: timedelta, *, sent: bool, sent_age: timedelta | None = None) -> OutboxMessage:
    at = NOW - age
    sent_at = (NOW - sent_age if sent_age is not None else at + timedelta(seconds=1)) if sent else None
    return OutboxMessage(id=uuid.uuid4(), type="test.happened", producer="orders", occurred_at=at, data={},
                         sent_at=sent_at, attempts=1 if sent else 0)


def _inbox_row(age: timedelta) -> InboxMessage:
    return InboxMessage(event_id=uuid.uuid4(), consumer="orders", event_type="test.happened", processed_at=NOW - age)


def _key_row(expires_in: timedelta) -> IdempotencyKey:
    return idempotency_key("orders", expires_in, now=NOW)


async def _insert(db: Database, rows: list) -> None:
    async with db.transaction() as session:
        session.add_all(rows)


async def _ids(db: Database, *columns) -> set:
    async with db.read_only() as session:
        return set((await session.execute(select(*columns))).all()) if len(columns) > 1 else set(
            (await session.execute(select(*columns))).scalars().all())


def _sweeps() -> list[Sweep]:
    return [outbox.sweep(WEEK), inbox.sweep(WEEK), idempotency.sweep()]


class TestWhatGoes:
    async def test_only_rows_past_retention_go_and_in_batches(self, db: Database) -> None:
        old_sent = [_outbox_row(WEEK + timedelta(hours=1), sent=True) for _ in range(23)]
        recent_sent = [_outbox_row(WEEK - timedelta(hours=1), sent=True) for _ in range(3)]
        old_unsent = [_outbox_row(timedelta(days=30), sent=False) for _ in range(4)]  # still owed: never
        # Written long ago, published only now (after an outage): retention counts from publication.
        late_sent = [_outbox_row(timedelta(days=30), sent=True, sent_age=timedelta(hours=1)) for _ in range(2)]
        old_inbox = [_inbox_row(WEEK + timedelta(minutes=5)) for _ in range(12)]
        recent_inbox = [_inbox_row(WEEK - timedelta(minutes=5)) for _ in range(5)]
        expired_keys = [_key_row(-timedelta(minutes=1)) for _ in range(11)]
        live_keys = [_key_row(timedelta(hours=2)) for _ in range(2)]
        await _insert(db, [*old_sent, *recent_sent, *old_unsent, *late_sent, *old_inbox, *recent_inbox,
                           *expired_keys, *live_keys])
        batches: list[str] = []

        def counted(sweep: Sweep) -> Sweep:
            async def batch(session, now, limit) -> Swept:
                batches.append(sweep.name)
                return await sweep.batch(session, now, limit)

            return Sweep(sweep.name, batch)

        before = metrics.HOUSEKEEPING_ROWS.labels("orders", "outbox_sent")._value.get()
        keeper = Housekeeper(db, [counted(s) for s in _sweeps()], service="orders", batch_size=5,
                             clock=lambda: NOW)
        report = await keeper.run_once()

        assert report.removed == {"outbox_sent": 23, "inbox": 12, "idempotency_keys": 11} and not report.failed
        # 23 rows by 5: four full batches and a short one; 12: two and a short; 11: two and a short.
        assert batches.count("outbox_sent") == 5 and batches.count("inbox") == 3
        assert batches.count("idempotency_keys") == 3
        assert await _ids(db, OutboxMessage.id) == {r.id for r in [*recent_sent, *old_unsent, *late_sent]}
        assert await _ids(db, InboxMessage.event_id) == {r.event_id for r in recent_inbox}
        assert await _ids(db, IdempotencyKey.key) == {r.key for r in live_keys}
        assert metrics.HOUSEKEEPING_ROWS.labels("orders", "outbox_sent")._value.get() == before + 23
        assert (await keeper.run_once()).removed == {"outbox_sent": 0, "inbox": 0, "idempotency_keys": 0}

    async def test_a_failing_sweep_does_not_stop_the_others(self, db: Database) -> None:
        await _insert(db, [_inbox_row(WEEK * 2)])

        async def broken(session, now, limit) -> Swept:
            raise RuntimeError("boom")

        report = await Housekeeper(db, [Sweep("broken", broken), inbox.sweep(WEEK)], service="orders").run_once()
        assert report.failed == ["broken"] and report.removed == {"inbox": 1}

    async def test_files_are_removed_only_after_the_batch_committed(self, db: Database) -> None:
        rows = [_inbox_row(WEEK * 2) for _ in range(3)]
        await _insert(db, rows)
        seen: list[int] = []

        async def with_files(session, now, limit) -> Swept:
            swept = await inbox.sweep(WEEK).batch(session, now, limit)

            async def remove_files() -> None:  # runs after the commit: another session sees no rows
                async with db.read_only() as other:
                    seen.append((await other.execute(select(func.count()).select_from(InboxMessage))).scalar_one())

            return Swept(swept.count, [remove_files])

        await Housekeeper(db, [Sweep("inbox_files", with_files)], service="orders").run_once()
        assert seen == [0]


class TestWhileWritesGoOn:
    async def test_batches_interleave_with_concurrent_writers(self, db: Database) -> None:
        old = [_outbox_row(WEEK * 2, sent=True) for _ in range(120)]
        old_inbox = [_inbox_row(WEEK * 2) for _ in range(60)]
        await _insert(db, [*old, *old_inbox])
        written: list[uuid.UUID] = []
        applied: list[uuid.UUID] = []
        stop = asyncio.Event()

        async def writer() -> None:  # new events and applied events, one short transaction each
            while not stop.is_set() or len(written) < 10:
                fresh, seen = _outbox_row(timedelta(0), sent=False), _inbox_row(timedelta(0))
                async with db.transaction() as session:
                    session.add(fresh)
                    session.add(seen)
                written.append(fresh.id)
                applied.append(seen.event_id)
                await asyncio.sleep(0)

        keeper = Housekeeper(db, [outbox.sweep(WEEK), inbox.sweep(WEEK)], service="orders", batch_size=7)
        writers = [asyncio.create_task(writer()) for _ in range(2)]
        try:
            report = await keeper.run_once()
        finally:
            stop.set()
            await asyncio.gather(*writers)
        assert report.removed == {"outbox_sent": 120, "inbox": 60}
        assert await _ids(db, OutboxMessage.id) == set(written)
        assert await _ids(db, InboxMessage.event_id) == set(applied)

    @pytest.mark.databases("postgres", why="row locks: PostgreSQL only (SQLite has one writer at a time)")
    async def test_a_row_another_transaction_holds_is_skipped_not_waited_for(self, db: Database,
                                                                            db_backend: str) -> None:
        held, free = _inbox_row(WEEK * 2), _inbox_row(WEEK * 2)
        await _insert(db, [held, free])
        async with db.transaction() as session:  # a consumer holding a row (PostgreSQL row lock)
            stmt = (select(InboxMessage).where(col(InboxMessage.event_id) == held.event_id).with_for_update())
            await session.execute(stmt)
            async with asyncio.timeout(10):  # never waits for the holder
                report = await Housekeeper(db, [inbox.sweep(WEEK)], service="orders").run_once()
            assert report.removed == {"inbox": 1}
        assert await _ids(db, InboxMessage.event_id) == {held.event_id}
        assert (await Housekeeper(db, [inbox.sweep(WEEK)], service="orders").run_once()).removed == {"inbox": 1}


class TestStop:
    async def test_stop_lets_the_batch_under_way_finish(self, db: Database) -> None:
        await _insert(db, [_inbox_row(WEEK * 2)])
        deleting, go_on = asyncio.Event(), asyncio.Event()

        async def slow(session, now, limit) -> Swept:
            swept = await inbox.sweep(WEEK).batch(session, now, limit)
            deleting.set()
            await go_on.wait()
            return swept

        keeper = Housekeeper(db, [Sweep("slow", slow)], service="orders", start_delay_seconds=0)
        await keeper.start()
        async with asyncio.timeout(10):
            await deleting.wait()
            await stop_inside_a_step(keeper.stop, go_on.set)
        assert await _ids(db, InboxMessage.event_id) == set()  # committed, not cut short

    async def test_a_stop_inside_a_batch_leaves_sqlite_unlocked(self, db: Database) -> None:
        if not db.is_sqlite:
            pytest.skip("SQLite's write lock (the embedded mode)")
        # The batch's DELETE waits inside SQLite, the database's write lock taken.
        async with hold_statement(db, "AFTER DELETE ON inbox") as batch:
            await _insert(db, [_inbox_row(WEEK * 2)])
            keeper = Housekeeper(db, [inbox.sweep(WEEK)], service="orders", start_delay_seconds=0)
            await keeper.start()
            await batch.entered()
            await stop_inside_a_step(keeper.stop, batch.release)
        assert_write_lock_free(db.url)


class TestSettings:
    def test_defaults(self) -> None:
        s = AtelierSettings()
        assert (s.outbox_retention_days, s.inbox_retention_days, s.anonymous_retention_days) == (7, 7, 30)
        assert "housekeeping" in s.roles

    def test_an_inbox_window_shorter_than_the_redelivery_horizon_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="redelivery horizon"):
            AtelierSettings(inbox_retention_days=0.5)
        # A back-off longer than the window is refused too: 2 s doubling 20 times is about 24 days.
        with pytest.raises(ValidationError, match="redelivery horizon"):
            AtelierSettings(consumer_max_retries=20, consumer_retry_delay_ms=2000)
        assert inbox_floor(5, 500) == timedelta(days=1, milliseconds=15_500)
        assert AtelierSettings(inbox_retention_days=1.5).inbox_retention_days == 1.5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TestRole:
    async def test_the_housekeeping_process_sweeps_on_its_own_and_serves_its_probe(self, service_database,
                                                                                  tmp_path: Path) -> None:
        url = service_database("orders", MIGRATIONS)
        settings = AtelierSettings(environment="test", data_dir=tmp_path, database_url=url, auto_migrate=False,
                                   probe_port=_free_port(), probe_host="127.0.0.1",
                                   housekeeping_start_delay_seconds=0, housekeeping_interval_seconds=0.2)
        own = Sweep("own", lambda session, now, limit: _count_only(session, limit))
        runtime = Runtime(ServiceSpec(name="orders", housekeeping=lambda context: [own]), settings,
                          roles=frozenset({"housekeeping"}))
        old, recent = _outbox_row(timedelta(days=8), sent=True), _outbox_row(timedelta(days=1), sent=True)
        stale = _inbox_row(timedelta(days=8))
        db = Database(url, service="orders")
        try:
            await _insert(db, [old, recent, stale])
            await runtime.start()
            try:
                assert runtime.housekeeper is not None
                assert [s.name for s in runtime.housekeeper.sweeps] == ["outbox_sent", "inbox", "own"]

                async def swept() -> bool:
                    return (await _ids(db, OutboxMessage.id) == {recent.id}
                            and not await _ids(db, InboxMessage.event_id))

                await poll_until(swept, timeout=30, message="old rows swept by the loop")
                await poll_until(lambda: _passes(runtime), timeout=30, message="a second pass")
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.probe_port}") as probe:
                    health = (await probe.get("/health")).json()
                    assert health == {"status": "ok", "roles": ["housekeeping"]}
                    assert (await probe.get("/ready")).status_code == 200
                    text = (await probe.get("/metrics")).text
                assert 'atelier_housekeeping_rows_deleted_total{service="orders",sweep="inbox"}' in text
                assert 'atelier_housekeeping_passes_total{outcome="ok",service="orders"}' in text
            finally:
                await runtime.stop()
        finally:
            await db.dispose()

    async def test_no_loop_in_a_process_without_the_role(self, service_database, tmp_path: Path) -> None:
        url = service_database("orders", MIGRATIONS)
        settings = AtelierSettings(environment="test", data_dir=tmp_path, database_url=url, auto_migrate=False)
        runtime = Runtime(ServiceSpec(name="orders"), settings, roles=frozenset({"relay"}))
        await runtime.start()
        try:
            assert runtime.housekeeper is None
        finally:
            await runtime.stop()


async def _count_only(session, limit: int) -> Swept:
    return Swept(0)


async def _passes(runtime: Runtime) -> bool:
    return runtime.housekeeper is not None and runtime.housekeeper.passes >= 2
