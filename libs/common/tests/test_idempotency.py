"""Idempotency keys: the store on a real service database (SQLite, and PostgreSQL when set), and
the route dependency on a small app."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, status
from pydantic import BaseModel
from sqlalchemy import update
from sqlmodel import col

import atelier_orders
from atelier_common.auth import JwksCache, TokenVerifier
from atelier_common.columns import utcnow
from atelier_common.db import Database
from atelier_common.errors import ServiceUnavailable, install_error_handlers
from atelier_common.idempotency import (
    DEFAULT_REQUEST_TIMEOUT,
    MAX_REQUEST_TIMEOUT,
    MIN_REQUEST_TIMEOUT,
    Claim,
    IdempotencyDep,
    IdempotencyKey,
    IdempotencyKeyReused,
    IdempotencyStore,
    InProgress,
    StoredResponse,
    request_hash,
    request_timeout,
)
from atelier_testing import TestKeys

pytestmark = pytest.mark.databases("sqlite", "postgres", why="the idempotency keys' upserts and locks")

# Any service whose migrations create the table will do.
MIGRATIONS = Path(atelier_orders.__file__).parent / "migrations"


@pytest.fixture
def db(open_database) -> Database:
    return open_database("orders", MIGRATIONS)



async def _claim(db: Database, *args: Any, **kwargs: Any) -> Claim | InProgress | StoredResponse:
    """`IdempotencyStore.claim` in a transaction of its own, as one request's."""
    async with db.transaction() as session:
        return await IdempotencyStore(session).claim(*args, **kwargs)


async def _release(db: Database, *args: Any) -> None:
    """`IdempotencyStore.release` in a transaction of its own."""
    async with db.transaction() as session:
        await IdempotencyStore(session).release(*args)

class TestRequestHash:
    def test_json_key_order_and_spacing_do_not_matter(self) -> None:
        assert request_hash(b'{"a": 1, "b": [1, 2]}') == request_hash(b'{"b":[1,2],"a":1}')

    def test_another_value_is_another_hash(self) -> None:
        assert request_hash(b'{"a": 1}') != request_hash(b'{"a": 2}')

    def test_a_body_that_is_not_json_is_hashed_as_bytes(self) -> None:
        assert request_hash(b"not json") == request_hash(b"not json") != request_hash(b"not json!")


class TestStore:
    async def test_a_new_key_is_claimed_then_answers_its_stored_response(self, db: Database) -> None:
        claim = await _claim(db, "s", "k1", "h")
        assert isinstance(claim, Claim)
        async with db.transaction() as session:
            assert await IdempotencyStore(session).store("s", "k1", claim, StoredResponse(201, '{"id":1}'))
        stored = await _claim(db, "s", "k1", "h")
        assert isinstance(stored, StoredResponse) and (stored.status_code, stored.body) == (201, '{"id":1}')

    async def test_a_claim_not_yet_answered_is_in_progress_for_the_next(self, db: Database) -> None:
        assert isinstance(await _claim(db, "s", "k0", "h"), Claim)
        assert isinstance(await _claim(db, "s", "k0", "h"), InProgress)

    async def test_another_body_with_the_same_key_is_refused(self, db: Database) -> None:
        async with db.transaction() as session:
            store = IdempotencyStore(session)
            claim = await store.claim("s", "k2", "h")
            assert isinstance(claim, Claim)
            await store.store("s", "k2", claim, StoredResponse(200, "{}"))
        with pytest.raises(IdempotencyKeyReused):
            await _claim(db, "s", "k2", "other")

    async def test_another_scope_is_another_key(self, db: Database) -> None:
        async with db.transaction() as session:
            store = IdempotencyStore(session)
            assert isinstance(await store.claim("user:a", "k3", "h"), Claim)
            assert isinstance(await store.claim("user:b", "k3", "h"), Claim)

    async def test_a_released_claim_is_a_new_key(self, db: Database) -> None:
        claim = await _claim(db, "s", "k4", "h")
        assert isinstance(claim, Claim)
        await _release(db, "s", "k4", claim)
        assert isinstance(await _claim(db, "s", "k4", "h"), Claim)

    async def test_an_expired_key_is_new_again(self, db: Database) -> None:
        async with db.transaction() as session:
            store = IdempotencyStore(session)
            claim = await store.claim("s", "k5", "h")
            assert isinstance(claim, Claim)
            await store.store("s", "k5", claim, StoredResponse(200, '{"n":1}'))
        async with db.transaction() as session:
            row = await session.get(IdempotencyKey, ("s", "k5"))
            assert row is not None and row.expires_at - row.created_at == timedelta(hours=24)
            await session.execute(update(IdempotencyKey).where(col(IdempotencyKey.key) == "k5")
                                  .values(expires_at=utcnow() - timedelta(seconds=1)))
        async with db.transaction() as session:
            store = IdempotencyStore(session)
            claim = await store.claim("s", "k5", "another body, now allowed")
            assert isinstance(claim, Claim)
            await store.store("s", "k5", claim, StoredResponse(200, '{"n":2}'))
        stored = await _claim(db, "s", "k5", "another body, now allowed")
        assert isinstance(stored, StoredResponse) and stored.body == '{"n":2}'

    async def test_a_claim_left_past_its_lease_is_taken_over_and_the_old_one_cannot_answer(
            self, db: Database) -> None:
        abandoned = await _claim(db, "s", "k6", "h")  # its process died, or its commit failed
        assert isinstance(abandoned, Claim)
        async with db.transaction() as session:  # its lease (its request's deadline) ran out
            await session.execute(update(IdempotencyKey).where(col(IdempotencyKey.key) == "k6")
                                  .values(expires_at=utcnow() - timedelta(milliseconds=1)))
        taken = await _claim(db, "s", "k6", "h")
        assert isinstance(taken, Claim)
        async with db.transaction() as session:
            store = IdempotencyStore(session)
            assert not await store.store("s", "k6", abandoned, StoredResponse(200, '{"old":1}'))
            assert await store.store("s", "k6", taken, StoredResponse(200, '{"new":1}'))


    async def test_an_unanswered_claim_is_leased_until_its_request_deadline(self, db: Database) -> None:
        claim = await _claim(db, "s", "k7", "h", lease=timedelta(seconds=3))
        assert isinstance(claim, Claim)
        async with db.transaction() as session:
            row = await session.get(IdempotencyKey, ("s", "k7"))
            assert row is not None and row.expires_at - row.created_at == timedelta(seconds=3)
            assert isinstance(await IdempotencyStore(session).claim("s", "k7", "h"), InProgress)

    async def test_an_answer_is_never_taken_over_by_a_lapsed_claims_retry(self, db: Database) -> None:
        claim = await _claim(db, "s", "k8", "h", lease=timedelta(seconds=1))
        assert isinstance(claim, Claim)
        async with db.transaction() as session:  # answered just as its lease ran out
            assert await IdempotencyStore(session).store("s", "k8", claim, StoredResponse(201, '{"id":8}'))
            await session.execute(update(IdempotencyKey).where(col(IdempotencyKey.key) == "k8")
                                  .values(created_at=utcnow() - timedelta(seconds=5)))
        stored = await _claim(db, "s", "k8", "h")
        assert isinstance(stored, StoredResponse) and stored.body == '{"id":8}'


class TestRequestTimeout:
    def test_the_gateways_word_within_bounds(self) -> None:
        assert request_timeout("12.5") == timedelta(seconds=12.5)
        assert request_timeout(None) == DEFAULT_REQUEST_TIMEOUT
        assert request_timeout("0") == MIN_REQUEST_TIMEOUT and request_timeout("1e9") == MAX_REQUEST_TIMEOUT
        for nonsense in ("soon", "nan", "inf", "-inf", ""):
            assert request_timeout(nonsense) in (DEFAULT_REQUEST_TIMEOUT, MIN_REQUEST_TIMEOUT, MAX_REQUEST_TIMEOUT)
        assert request_timeout("nan") == DEFAULT_REQUEST_TIMEOUT


class Made(BaseModel):
    id: int
    note: str = "made"


def _app(db: Database, keys: TestKeys) -> tuple[FastAPI, list[dict[str, Any]]]:
    app = FastAPI()
    install_error_handlers(app)
    app.state.db = db
    app.state.verifier = TokenVerifier(JwksCache(None, static_json=keys.jwks_json), issuer="atelier",
                                       audience="atelier")
    made: list[dict[str, Any]] = []
    counter = itertools.count(1)

    async def make(body: dict[str, Any]) -> dict[str, Any]:
        made.append(body)
        return {"id": next(counter), "ignored": "not in the response model"}

    @app.post("/things", response_model=Made, status_code=status.HTTP_201_CREATED)
    async def create_thing(body: dict[str, Any], idempotency: IdempotencyDep) -> Any:
        return await idempotency.run(lambda: make(body))

    return app, made


class TestRouteDependency:
    @pytest.fixture
    async def client(self, db: Database, test_keys: TestKeys) -> AsyncIterator[tuple[httpx.AsyncClient, list]]:
        app, made = _app(db, test_keys)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield client, made

    async def test_replay_conflict_and_no_header(self, client: tuple[httpx.AsyncClient, list],
                                                 test_keys: TestKeys) -> None:
        http, made = client
        headers = test_keys.user_headers(uuid.uuid4())
        keyed = {**headers, "Idempotency-Key": "abc"}
        first = await http.post("/things", json={"x": 1}, headers=keyed)
        again = await http.post("/things", content=b'{ "x" : 1 }',
                                headers={**keyed, "Content-Type": "application/json"})
        assert (first.status_code, first.json()) == (201, {"id": 1, "note": "made"})
        assert (again.status_code, again.content) == (201, first.content)
        reused = await http.post("/things", json={"x": 2}, headers=keyed)
        assert reused.status_code == 409 and reused.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
        plain = [await http.post("/things", json={"x": 1}, headers=headers) for _ in range(2)]
        assert [(r.status_code, r.json()["id"]) for r in plain] == [(201, 2), (201, 3)]
        assert len(made) == 3

    async def test_the_same_key_of_another_caller_runs_again(self, client: tuple[httpx.AsyncClient, list],
                                                             test_keys: TestKeys) -> None:
        http, made = client
        for headers in (test_keys.user_headers(uuid.uuid4()), test_keys.anon_headers(uuid.uuid4())):
            response = await http.post("/things", json={}, headers={**headers, "Idempotency-Key": "same"})
            assert response.status_code == 201
        assert len(made) == 2

    async def test_a_key_too_long_is_a_validation_error(self, client: tuple[httpx.AsyncClient, list],
                                                        test_keys: TestKeys) -> None:
        http, made = client
        response = await http.post("/things", json={}, headers={**test_keys.user_headers(uuid.uuid4()),
                                                                "Idempotency-Key": "k" * 256})
        assert response.status_code == 400 and response.json()["error"]["code"] == "VALIDATION_ERROR"
        assert made == []


class TestTheRequestsDeadline:
    """A keyed call lives as long as its caller waits (`X-Request-Timeout`): cut then, its claim
    given back, or lapsed when the database that would take it back is gone (a failover)."""

    @pytest.fixture
    async def slow(self, db: Database, test_keys: TestKeys) -> AsyncIterator[tuple[httpx.AsyncClient, dict]]:
        app = FastAPI()
        install_error_handlers(app)
        app.state.db = db
        app.state.verifier = TokenVerifier(JwksCache(None, static_json=test_keys.jwks_json), issuer="atelier",
                                           audience="atelier")
        state: dict[str, Any] = {"hang": set(), "fail": set(), "made": [], "started": asyncio.Event()}

        async def make(body: dict[str, Any]) -> dict[str, Any]:
            state["started"].set()
            if body.get("n") in state["hang"]:
                await asyncio.sleep(3600)  # a call stuck on a service that stopped answering
            if body.get("n") in state["fail"]:
                raise ServiceUnavailable("the primary went away")
            state["made"].append(body)
            return {"id": len(state["made"])}

        @app.post("/things", response_model=Made, status_code=status.HTTP_201_CREATED)
        async def create_thing(body: dict[str, Any], idempotency: IdempotencyDep) -> Any:
            return await idempotency.run(lambda: make(body))

        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield client, state

    async def test_a_call_outliving_its_caller_is_cut_and_its_retry_runs_at_once(
            self, slow: tuple[httpx.AsyncClient, dict], test_keys: TestKeys) -> None:
        http, state = slow
        state["hang"].add(1)
        headers = {**test_keys.user_headers(uuid.uuid4()), "Idempotency-Key": "cut", "X-Request-Timeout": "1"}
        first = await http.post("/things", json={"n": 1}, headers=headers)
        assert first.status_code == 503 and first.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert first.headers["retry-after"] == "1" and state["made"] == []
        state["hang"].clear()
        retried = await http.post("/things", json={"n": 1}, headers=headers)
        assert (retried.status_code, retried.json()["id"]) == (201, 1)

    async def test_a_claim_the_database_could_not_take_back_lapses_at_its_deadline(
            self, slow: tuple[httpx.AsyncClient, dict], test_keys: TestKeys, monkeypatch) -> None:
        http, state = slow
        state["hang"].add(1)

        async def database_gone(*_: Any, **__: Any) -> None:
            raise ConnectionError("the primary went away")
        monkeypatch.setattr(IdempotencyStore, "release", database_gone)
        headers = {**test_keys.user_headers(uuid.uuid4()), "Idempotency-Key": "failover", "X-Request-Timeout": "1"}
        assert (await http.post("/things", json={"n": 1}, headers=headers)).status_code == 503
        monkeypatch.undo()
        state["hang"].clear()
        # The retry, as docs/operations.md says: the claim is still there, but only until the first
        # request's deadline (1 s), not for minutes; then it runs, once.
        retried = await http.post("/things", json={"n": 1}, headers={**headers, "X-Request-Timeout": "30"})
        assert (retried.status_code, retried.json()["id"], len(state["made"])) == (201, 1, 1)

    async def test_a_claim_is_given_back_as_soon_as_the_database_is_back(
            self, slow: tuple[httpx.AsyncClient, dict], test_keys: TestKeys, monkeypatch) -> None:
        http, state = slow
        state["fail"].add(1)
        real_release = IdempotencyStore.release

        async def database_gone(*_: Any, **__: Any) -> None:
            raise ConnectionError("no primary yet")
        monkeypatch.setattr(IdempotencyStore, "release", database_gone)
        headers = {**test_keys.user_headers(uuid.uuid4()), "Idempotency-Key": "promoted", "X-Request-Timeout": "600"}
        assert (await http.post("/things", json={"n": 1}, headers=headers)).status_code == 503
        # The standby is promoted: the release retried in the background lands, long before the
        # first request's 10-minute deadline, and the retry runs then.
        monkeypatch.setattr(IdempotencyStore, "release", real_release)
        state["fail"].clear()

        async def placed() -> httpx.Response | None:
            r = await http.post("/things", json={"n": 1}, headers={**headers, "X-Request-Timeout": "2"})
            return r if r.status_code == 201 else None
        retried = await poll_until(placed, timeout=30)
        assert retried.json()["id"] == 1 and len(state["made"]) == 1

    async def test_a_retry_waiting_past_its_own_deadline_is_told_to_retry(
            self, slow: tuple[httpx.AsyncClient, dict], test_keys: TestKeys) -> None:
        http, state = slow
        state["hang"].add(1)
        caller = test_keys.user_headers(uuid.uuid4())
        first = asyncio.create_task(http.post("/things", json={"n": 1}, headers={
            **caller, "Idempotency-Key": "busy", "X-Request-Timeout": "60"}))
        await asyncio.wait_for(state["started"].wait(), 30)
        waiting = await http.post("/things", json={"n": 1}, headers={
            **caller, "Idempotency-Key": "busy", "X-Request-Timeout": "1"})
        assert waiting.status_code == 409 and waiting.json()["error"]["code"] == "IDEMPOTENCY_KEY_IN_USE"
        assert waiting.headers["retry-after"] == "1" and state["made"] == []
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)

    async def test_a_retry_while_the_first_runs_gets_its_answer(
            self, slow: tuple[httpx.AsyncClient, dict], test_keys: TestKeys) -> None:
        http, state = slow
        headers = {**test_keys.user_headers(uuid.uuid4()), "Idempotency-Key": "both"}
        answers = await asyncio.gather(*(http.post("/things", json={"n": 2}, headers=headers) for _ in range(3)))
        assert {(a.status_code, a.content) for a in answers} == {(201, answers[0].content)}
        assert len(state["made"]) == 1


async def poll_until(check: Any, *, timeout: float) -> Any:
    """`check()`'s first truthy answer, asked until `timeout` seconds have passed."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout
    while (found := await check()) is None:
        assert loop.time() < give_up, "not within the deadline"
        await asyncio.sleep(0.1)
    return found
