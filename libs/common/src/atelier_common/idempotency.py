"""Idempotency keys (Stripe's semantics): a client that retries a POST never places or charges twice.

A route that creates something (an order, a payment, a checkout) takes the `Idempotency-Key`
header through one dependency and runs its single service call inside it:

    @router.post("/orders", response_model=OrderRead, status_code=201)
    async def place_order(data: OrderCreate, ..., idempotency: IdempotencyDep) -> Any:
        return await idempotency.run(lambda: placement.place(buyer, data))

- No header: `run` just awaits the call; the route behaves exactly as without the mechanism.
- A new key: the key row (`idempotency_key`, primary key `(scope, key)`) is claimed first in a
  short transaction of its own (committed at once: no connection is held while the call waits on
  other services), then the call runs, then the answer (status code and the exact JSON bytes,
  serialised with the route's response model) is stored in that row in the request's transaction:
  its commit keeps the effect and the stored answer together, or neither. A call that raises
  releases its claim (deleted in a transaction of its own), so a retry runs again.
- The same key again with the same body (the canonical JSON of the request body, hashed): the
  stored answer, byte for byte, with `Idempotent-Replayed: true`. Nothing runs again.
- The same key with another body: 409 `IDEMPOTENCY_KEY_REUSED`.
- A request lives as long as its caller waits: the gateway says how long (`X-Request-Timeout`,
  its proxy timeout; `DEFAULT_REQUEST_TIMEOUT` without it). The call is cut at that deadline (503
  `SERVICE_UNAVAILABLE`, its effects rolled back), so nothing goes on working for a client the
  gateway has answered, and a claim is leased until then (`expires_at` of an unanswered row).
- Concurrent requests with one key: the first claims it; the others find a claim without an answer
  and poll (`CLAIM_POLL_SECONDS`, a short transaction each, no connection held in between) until
  the answer is stored, then replay it; if the first released its claim, one of them claims and runs.
  A claim whose lease ran out without an answer (its request was cut, its process died, or the
  database that would have released it went away, as in a failover) is taken over by the next
  request at once, like an expired key (a guarded UPDATE on `created_at`, the claim's token, and on
  the lease: the answer is stored only by the request holding the current claim). A request still
  waiting at its own deadline is 409 `IDEMPOTENCY_KEY_IN_USE` (retry).
- Errors are not stored: a call that raises releases its claim and its effects roll back, so a
  retry runs again (a use case that keeps a record with `commit_on_error` keeps that record).
- Scope: the service, the route (method and path template) and the caller (user id, else
  anonymous id). The same key from another caller or on another route is another key.
- Keys live `DEFAULT_TTL` (24 h, `expires_at`); an expired key is treated as new (its row is
  taken over with a guarded UPDATE); housekeeping deletes expired rows (`sweep`).

Each service that uses it creates the table in a migration with `migrations.create_idempotency_table()`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request
from fastapi.routing import APIRoute
from pydantic import TypeAdapter
from sqlalchemy import Column, Index, Text, delete, update
from sqlmodel import Field, SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import Response

from atelier_common.auth import Principal, get_principal
from atelier_common.columns import UtcDateTime, utcnow
from atelier_common.db import Database, SessionDep, dialect_insert
from atelier_common.errors import AtelierError, ValidationFailed
from atelier_common.housekeeping import Sweep, expired
from atelier_common.state import app_state

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Set by the gateway: the seconds it waits for this request's answer.
TIMEOUT_HEADER = "X-Request-Timeout"
DEFAULT_TTL = timedelta(hours=24)
# A request's life without the gateway's word (a direct call): the gateway's default proxy timeout.
DEFAULT_REQUEST_TIMEOUT = timedelta(seconds=30)
# The bounds a gateway's word is held to.
MIN_REQUEST_TIMEOUT, MAX_REQUEST_TIMEOUT = timedelta(seconds=1), timedelta(minutes=10)
# The deadline comes this much before the caller gives up: the answer (a 503, a 409) must reach it
# before its own timeout does (the gateway's 504 would say nothing of what happened).
ANSWER_MARGIN = timedelta(milliseconds=500)
# Giving a claim back after a failed call waits no longer than this: a database that went away
# (a failover) does not hold the failed request; the release is retried in the background, every
# `RELEASE_RETRY_SECONDS` until the claim's lease runs out (then it has lapsed anyway).
RELEASE_SECONDS = 2.0
RELEASE_RETRY_SECONDS = 0.5
# Releases under way after their request answered (a reference keeps each task alive).
_RELEASING: set[asyncio.Task[None]] = set()
CLAIM_POLL_SECONDS = 0.05
MAX_KEY_LENGTH = 255
T = TypeVar("T")

log = logging.getLogger("atelier.idempotency")


class IdempotencyKeyReused(AtelierError):
    code, status, default_message = ("IDEMPOTENCY_KEY_REUSED", 409,
                                     "This Idempotency-Key was used with another request body")


class IdempotencyClaimLost(AtelierError):
    code, status, default_message = ("CONFLICT", 409,
                                     "This request took too long: a retry with its Idempotency-Key took over")


class IdempotencyKeyInUse(AtelierError):
    code, status, default_message = ("IDEMPOTENCY_KEY_IN_USE", 409,
                                     "A request with this Idempotency-Key is still running: retry")

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details=details, headers={"Retry-After": "1"})


class RequestOutlived(AtelierError):
    code, status, default_message = ("SERVICE_UNAVAILABLE", 503,
                                     "The request took longer than its caller waits; nothing was done: retry")

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details=details, headers={"Retry-After": "1"})


@dataclass(frozen=True)
class Claim:
    """This request holds the key: `token` (the row's `created_at`) guards the answer's UPDATE."""

    token: datetime


@dataclass(frozen=True)
class InProgress:
    """Another request holds the key and has not answered yet."""


class IdempotencyKey(SQLModel, table=True):
    """One key of one caller on one route, and the answer its first request got."""

    __tablename__ = "idempotency_key"
    # The sweep's range (`expires_at < now`).
    __table_args__ = (Index("ix_idempotency_key_expires_at", "expires_at"),)

    scope: str = Field(primary_key=True, max_length=200)
    key: str = Field(primary_key=True, max_length=MAX_KEY_LENGTH)
    request_hash: str = Field(max_length=64)
    # NULL until the first request's call returned (in the same transaction).
    status_code: int | None = None
    response_body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    # Unanswered: the end of the claim's lease (its request's deadline); answered: `created_at` + TTL.
    expires_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


def request_hash(body: bytes) -> str:
    """The body's fingerprint: its canonical JSON (key order and spacing do not matter), else its bytes."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


class StoredResponse:
    def __init__(self, status_code: int, body: str) -> None:
        self.status_code = status_code
        self.body = body

    def response(self, *, replayed: bool) -> Response:
        headers = {REPLAYED_HEADER: "true"} if replayed else None
        return Response(self.body.encode(), status_code=self.status_code, media_type="application/json",
                        headers=headers)


class IdempotencyStore:
    """The table's operations in one session; no commit (the request's transaction commits)."""

    def __init__(self, session: AsyncSession, *, ttl: timedelta = DEFAULT_TTL) -> None:
        self.session = session
        self.ttl = ttl

    def _insert(self) -> Any:
        return dialect_insert(self.session)

    async def claim(self, scope: str, key: str, fingerprint: str, *,
                    lease: timedelta = DEFAULT_REQUEST_TIMEOUT) -> Claim | InProgress | StoredResponse:
        """Take the key for this request for `lease` (a `Claim`: run the call by then), or say that
        another request holds it, or return the first request's answer.

        Raises IdempotencyKeyReused when the key was used with another body.
        """
        now = utcnow()
        stmt = (self._insert()(IdempotencyKey)
                .values(scope=scope, key=key, request_hash=fingerprint, created_at=now, expires_at=now + lease)
                .on_conflict_do_nothing().returning(IdempotencyKey.key))
        if (await self.session.execute(stmt)).scalar_one_or_none() is not None:
            return Claim(now)
        while True:
            row = await self._get(scope, key)
            if row is None:  # deleted meanwhile (a release, a cleanup): a new key
                if (await self.session.execute(stmt)).scalar_one_or_none() is not None:
                    return Claim(now)
                continue
            if row.request_hash != fingerprint and row.expires_at > now:
                raise IdempotencyKeyReused(details={"key": key})
            if row.expires_at <= now:  # an answer past its TTL, or a claim past its lease
                if await self._take_over(row, fingerprint, now, lease):
                    return Claim(now)
                continue  # another request took it over (or answered) first: read again
            if row.status_code is None:
                return InProgress()
            assert row.response_body is not None
            return StoredResponse(row.status_code, row.response_body)

    async def _get(self, scope: str, key: str) -> IdempotencyKey | None:
        return await self.session.get(IdempotencyKey, (scope, key), populate_existing=True)

    async def _take_over(self, row: IdempotencyKey, fingerprint: str, now: datetime, lease: timedelta) -> bool:
        """Guarded UPDATE: only one request reuses an expired key or a lapsed claim, and never one
        answered meanwhile (the answer's commit moved `expires_at` on: re-read, it is replayed)."""
        stmt = (update(IdempotencyKey)
                .where(col(IdempotencyKey.scope) == row.scope, col(IdempotencyKey.key) == row.key,
                       col(IdempotencyKey.created_at) == row.created_at, col(IdempotencyKey.expires_at) <= now)
                .values(request_hash=fingerprint, status_code=None, response_body=None, created_at=now,
                        expires_at=now + lease)
                .returning(col(IdempotencyKey.key)))
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def store(self, scope: str, key: str, claim: Claim, response: StoredResponse) -> bool:
        """The answer, if this request still holds the claim (False: it was taken over)."""
        stmt = (update(IdempotencyKey)
                .where(col(IdempotencyKey.scope) == scope, col(IdempotencyKey.key) == key,
                       col(IdempotencyKey.created_at) == claim.token)
                .values(status_code=response.status_code, response_body=response.body,
                        expires_at=claim.token + self.ttl)
                .returning(col(IdempotencyKey.key)))
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def release(self, scope: str, key: str, claim: Claim) -> None:
        """Give the key back unanswered (the call failed): the next request with it runs again."""
        await self.session.execute(delete(IdempotencyKey).where(
            col(IdempotencyKey.scope) == scope, col(IdempotencyKey.key) == key,
            col(IdempotencyKey.created_at) == claim.token, col(IdempotencyKey.status_code).is_(None)))


class Idempotency:
    """The request side: what a route's `run(call)` does with or without the header."""

    def __init__(self, db: Database, session: AsyncSession, *, key: str | None, scope: str, fingerprint: str,
                 route: APIRoute | None, ttl: timedelta = DEFAULT_TTL, deadline: datetime | None = None) -> None:
        self.db = db
        self.key = key
        self.scope = scope
        self.fingerprint = fingerprint
        self.route = route
        self.ttl = ttl
        # When the caller stops waiting (`X-Request-Timeout`); the call is cut then.
        self.deadline = deadline or utcnow() + DEFAULT_REQUEST_TIMEOUT
        self.store = IdempotencyStore(session, ttl=ttl)

    def _left(self) -> timedelta:
        return self.deadline - utcnow()

    async def run(self, call: Callable[[], Awaitable[T]]) -> T | Response:
        """Await `call` once per key, by the request's deadline; without a key just await it by
        then (FastAPI serialises as usual)."""
        if self.key is None:
            return await self._by_deadline(call)
        claim = await self._claim(self.key)
        if isinstance(claim, StoredResponse):
            return claim.response(replayed=True)
        try:
            result = await self._by_deadline(call)
            answer = self._serialise(result)
            if not await self.store.store(self.scope, self.key, claim, answer):
                raise IdempotencyClaimLost(details={"key": self.key})
        except BaseException:
            await self._release(self.key, claim)
            raise
        return answer.response(replayed=False)

    async def _by_deadline(self, call: Callable[[], Awaitable[T]]) -> T:
        """`call`, cut when the caller stops waiting: its effects roll back with the request's
        transaction, and a retry finds the key free (or its lease run out) at once."""
        try:
            async with asyncio.timeout(max(self._left().total_seconds(), 0)):
                return await call()
        except TimeoutError as exc:
            raise RequestOutlived() from exc

    async def _release(self, key: str, claim: Claim) -> None:
        """Give the key back, if the database answers soon; else keep trying in the background
        until it does (a failover's promotion), at the latest until the claim's lease runs out."""
        if not await self._released(key, claim):
            log.warning("idempotency key %s not released: the database did not answer; retrying until %s",
                        key, self.deadline.isoformat())
            task = asyncio.create_task(self._release_later(key, claim))
            _RELEASING.add(task)
            task.add_done_callback(_RELEASING.discard)

    async def _released(self, key: str, claim: Claim) -> bool:
        try:
            async with asyncio.timeout(RELEASE_SECONDS), self.db.transaction() as session:
                await IdempotencyStore(session, ttl=self.ttl).release(self.scope, key, claim)
        except Exception:  # the failed call's own error is the one to answer
            return False
        return True

    async def _release_later(self, key: str, claim: Claim) -> None:
        while utcnow() < self.deadline:
            await asyncio.sleep(RELEASE_RETRY_SECONDS)
            if await self._released(key, claim):
                return

    async def _claim(self, key: str) -> Claim | StoredResponse:
        """The key for this request until its deadline, or the answer of the request that held it
        (waited for while this request may wait)."""
        while True:
            if self._left() <= timedelta(0):
                raise IdempotencyKeyInUse(details={"key": key})
            async with self.db.transaction() as session:
                found = await IdempotencyStore(session, ttl=self.ttl).claim(self.scope, key, self.fingerprint,
                                                                            lease=self._left())
            if not isinstance(found, InProgress):
                return found
            await asyncio.sleep(CLAIM_POLL_SECONDS)

    def _serialise(self, result: Any) -> StoredResponse:
        """The JSON FastAPI would send: the route's response model, by alias, with its status code."""
        route = self.route
        status_code = (route.status_code if route is not None and route.status_code else 200)
        model = route.response_model if route is not None else None
        if model is not None:
            adapter: TypeAdapter[Any] = TypeAdapter(model)
            value = adapter.validate_python(result, from_attributes=True)
            body = adapter.dump_json(value, by_alias=True).decode()
        else:
            body = TypeAdapter(Any).dump_json(result).decode()
        return StoredResponse(status_code, body)


def _caller(principal: Principal) -> str | None:
    if principal.user_id is not None:
        return f"user:{principal.user_id}"
    if principal.anon_id is not None:
        return f"anon:{principal.anon_id}"
    return None


async def idempotency(request: Request, session: SessionDep,
                      principal: Annotated[Principal, Depends(get_principal)],
                      raw: Annotated[str | None, Header(
                          alias=HEADER, description="Retry-safe key (24 h): the same key and body answer the "
                                                    "first response; another body is 409 IDEMPOTENCY_KEY_REUSED",
                      )] = None) -> Idempotency:
    """The dependency: reads the header, the caller and the body's fingerprint."""
    route = request.scope.get("route")
    api_route = route if isinstance(route, APIRoute) else None
    caller = _caller(principal)
    key: str | None = None
    fingerprint = ""
    if raw is not None and caller is not None:
        key = raw.strip()
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            raise ValidationFailed(details={"fields": {f"header.{HEADER}": [
                f"must be 1 to {MAX_KEY_LENGTH} printable characters"]}})
        fingerprint = request_hash(await request.body())
    path = api_route.path if api_route is not None else request.url.path
    scope = f"{session.info.get('service', 'unknown')}:{request.method} {path}:{caller}"
    return Idempotency(app_state(request.app, "db", Database), session, key=key, scope=scope[:200], fingerprint=fingerprint,
                       route=api_route,
                       deadline=utcnow() + request_timeout(request.headers.get(TIMEOUT_HEADER)) - ANSWER_MARGIN)


def request_timeout(value: str | None) -> timedelta:
    """How long the caller waits (the gateway's `X-Request-Timeout`), within sane bounds."""
    try:
        seconds = timedelta(seconds=float(value)) if value is not None else DEFAULT_REQUEST_TIMEOUT
    except (ValueError, OverflowError):  # not a number, NaN, infinite
        return DEFAULT_REQUEST_TIMEOUT
    return min(max(seconds, MIN_REQUEST_TIMEOUT), MAX_REQUEST_TIMEOUT)


# A route's parameter: `idempotency: IdempotencyDep`, then `return await idempotency.run(...)`.
IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]


def sweep() -> Sweep:
    """Housekeeping: expired keys go (a key past `expires_at` is treated as new anyway; `claim`
    handles a row deleted under it)."""
    return expired("idempotency_keys", IdempotencyKey, lambda now: col(IdempotencyKey.expires_at) < now)
