"""Outbox → relay → bus → inbox, on a real service database (SQLite, and PostgreSQL when set)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import select, update
from sqlmodel.ext.asyncio.session import AsyncSession

import atelier_cart
from atelier_common import outbox
from atelier_common.contracts.identity import UserDeleted
from atelier_common.db import Database
from atelier_common.events.envelope import Envelope
from atelier_common.events.memory import InMemoryBus
from atelier_common.inbox import EventContext, Filtered, InboxMessage, subscribe_all
from atelier_common.outbox import OutboxRelay
from atelier_testing import RecordingBus
from atelier_testing.sqlite import assert_write_lock_free, hold_statement
from atelier_testing.stopping import stop_inside_a_step

pytestmark = pytest.mark.databases("sqlite", "postgres", why="the outbox's and the inbox's SQL and locks")

MIGRATIONS = Path(atelier_cart.__file__).parent / "migrations"


class DownBus(RecordingBus):
    """A broker that is away (`down`) until the test brings it back."""

    down = True

    async def publish(self, envelopes):
        if self.down:
            raise ConnectionError("broker down")
        await super().publish(envelopes)


class NodeLostBus(RecordingBus):
    """Its first publish fails as a broker node's loss does; the bus is then disconnected until it
    has reconnected to another node (`reconnect`)."""

    def __init__(self) -> None:
        super().__init__()
        self.connected = True
        self.lost = asyncio.Event()

    async def ready(self) -> bool:
        return self.connected

    async def publish(self, envelopes):
        if not self.lost.is_set():
            self.connected = False
            self.lost.set()
            raise ConnectionError("connection to the broker lost")
        await super().publish(envelopes)

    def reconnect(self) -> None:
        self.connected = True


class GatedBus(RecordingBus):
    """Its publish waits, once begun (`publishing`), until the test lets it go on (`go_on`)."""

    def __init__(self) -> None:
        super().__init__()
        self.publishing, self.go_on = asyncio.Event(), asyncio.Event()

    async def publish(self, envelopes):
        self.publishing.set()
        await self.go_on.wait()
        await super().publish(envelopes)


class FirstPublishGatedBus(GatedBus):
    """Only its first publish waits for `go_on`; later ones go straight through (`passed`)."""

    def __init__(self) -> None:
        super().__init__()
        self.passed = asyncio.Event()

    async def publish(self, envelopes):
        if self.publishing.is_set():
            await RecordingBus.publish(self, envelopes)
            self.passed.set()
        else:
            await super().publish(envelopes)


@pytest.fixture
def db(open_database) -> Database:
    return open_database("cart", MIGRATIONS)


class TestOutboxRelay:
    async def test_rows_written_in_the_transaction_are_published_after_commit(self, db: Database) -> None:
        bus = RecordingBus()
        relay = OutboxRelay(db, bus)
        user = uuid.uuid4()
        async with db.transaction() as session:
            await outbox.add(session, UserDeleted(user_id=user))
        assert await relay.flush() == 1
        assert [e.data["user_id"] for e in bus.published] == [str(user)]
        assert bus.published[0].producer == "cart"
        assert await relay.flush() == 0  # marked sent, never twice

    async def test_stop_right_after_a_wake_up_does_not_hang(self, db: Database) -> None:
        relay = OutboxRelay(db, RecordingBus(), poll_seconds=60, grace_seconds=0)
        await relay.start()
        await asyncio.sleep(0)  # the relay now waits for a wake-up
        relay.wake()  # a commit wakes it as the service shuts down
        async with asyncio.timeout(5):
            await relay.stop()

    async def test_stop_lets_the_batch_under_way_finish(self, db: Database) -> None:
        bus = GatedBus()
        async with db.transaction() as session:
            await outbox.add(session, UserDeleted(user_id=uuid.uuid4()))
        relay = OutboxRelay(db, bus, poll_seconds=60, grace_seconds=0)
        await relay.start()
        relay.wake()
        async with asyncio.timeout(10):
            await bus.publishing.wait()
            await stop_inside_a_step(relay.stop, bus.go_on.set)
        assert len(bus.published) == 1
        assert await relay.flush() == 0  # published and marked sent: the batch was not cut short

    async def test_a_stop_inside_the_claim_leaves_sqlite_unlocked(self, db: Database) -> None:
        if not db.is_sqlite:
            pytest.skip("SQLite's write lock (the embedded mode)")
        # The claim (UPDATE … RETURNING) waits inside SQLite, the database's write lock taken.
        async with hold_statement(db, "AFTER UPDATE ON outbox") as claim:
            async with db.transaction() as session:
                await outbox.add(session, UserDeleted(user_id=uuid.uuid4()))
            relay = OutboxRelay(db, RecordingBus(), poll_seconds=60, grace_seconds=0)
            await relay.start()
            relay.wake()
            await claim.entered()
            await stop_inside_a_step(relay.stop, claim.release)
        assert_write_lock_free(db.url)

    async def test_rolled_back_transaction_publishes_nothing(self, db: Database) -> None:
        bus = RecordingBus()
        with pytest.raises(RuntimeError):
            async with db.transaction() as session:
                await outbox.add(session, UserDeleted(user_id=uuid.uuid4()))
                raise RuntimeError("boom")
        assert await OutboxRelay(db, bus).flush() == 0

    async def test_broker_outage_delays_but_keeps_events(self, db: Database) -> None:
        bus = DownBus()
        relay = OutboxRelay(db, bus)
        async with db.transaction() as session:
            await outbox.add(session, UserDeleted(user_id=uuid.uuid4()))
        with pytest.raises(ConnectionError):
            await relay.flush()
        bus.down = False
        assert await relay.flush() == 1


    async def test_batch_is_published_oldest_first_and_unmarked_if_the_publish_fails(self, db: Database) -> None:
        class FlakyBus(RecordingBus):
            fail = True

            async def publish(self, envelopes):
                if self.fail:
                    self.fail = False
                    raise ConnectionError("broker down")
                await super().publish(envelopes)

        users = [uuid.uuid4() for _ in range(5)]
        for user in users:  # one transaction each: five distinct occurred_at, in this order
            async with db.transaction() as session:
                await outbox.add(session, UserDeleted(user_id=user))
        bus = FlakyBus()
        relay = OutboxRelay(db, bus, batch=3)
        with pytest.raises(ConnectionError):
            await relay.flush()
        assert [await relay.flush() for _ in range(3)] == [3, 2, 0]
        assert [e.data["user_id"] for e in bus.published] == [str(u) for u in users]

    async def test_a_writer_that_does_not_publish_its_own_events_notifies_the_listeners_once(self, db: Database) -> None:
        statements: list[str] = []
        event.listen(db.engine.sync_engine, "before_cursor_execute",
                     lambda conn, cursor, statement, *args: statements.append(statement))
        async with db.transaction() as session:
            await outbox.add(session, UserDeleted(user_id=uuid.uuid4()))
            await outbox.add(session, UserDeleted(user_id=uuid.uuid4()))
        db.session_info["publishes_own_events"] = True  # as ServiceRuntime sets it
        async with db.transaction() as session:
            await outbox.add(session, UserDeleted(user_id=uuid.uuid4()))
        notified = [s for s in statements if s.startswith("NOTIFY")]
        # Once per transaction, and only from a writer that does not publish its own events (the CLI).
        assert notified == ([] if db.is_sqlite else ["NOTIFY atelier_outbox"])
        # The NOTIFY does not flush the first row alone: one INSERT per transaction.
        assert len([s for s in statements if s.startswith("INSERT INTO outbox")]) == 2

    async def test_a_commit_of_a_writer_without_a_bus_notifies_the_listeners(self, db: Database) -> None:
        if db.is_sqlite:
            pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite runs embedded, its relay woken in-process")
        import psycopg

        async with await psycopg.AsyncConnection.connect(db.url.replace("postgresql+psycopg://", "postgresql://"),
                                                         autocommit=True) as listener:
            await listener.execute(f"LISTEN {outbox.NOTIFY_CHANNEL}")  # as OutboxRelay._listen does
            async with db.transaction() as session:
                await outbox.add(session, UserDeleted(user_id=uuid.uuid4()))
            async with asyncio.timeout(60):
                notification = await anext(listener.notifies())
        assert notification.channel == outbox.NOTIFY_CHANNEL


def postgres_only(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite publishes through the batches only")


class TestPublishFromCommit:
    """A process that runs its own relay publishes a commit's events from memory, then marks them
    (`OutboxRelay.committed`, PostgreSQL); SQLite wakes the relay's batches instead."""

    @staticmethod
    def relay_on(db: Database, bus: RecordingBus) -> OutboxRelay:
        relay = OutboxRelay(db, bus, poll_seconds=60)
        relay.publish_own_commits()  # as ServiceRuntime does for every role
        return relay

    @staticmethod
    async def commit_an_event(db: Database) -> None:
        async with db.transaction() as session:
            await outbox.add(session, UserDeleted(user_id=uuid.uuid4()))

    @staticmethod
    def recorded_statements(db: Database) -> list[str]:
        """Every statement `db` runs from now on, whitespace collapsed."""
        statements: list[str] = []
        event.listen(db.engine.sync_engine, "before_cursor_execute",
                     lambda conn, cursor, statement, *args: statements.append(" ".join(statement.split())))
        return statements

    @staticmethod
    async def unsent(db: Database) -> int:
        async with db.read_only() as session:
            rows = (await session.exec(select(outbox.OutboxMessage))).all()
        return sum(1 for row in rows if row.sent_at is None)

    async def test_the_events_go_out_without_a_batch_and_are_marked_sent(self, db: Database) -> None:
        bus = RecordingBus()
        relay = self.relay_on(db, bus)
        statements = self.recorded_statements(db)
        users = [uuid.uuid4(), uuid.uuid4()]
        async with db.transaction() as session:
            for user in users:
                await outbox.add(session, UserDeleted(user_id=user))
        if db.is_sqlite:  # the batches do it, woken by the commit
            assert relay._wake.is_set() and await relay.settle() == 0
            assert await relay.flush() == 2
        else:
            assert await relay.settle() == 2
            # No claim: one UPDATE marks the two rows after the publish.
            assert [s for s in statements if "outbox" in s and not s.startswith("INSERT")] == [
                s for s in statements if s.startswith("UPDATE outbox SET sent_at")]
            assert len([s for s in statements if s.startswith("UPDATE outbox")]) == 1
        assert [e.data["user_id"] for e in bus.published] == [str(u) for u in users]
        assert await self.unsent(db) == 0
        assert await relay.flush() == 0  # never twice

    async def test_a_transactions_events_are_one_insert_before_its_commit(self, db: Database) -> None:
        bus = RecordingBus()
        relay = self.relay_on(db, bus)
        statements = self.recorded_statements(db)
        users = [uuid.uuid4() for _ in range(3)]
        async with db.transaction() as session:
            await outbox.add(session, UserDeleted(user_id=users[0]))
            await session.exec(select(outbox.OutboxMessage))  # a statement between two events
            for user in users[1:]:
                await outbox.add(session, UserDeleted(user_id=user))
            written = [s for s in statements if s.startswith("INSERT INTO outbox")]
            assert written == []  # not before the use case is done
        # One INSERT for the three, after every statement of the use case (an ORM row was flushed
        # before the SELECT, the others after it: two).
        [insert] = [i for i, s in enumerate(statements) if s.startswith("INSERT INTO outbox")]
        assert insert > max(i for i, s in enumerate(statements) if s.startswith("SELECT outbox"))
        await relay.settle()
        await relay.flush()
        assert sorted(e.data["user_id"] for e in bus.published) == sorted(str(u) for u in users)
        assert await self.unsent(db) == 0

    async def test_a_use_case_that_fails_writes_none_of_its_events(self, db: Database) -> None:
        bus = RecordingBus()
        relay = self.relay_on(db, bus)
        with pytest.raises(RuntimeError):
            async with db.transaction() as session:
                await outbox.add(session, UserDeleted(user_id=uuid.uuid4()))
                raise RuntimeError("the use case failed")
        await relay.settle()
        assert await relay.flush() == 0 and bus.published == []
        async with db.read_only() as session:
            assert (await session.exec(select(outbox.OutboxMessage))).all() == []

    async def test_an_event_a_savepoint_took_back_is_not_published(self, db: Database) -> None:
        bus = RecordingBus()
        relay = self.relay_on(db, bus)
        kept, taken_back = uuid.uuid4(), uuid.uuid4()
        async with db.transaction() as session:
            await outbox.add(session, UserDeleted(user_id=kept))
            with pytest.raises(RuntimeError):
                async with session.begin_nested():
                    await outbox.add(session, UserDeleted(user_id=taken_back))
                    await session.flush()
                    raise RuntimeError("this step is undone")
        await relay.settle()
        await relay.flush()
        assert [e.data["user_id"] for e in bus.published] == [str(kept)]

    async def test_a_failed_publish_leaves_the_rows_to_the_batches(self, db: Database) -> None:
        postgres_only(db)
        bus = DownBus()
        relay = self.relay_on(db, bus)
        await self.commit_an_event(db)
        await relay.settle()
        assert bus.published == [] and await self.unsent(db) == 1
        assert relay._wake.is_set()  # the relay's batches take over at once
        bus.down = False
        assert await relay.flush() == 1
        assert len(bus.published) == 1 and await self.unsent(db) == 0

    async def test_a_publish_lost_with_its_broker_goes_out_again_once_the_bus_reconnects(self, db: Database) -> None:
        """A cluster's node lost under a publish: the process publishes the events again from
        memory as soon as its bus is connected to another node, not a sweep's grace later."""
        postgres_only(db)
        bus = NodeLostBus()
        relay = self.relay_on(db, bus)
        await self.commit_an_event(db)
        async with asyncio.timeout(10):
            await bus.lost.wait()
            assert await relay.flush() == 0  # still this process's to publish
            bus.reconnect()
            assert await relay.settle() == 1
        assert len(bus.published) == 1 and await self.unsent(db) == 0
        assert not relay._wake.is_set()  # the relay's batches had nothing to take over

    async def test_a_batch_leaves_rows_being_published_alone(self, db: Database) -> None:
        """A batch that runs while a commit's events are on their way does not publish them again."""
        postgres_only(db)
        bus = GatedBus()
        relay = self.relay_on(db, bus)
        await self.commit_an_event(db)
        async with asyncio.timeout(10):
            await bus.publishing.wait()
            assert await relay.flush() == 0  # unsent, but in flight
            bus.go_on.set()
            assert await relay.settle() == 1
        assert len(bus.published) == 1 and await self.unsent(db) == 0
        assert await relay.flush() == 0

    async def test_a_commit_s_events_do_not_wait_for_the_confirms_of_an_earlier_one(self, db: Database) -> None:
        """The broker's confirm of one transaction's events (an fsync) held every later commit's
        events back, on every hop of a checkout: each commit's events go out at once."""
        postgres_only(db)
        bus = FirstPublishGatedBus()
        relay = self.relay_on(db, bus)
        first, second = uuid.uuid4(), uuid.uuid4()
        for user in (first, second):
            async with db.transaction() as session:
                await outbox.add(session, UserDeleted(user_id=user))
        async with asyncio.timeout(10):
            await bus.publishing.wait()  # the first commit's publish waits for its confirm
            await bus.passed.wait()  # the second's went out meanwhile
            assert [e.data["user_id"] for e in bus.published] == [str(second)]
            bus.go_on.set()
            await relay.settle()
        assert [e.data["user_id"] for e in bus.published] == [str(second), str(first)]
        assert await self.unsent(db) == 0
        assert await relay.flush() == 0

    async def test_a_batch_at_the_moment_the_commit_lands_leaves_its_rows_alone(self, db: Database) -> None:
        """A drain's batch (no grace) whose claim runs once the COMMIT is visible, before the
        after-commit hook: the rows were in flight from before the COMMIT, so they go out once."""
        postgres_only(db)
        bus = RecordingBus()
        claimed: list[int] = []

        async def batch_in_between(info: dict[str, Any]) -> None:
            if info.get("outbox_envelopes"):  # not the batch's own commit
                claimed.append(await relay.flush())

        relay = self.relay_on(db, bus)
        db.on_session_commit(batch_in_between, first=True)  # ahead of the relay's own hook
        await self.commit_an_event(db)
        assert claimed == [0]
        assert await relay.settle() == 1
        assert len(bus.published) == 1 and await self.unsent(db) == 0

    async def test_a_batch_leaves_alone_rows_put_in_flight_as_it_claims(self, db: Database) -> None:
        """A commit whose rows go in flight after a drain's batch read `in_flight` and land before
        its claim: its own publish sends them, the batch gives them back."""
        postgres_only(db)
        bus = RecordingBus()
        relay = self.relay_on(db, bus)
        message_id = uuid.uuid4()
        async with db.engine.begin() as conn:  # committed, not yet in flight
            await conn.execute(insert(outbox.OutboxMessage).values(
                id=message_id, type="user.deleted", producer="test", occurred_at=datetime.now(UTC), data={}))

        def put_in_flight(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if statement.startswith("UPDATE outbox"):  # the claim, `in_flight` already bound
                relay._in_flight[message_id] = time.monotonic()

        event.listen(db.engine.sync_engine, "before_cursor_execute", put_in_flight)
        try:
            assert await relay.flush() == 0
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", put_in_flight)
        assert bus.published == [] and await self.unsent(db) == 1

    async def test_a_failed_commit_leaves_nothing_in_flight(self, db: Database) -> None:
        postgres_only(db)
        relay = self.relay_on(db, RecordingBus())
        with pytest.raises(IntegrityError):
            async with db.transaction() as session:
                message_id = await outbox.add(session, UserDeleted(user_id=uuid.uuid4()))
                session.add(outbox.OutboxMessage(id=message_id, type="duplicate", producer="test", data={}))
        assert relay._in_flight == {}

    async def test_an_id_in_flight_past_the_backstop_is_forgotten(self, db: Database) -> None:
        """A publish that hung (no confirm, no error): its ids go back to the batches in time."""
        postgres_only(db)
        relay = self.relay_on(db, RecordingBus())
        stuck = uuid.uuid4()
        relay._in_flight[stuck] = time.monotonic() - outbox.IN_FLIGHT_FORGOTTEN_SECONDS - 1
        assert await relay.flush() == 0
        assert relay._in_flight == {}

    async def test_a_commit_cancelled_as_it_lands_leaves_its_rows_to_the_batches(
            self, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
        """A consumer's handler is cancelled when its broker channel closes, possibly under the
        COMMIT: no after-commit hook publishes what committed, so a batch must, within its grace
        rather than once the in-flight ids are forgotten minutes later."""
        postgres_only(db)
        bus = RecordingBus()
        relay = self.relay_on(db, bus)
        commit = AsyncSession.commit

        async def commit_then_cancelled(session: AsyncSession) -> None:
            await commit(session)
            raise asyncio.CancelledError

        monkeypatch.setattr(AsyncSession, "commit", commit_then_cancelled)
        with pytest.raises(asyncio.CancelledError):
            await self.commit_an_event(db)
        monkeypatch.undo()
        assert await self.unsent(db) == 1 and bus.published == []
        assert await relay.flush() == 1
        assert len(bus.published) == 1 and await self.unsent(db) == 0

    async def test_a_sweep_leaves_another_process_its_new_rows(self, db: Database) -> None:
        """The relay's sweep takes a row only once its writer (another process, publishing it from
        its commit) had `PUBLISH_GRACE_SECONDS` to do so; an explicit flush takes it at once."""
        postgres_only(db)
        bus = RecordingBus()
        await self.commit_an_event(db)  # no hook here: as written by another process
        relay = OutboxRelay(db, bus)
        assert await relay.flush(grace_seconds=outbox.PUBLISH_GRACE_SECONDS) == 0
        async with db.transaction() as session:  # the grace is over
            await session.execute(update(outbox.OutboxMessage).values(
                occurred_at=datetime.now(UTC) - timedelta(seconds=outbox.PUBLISH_GRACE_SECONDS + 1)))
        assert await relay.flush(grace_seconds=outbox.PUBLISH_GRACE_SECONDS) == 1
        assert len(bus.published) == 1

    async def test_stop_lets_a_publish_from_a_commit_finish(self, db: Database) -> None:
        postgres_only(db)
        bus = GatedBus()
        relay = self.relay_on(db, bus)
        await relay.start()
        await self.commit_an_event(db)
        async with asyncio.timeout(10):
            await bus.publishing.wait()
            await stop_inside_a_step(relay.stop, bus.go_on.set)
        assert len(bus.published) == 1 and await self.unsent(db) == 0


class TestInbox:
    async def test_redelivered_event_has_one_effect(self, db: Database) -> None:
        bus = RecordingBus()
        effects: list[uuid.UUID] = []

        async def on_user_deleted(event: UserDeleted, ctx: EventContext) -> None:
            effects.append(event.user_id)

        subscribe_all(bus, db, "cart", {UserDeleted: on_user_deleted}, context=None)
        await bus.start()
        relay = OutboxRelay(db, bus)
        bus.add_drain_source(relay.flush)
        async with db.transaction() as session:
            await outbox.add(session, UserDeleted(user_id=uuid.uuid4()))
        await bus.drain()
        envelope = bus.published[0]
        await asyncio.gather(*(bus.publish([envelope]) for _ in range(5)))
        await bus.drain()
        await bus.stop()
        assert len(effects) == 1
        async with db.read_only() as session:
            rows = (await session.exec(select(InboxMessage))).all()
            assert [(r.event_id, r.consumer) for r in rows] == [(envelope.id, "cart")]

    async def test_an_event_the_rule_does_not_want_costs_no_transaction(self, db: Database) -> None:
        bus = RecordingBus()
        effects: list[uuid.UUID] = []
        wanted = uuid.uuid4()

        async def on_user_deleted(event: UserDeleted, ctx: EventContext) -> None:
            effects.append(event.user_id)

        subscribe_all(bus, db, "cart", {UserDeleted: Filtered(on_user_deleted, wants=lambda e, _: e.user_id == wanted)},
                      context=None)
        await bus.start()
        opened = db.transaction
        transactions: list[None] = []

        def counted():
            transactions.append(None)
            return opened()

        db.transaction = counted
        await bus.publish([Envelope.wrap(UserDeleted(user_id=user), producer="identity")
                           for user in (uuid.uuid4(), wanted)])
        await bus.drain()
        await bus.stop()
        assert effects == [wanted]
        async with db.read_only() as session:
            rows = (await session.exec(select(InboxMessage))).all()
        assert [r.event_type for r in rows] == ["identity.user_deleted"]  # the wanted one only
        assert len(transactions) == 1  # the wanted event's; none for the other

    async def test_failing_handler_is_retried_then_dead_lettered(self, db: Database) -> None:
        bus = RecordingBus(max_retries=2, retry_delay=0.001)
        calls = 0

        async def on_user_deleted(event: UserDeleted, ctx: EventContext) -> None:
            nonlocal calls
            calls += 1
            raise ValueError("handler bug")

        subscribe_all(bus, db, "cart", {UserDeleted: on_user_deleted}, context=None)
        await bus.start()
        from atelier_common.events.envelope import Envelope

        await bus.publish([Envelope.wrap(UserDeleted(user_id=uuid.uuid4()), producer="identity")])
        await bus.drain()
        await bus.stop()
        assert calls == 3
        assert len(bus.dead_letters) == 1
        async with db.read_only() as session:
            assert (await session.exec(select(InboxMessage))).all() == []  # the inbox row rolled back too


class TestInMemoryBusKeepsNothing:
    async def test_delivered_events_are_not_held_by_the_runtime_bus(self) -> None:
        """The embedded mode's bus runs for weeks: once delivered, an event is referenced by nothing in it
        (recording what was published is the test kit's `RecordingBus`)."""
        bus = InMemoryBus()
        seen: list[uuid.UUID] = []

        async def handler(env: Envelope) -> None:
            seen.append(env.id)

        bus.subscribe("cart", [UserDeleted.type], handler)
        await bus.start()
        try:
            envelopes = [Envelope.wrap(UserDeleted(user_id=uuid.uuid4()), producer="identity") for _ in range(50)]
            await bus.publish(envelopes)
            await bus.drain()
            assert seen == [env.id for env in envelopes]
            # Whatever container of the bus's own could hold an event once it is delivered:
            containers = [value for value in vars(bus).values() if isinstance(value, list | deque)]
            containers += [consumer.queue for consumer in vars(bus)["_consumers"].values()]
            assert [item for container in containers for item in container] == []
        finally:
            await bus.stop()


class TestBusStop:
    """`InMemoryBus.stop()` stops its consumers between two deliveries, never inside one
    (`atelier_common.loops`: a cancel inside a SQLite statement left the write lock held)."""

    @staticmethod
    async def recorded(db: Database) -> list[uuid.UUID]:
        async with db.read_only() as session:
            return [row.event_id for row in (await session.exec(select(InboxMessage))).all()]

    async def test_a_stop_inside_a_handlers_statement_leaves_sqlite_unlocked(self, db: Database) -> None:
        if not db.is_sqlite:
            pytest.skip("SQLite's write lock (the embedded mode)")
        bus = RecordingBus()

        async def on_user_deleted(event: UserDeleted, ctx: EventContext) -> None:
            pass

        subscribe_all(bus, db, "cart", {UserDeleted: on_user_deleted}, context=None)
        envelope = Envelope.wrap(UserDeleted(user_id=uuid.uuid4()), producer="identity")
        # The inbox INSERT of the delivery waits inside SQLite, the database's write lock taken.
        async with hold_statement(db, "AFTER INSERT ON inbox") as claim:
            await bus.start()
            await bus.publish([envelope])
            await claim.entered()
            stopping = asyncio.create_task(bus.stop())
            await asyncio.sleep(0)  # stop() is under way
            claim.release()
            async with asyncio.timeout(10):
                await stopping
        assert_write_lock_free(db.url)
        assert await self.recorded(db) == [envelope.id]

    async def test_stop_lets_the_delivery_under_way_finish(self, db: Database) -> None:
        bus = RecordingBus()
        handling, go_on = asyncio.Event(), asyncio.Event()
        effects: list[uuid.UUID] = []

        async def on_user_deleted(event: UserDeleted, ctx: EventContext) -> None:
            handling.set()
            await go_on.wait()  # inside handle_once's transaction, its inbox row written
            effects.append(event.user_id)

        subscribe_all(bus, db, "cart", {UserDeleted: on_user_deleted}, context=None)
        await bus.start()
        envelope = Envelope.wrap(UserDeleted(user_id=uuid.uuid4()), producer="identity")
        await bus.publish([envelope])
        async with asyncio.timeout(10):
            await handling.wait()
            stopping = asyncio.create_task(bus.stop())
            await asyncio.sleep(0)
            assert not stopping.done()  # it waits for the delivery
            go_on.set()
            await stopping
        assert effects == [envelope.parse(UserDeleted).user_id]
        assert await self.recorded(db) == [envelope.id]

    async def test_events_waiting_at_the_stop_stay_queued_in_order(self, db: Database) -> None:
        """The next event is taken only inside the next delivery: a stop between the two leaves it
        queued (and counted by drain) for the next start."""
        bus = RecordingBus()
        handling, go_on = asyncio.Event(), asyncio.Event()
        effects: list[uuid.UUID] = []

        async def on_user_deleted(event: UserDeleted, ctx: EventContext) -> None:
            handling.set()
            await go_on.wait()
            effects.append(event.user_id)

        subscribe_all(bus, db, "cart", {UserDeleted: on_user_deleted}, context=None)
        await bus.start()
        users = [uuid.uuid4(), uuid.uuid4(), uuid.uuid4()]
        await bus.publish([Envelope.wrap(UserDeleted(user_id=user), producer="identity") for user in users])
        async with asyncio.timeout(10):
            await handling.wait()
            stopping = asyncio.create_task(bus.stop())
            await asyncio.sleep(0)
            go_on.set()
            await stopping
            assert effects == users[:1]
            assert await bus.queue_depths() == {"cart": {"main": 2, "dlq": 0}}
            await bus.start()
            await bus.drain()
            await bus.stop()
        assert effects == users
        assert len(await self.recorded(db)) == 3

    async def test_a_handler_stuck_past_the_timeout_is_cancelled_and_stop_returns(
            self, db: Database, caplog: pytest.LogCaptureFixture) -> None:
        bus = RecordingBus(stop_timeout=0.05)
        handling = asyncio.Event()

        async def on_user_deleted(event: UserDeleted, ctx: EventContext) -> None:
            handling.set()
            await asyncio.Event().wait()  # never ends

        subscribe_all(bus, db, "cart", {UserDeleted: on_user_deleted}, context=None)
        await bus.start()
        await bus.publish([Envelope.wrap(UserDeleted(user_id=uuid.uuid4()), producer="identity")])
        async with asyncio.timeout(10):
            await handling.wait()
            with caplog.at_level(logging.WARNING, logger="atelier.loops"):
                await bus.stop()
        assert "a step still ran after 0.05 s" in caplog.text
        assert await self.recorded(db) == []  # cancelled where it was: its transaction rolled back
        if db.is_sqlite:
            assert_write_lock_free(db.url)
