"""The shared response cache's stores and its invalidation: the in-process store and Redis obey the
same contract; a commit that wrote a tracked table bumps its namespace (a rollback does not); two
processes sharing Redis see each other's bumps; a store that does not answer is a miss."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy import Column, Integer, String, update
from sqlalchemy.orm import DeclarativeBase

from atelier_common.cache import (
    PUBLIC_AUDIENCE,
    STAFF_AUDIENCE,
    CacheStore,
    Entry,
    EntryReader,
    InvalidationFeed,
    MemoryStore,
    RedisStore,
    WriteTracker,
    audience_of,
    etag_of,
    lookup,
    matches,
    tracker_info,
)
from atelier_common.cdn import CdnPurger
from atelier_common.db import Database
from atelier_common.redisguard import RedisGuard
from atelier_testing import poll_until


class Base(DeclarativeBase):
    pass


class Shelf(Base):
    __tablename__ = "cache_test_shelf"
    id = Column(Integer, primary_key=True)
    price = Column(String, nullable=False)


class Note(Base):
    __tablename__ = "cache_test_note"
    id = Column(Integer, primary_key=True)


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[CacheStore]:
    if request.param == "memory":
        yield MemoryStore(max_entries=3)
        return
    url = request.getfixturevalue("redis_url")
    redis = RedisStore(url, prefix=f"test-{uuid.uuid4().hex[:8]}:")
    try:
        yield redis
    finally:
        keys = [key async for key in redis.client.scan_iter(match=f"{redis.prefix}*")]
        if keys:
            await redis.client.delete(keys)


class TestStore:
    async def test_entries_round_trip_and_expire(self, store: CacheStore) -> None:
        entry = Entry((7,), ("shop",), [(b"content-type", b"application/json"), (b"etag", etag_of(b"{}"))], b"{}")
        await store.set("k", entry.encode(), ttl=30)
        assert Entry.decode(await store.get("k") or b"") == entry
        await store.set("short", b"x", ttl=0.05)
        await poll_until(lambda: _gone(store, "short"), timeout=10)
        assert await store.get("missing") is None

    async def test_a_bump_moves_only_its_namespace_and_counters_only_grow(self, store: CacheStore) -> None:
        a, b = await store.generations(["a", "b"])
        await store.bump(["a"])
        assert await store.generations(["a", "b"]) == (a + 1, b)
        assert await store.generations([]) == ()
        if isinstance(store, RedisStore):  # a counter lost (evicted) comes back above every old value
            await store.client.delete([store._gen_key("a")])
            (again,) = await store.generations(["a"])
            assert again > a + 1

    async def test_lookup_serves_an_entry_only_while_its_namespaces_are_unchanged(self, store: CacheStore) -> None:
        generations = await store.generations(["shop"])
        await store.set("page", Entry(generations, ("shop",), [], b"old").encode(), ttl=30)
        found = await lookup(store, "page")
        assert found is not None and found.body == b"old"
        await store.bump(["shop"])
        assert await lookup(store, "page") is None


async def _gone(store: CacheStore, key: str) -> bool:
    return await store.get(key) is None


async def test_the_memory_store_is_bounded() -> None:
    store = MemoryStore(max_entries=2)
    for key in ("a", "b", "c"):
        await store.set(key, key.encode(), ttl=30)
    assert await store.get("a") is None and await store.get("c") == b"c"


async def test_two_processes_sharing_redis_see_each_others_bumps(redis_url: str) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    # What is shared, not how fast: a deployment's 0.1 s guard makes a busy machine's slow answer a
    # miss (fail-open), which this test would read as "not shared".
    api, consumer = (RedisStore(redis_url, prefix=prefix, guard=RedisGuard(redis_url, timeout=10)) for _ in range(2))
    generations = await api.generations(["shop"])
    await api.set("page", Entry(generations, ("shop",), [], b"body").encode(), ttl=30)
    assert await lookup(consumer, "page") is not None
    await consumer.bump(["shop"])
    assert await lookup(api, "page") is None
    await api.client.delete([key async for key in api.client.scan_iter(match=f"{prefix}*")])


async def test_a_store_that_does_not_answer_is_a_miss() -> None:
    assert await lookup(RedisStore("redis://127.0.0.1:1/0", prefix="x:"), "page") is None


def test_if_none_match_lists_star_and_weak_forms() -> None:
    etag = etag_of(b"body")
    assert matches(etag, etag) and matches(b'"a", ' + etag, etag) and matches(b"W/" + etag, etag)
    assert matches("*", etag) and not matches(b'"other"', etag) and not matches(None, etag)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cache.db'}")
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    try:
        yield db
    finally:
        await db.dispose()


class TestWriteTracker:
    async def test_a_commit_that_wrote_a_tracked_table_bumps_after_it(self, database: Database) -> None:
        store = MemoryStore()
        tracker = WriteTracker({Shelf.__tablename__: ("shop",)}, store)
        database.session_info.update(tracker_info(tracker))
        database.on_session_commit(tracker.committed)
        (start,) = await store.generations(["shop"])

        async with database.transaction() as session:  # an ORM insert
            session.add(Shelf(id=1, price="10.00"))
        assert await store.generations(["shop"]) == (start + 1,)

        async with database.transaction() as session:  # a guarded UPDATE statement, no flush
            await session.execute(update(Shelf).where(Shelf.id == 1).values(price="9.00"))
        assert await store.generations(["shop"]) == (start + 2,)

        async with database.transaction() as session:  # a table no cached answer shows
            session.add(Note(id=1))
        with pytest.raises(RuntimeError):
            async with database.transaction() as session:  # rolled back: nothing changed
                session.add(Shelf(id=2, price="1.00"))
                await session.flush()
                raise RuntimeError("abort")
        async with database.transaction() as session:  # a read
            await session.get(Shelf, 1)
        assert await store.generations(["shop"]) == (start + 2,)

    async def test_a_bump_finishes_though_the_committed_caller_is_cancelled_under_it(self, database: Database) -> None:
        entered, release = asyncio.Event(), asyncio.Event()

        class SlowStore(MemoryStore):  # Redis taking its time
            async def bump(self, namespaces: Iterable[str]) -> None:
                entered.set()
                await release.wait()
                await super().bump(namespaces)

        store = SlowStore()
        tracker = WriteTracker({Shelf.__tablename__: ("shop",)}, store)
        database.session_info.update(tracker_info(tracker))
        database.on_session_commit(tracker.committed)
        (start,) = await store.generations(["shop"])

        async def write() -> None:
            async with database.transaction() as session:
                session.add(Shelf(id=1, price="10.00"))

        task = asyncio.create_task(write())
        await entered.wait()
        task.cancel()  # a delivery's handler, its broker channel closed
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()
        async def bumped() -> bool:
            return await store.generations(["shop"]) == (start + 1,)

        await poll_until(bumped, timeout=30, message="the bump")

    async def test_the_same_commits_purge_their_rows_keys_at_the_cdn(self, database: Database) -> None:
        """Rows the ORM flushed purge their own keys; a statement (rows unknown) its namespace's key,
        which every answer of that namespace carries; a rollback or an untracked table purges nothing."""
        purged: list[set[str]] = []

        class Purger:
            def purge(self, keys: Iterable[str]) -> None:
                purged.append(set(keys))

        tracker = WriteTracker({Shelf.__tablename__: ("shop",)}, None, Purger(),  # type: ignore[arg-type]  # a stand-in that records, not a CdnPurger
                               lambda table, row: [f"shelf-{row.id}", "shelf-list"])
        database.session_info.update(tracker_info(tracker))
        database.on_session_commit(tracker.committed)
        async with database.transaction() as session:
            session.add(Shelf(id=1, price="10.00"))
            session.add(Note(id=1))
        async with database.transaction() as session:
            await session.execute(update(Shelf).where(Shelf.id == 1).values(price="9.00"))
        with pytest.raises(RuntimeError):
            async with database.transaction() as session:
                session.add(Shelf(id=2, price="1.00"))
                await session.flush()
                raise RuntimeError("abort")
        async with database.transaction() as session:
            session.add(Note(id=2))
        assert purged == [{"shelf-1", "shelf-list"}, {"shop"}]


class TestCdnPurger:
    async def test_keys_are_posted_with_the_token_and_a_failure_is_retried_a_bounded_number_of_times(
            self, caplog: pytest.LogCaptureFixture) -> None:
        calls: list[tuple[str, dict[str, list[str]]]] = []
        answers = iter([503, 200, 500, 500, 500])

        def handler(request: httpx.Request) -> httpx.Response:
            calls.append((request.headers["authorization"], orjson.loads(request.content)))
            return httpx.Response(next(answers))

        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            purger = CdnPurger("http://cdn.test/purge", "secret", client, attempts=3, backoff_seconds=0.001)
            purger.purge(["product-1", "product-list"])
            await purger.settle()
            assert calls == [("Bearer secret", {"tags": ["product-1", "product-list"]})] * 2  # 503, then 200
            purger.purge(["product-2"])
            await purger.settle()
        assert len(calls) == 5  # three attempts, then given up and logged
        assert "given up" in caplog.text

    async def test_a_purge_never_waits_for_the_cdn(self) -> None:
        async def handler(request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(10)
            return httpx.Response(200)

        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            purger = CdnPurger("http://cdn.test/purge", "", client)
            purger.purge(["product-1"])  # a plain call, back at once: the POST runs in the background
            with pytest.raises(TimeoutError):  # still waiting for the CDN meanwhile
                async with asyncio.timeout(0.05):
                    await purger.settle()
            await purger.close()


async def test_a_local_copy_is_never_served_after_a_bump(redis_url: str) -> None:
    """The gateway keeps decoded entries in its process; the counters still decide, in Redis."""
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    gateway, service = RedisStore(redis_url, prefix=prefix), RedisStore(redis_url, prefix=prefix)
    reader = EntryReader(gateway, ttl=30)
    await service.set("page", Entry(await service.generations(["shop"]), ("shop",), [], b"v1").encode(), ttl=30)
    first = await reader.get("page")
    assert first is not None and first.body == b"v1"
    await service.bump(["shop"])
    assert await reader.get("page") is None
    await service.set("page", Entry(await service.generations(["shop"]), ("shop",), [], b"v2").encode(), ttl=30)
    second = await reader.get("page")
    assert second is not None and second.body == b"v2"
    await gateway.client.delete([key async for key in gateway.client.scan_iter(match=f"{prefix}*")])


async def test_with_a_staleness_bound_counters_are_trusted_that_long_and_no_longer() -> None:
    store = MemoryStore()
    # The reader's own clock, moved by the test: a busy machine's pause is not "past the bound".
    now = [1000.0]
    reader = EntryReader(store, ttl=30, local_entries=10, staleness=0.2, clock=lambda: now[0])
    await store.set("page", Entry(await store.generations(["shop"]), ("shop",), [], b"v1").encode(), ttl=30)
    assert await reader.get("page") is not None
    await store.bump(["shop"])
    now[0] += 0.1
    assert await reader.get("page") is not None  # within the bound: the counters read a moment ago
    now[0] += 0.1
    assert await reader.get("page") is None  # past it: the bump is seen


async def _missing(reader: EntryReader, key: str) -> bool:
    return await reader.get(key) is None


class _Counting:
    """A store that counts the round trips for counters (a hit that asks none costs no Redis call)."""

    def __init__(self, store: RedisStore) -> None:
        self.store, self.asked = store, 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)

    async def generations(self, namespaces: Iterable[str]) -> tuple[int, ...]:
        self.asked += 1
        return await self.store.generations(list(namespaces))


class TestInvalidationFeed:
    """The gateway's in-process layer: hits answered from its copies with no Redis call while it
    hears the bumps; a bump from any process drops the copy; no subscription, no trust."""

    async def _setup(self, redis_url: str) -> tuple[RedisStore, RedisStore, InvalidationFeed, _Counting, EntryReader]:
        prefix = f"test-{uuid.uuid4().hex[:8]}:"
        gateway, service = RedisStore(redis_url, prefix=prefix), RedisStore(redis_url, prefix=prefix)
        feed = InvalidationFeed(gateway)
        feed.start()
        await poll_until(lambda: _true(feed.live), timeout=10)
        counting = _Counting(gateway)
        reader = EntryReader(counting, ttl=30, feed=feed, trust=60)  # type: ignore[arg-type]  # a counting wrapper
        await service.set("page", Entry(await service.generations(["shop"]), ("shop",), [], b"v1").encode(), ttl=30)
        return gateway, service, feed, counting, reader

    async def test_hits_ask_redis_nothing_and_a_bump_anywhere_drops_the_copy(self, redis_url: str) -> None:
        gateway, service, feed, counting, reader = await self._setup(redis_url)
        try:
            assert (await reader.get("page")).body == b"v1"  # type: ignore[union-attr]  # asserted just after
            asked = counting.asked
            for _ in range(50):
                entry = await reader.get("page")
                assert entry is not None and entry.body == b"v1"
            assert counting.asked == asked  # 50 hits, no counter read
            await service.bump(["shop"])  # another process commits
            await poll_until(lambda: _missing(reader, "page"), timeout=10)
            await service.set("page", Entry(await service.generations(["shop"]), ("shop",), [], b"v2").encode(),
                              ttl=30)
            await poll_until(lambda: _body_is(reader, "page", b"v2"), timeout=10)
            await service.bump(["other"])  # a namespace the page does not read keeps the copy trusted
            await poll_until(lambda: _true(feed.version >= 3), timeout=10)
            asked = counting.asked
            assert await _body_is(reader, "page", b"v2") and counting.asked == asked
        finally:
            await feed.close()
            await gateway.client.delete([key async for key in gateway.client.scan_iter(match=f"{gateway.prefix}*")])

    async def test_without_a_subscription_every_hit_asks_redis(self, redis_url: str) -> None:
        gateway, service, feed, counting, reader = await self._setup(redis_url)
        try:
            await feed.close()  # the subscription is gone: bumps may go unheard
            assert not feed.live
            await reader.get("page")
            asked = counting.asked
            await reader.get("page")
            assert counting.asked == asked + 1
            await service.bump(["shop"])
            assert await reader.get("page") is None  # at once: read from Redis
        finally:
            await gateway.client.delete([key async for key in gateway.client.scan_iter(match=f"{gateway.prefix}*")])

    async def test_counters_read_while_a_bump_was_announced_are_not_kept(self, redis_url: str) -> None:
        gateway, _service, feed, counting, reader = await self._setup(redis_url)
        try:
            original = counting.generations

            async def racing(namespaces: Iterable[str]) -> tuple[int, ...]:
                found = await original(namespaces)
                feed.deliver(b"shop")  # announced between the read and its use
                return found

            counting.generations = racing  # type: ignore[method-assign]  # the race, made certain
            await reader.get("page")
            counting.generations = original  # type: ignore[method-assign]  # back to the real store
            asked = counting.asked
            await reader.get("page")
            assert counting.asked == asked + 1  # not trusted: asked again
        finally:
            await feed.close()
            await gateway.client.delete([key async for key in gateway.client.scan_iter(match=f"{gateway.prefix}*")])


async def _true(value: bool) -> bool:
    return value


async def _body_is(reader: EntryReader, key: str, body: bytes) -> bool:
    entry = await reader.get(key)
    return entry is not None and entry.body == body


class TestAudiences:
    """A customer group's callers are an audience of their own (its prices are nobody else's);
    a caller of no group shares the public entries, whatever else its token says."""

    def test_each_group_staff_and_everybody_else_are_apart(self) -> None:
        assert audience_of(["customer"]) == audience_of(["customer"], None) == audience_of(()) == PUBLIC_AUDIENCE
        assert audience_of(["customer"], "business", "default") == "group:business@default"
        # Each storefront's groups are its own; a group without its storefront (an old token) is apart too.
        assert audience_of(["customer"], "business", "marbelle") == "group:business@marbelle"
        assert audience_of(["customer"], "wholesale-eu_2", "b") == "group:wholesale-eu_2@b"
        assert audience_of(["customer"], "business") == "group:business@"
        assert audience_of(["customer", "staff"], "business") == STAFF_AUDIENCE
        assert audience_of(["customer"], "") == audience_of(["customer"], 42) == PUBLIC_AUDIENCE


def test_an_api_key_limited_to_some_storefronts_never_shares_the_staff_entries() -> None:
    from atelier_common.cache.entries import LIMITED_KEY_AUDIENCE, STAFF_AUDIENCE

    staff = ("staff", "support")
    assert audience_of(staff) == audience_of(staff, storefronts=["*"]) == STAFF_AUDIENCE
    assert audience_of(staff, storefronts=["shop"]) == LIMITED_KEY_AUDIENCE
    assert audience_of(staff, storefronts="garbled") == LIMITED_KEY_AUDIENCE  # fail closed
