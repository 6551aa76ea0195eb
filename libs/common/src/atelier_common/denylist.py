"""Revoked access tokens, refused wherever they arrive: at the gateway and in every service.

Identity publishes `identity.token_revoked` through its outbox on logout (one token, by `jti`)
and when it ends the sessions of a user (`all_before`: every token issued up to that instant, but
those whose `sid` is `keep_session` when set: a password change keeps the caller's session).
Each process that checks tokens keeps its own `Denylist` and hears the event on a broadcast
subscription (every instance gets its own copy); `TokenVerifier` consults it, so a service
reached without the gateway refuses a logged-out token as the gateway does. Entries live until
the token would have expired anyway (access tokens are short-lived).

The same subscription hears `identity.key_retired` (a signing key retired early, a leaked one):
the process's JWKS cache refuses that key from then on (`JwksCache.retire`).

`SharedRevocations` is for what a process keeps past one request: the gateway reuses an API key's
exchanged token, so identity also marks a revoked key in the install's Redis after the commit, and
the gateway reads that mark before each reuse (a revocation holds at once, the broker down too).

How long a revoked token still works, and why: docs/security.md.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from atelier_common.contracts.identity import KeyRetired, TokenRevoked
from atelier_common.events import Envelope, EventBus
from atelier_common.redisguard import RedisGuard, RedisUnavailable, guard_for
from atelier_common.settings import AtelierSettings

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger("atelier.denylist")


@dataclass(frozen=True)
class _Ended:
    """Sessions of a user ended at `before` (every token issued up to then), but `keep` (a `sid`)."""

    before: float
    keep: str | None
    expires: float

    def denies(self, claims: dict[str, Any]) -> bool:
        return claims.get("iat", 0) <= self.before and (self.keep is None or claims.get("sid") != self.keep)

    def covers(self, other: _Ended) -> bool:
        """Whether this entry refuses every token `other` refuses, for at least as long."""
        return (self.before >= other.before and self.expires >= other.expires
                and (self.keep is None or self.keep == other.keep))


class Denylist:
    """Access tokens refused until they expire: by jti, or every token of a user issued before a time
    (but one session's, when the event keeps it)."""

    def __init__(self) -> None:
        self._jtis: dict[str, float] = {}
        # Per user, every ending heard and not covered by a later one: two password changes from two
        # sessions each keep their own, and an event heard late never weakens one heard before.
        self._ended: dict[str, list[_Ended]] = {}
        self._last_purge = time.monotonic()

    def revoke(self, event: TokenRevoked) -> None:
        expires = event.expires_at.timestamp()
        if event.jti:
            self._jtis[event.jti] = expires
        if event.all_before is not None:
            keep = str(event.keep_session) if event.keep_session is not None else None
            ended = _Ended(event.all_before.timestamp(), keep, expires)
            entries = self._ended.setdefault(str(event.user_id), [])
            if not any(e.covers(ended) for e in entries):
                entries[:] = [e for e in entries if not ended.covers(e)] + [ended]
        self._purge()

    def revoke_jti(self, jti: str, expires_at: float) -> None:
        self._jtis[jti] = expires_at

    def denies(self, claims: dict[str, Any]) -> bool:
        if claims.get("jti") in self._jtis:
            return True
        return any(e.denies(claims) for e in self._ended.get(claims.get("sub", ""), ()))

    def _purge(self) -> None:
        now = time.time()
        if time.monotonic() - self._last_purge < 60:
            return
        self._last_purge = time.monotonic()
        self._jtis = {j: e for j, e in self._jtis.items() if e > now}
        ended = {u: [e for e in entries if e.expires > now] for u, entries in self._ended.items()}
        self._ended = {u: entries for u, entries in ended.items() if entries}


class RetiredKeys(Protocol):
    def retire(self, kid: str) -> None: ...


def subscribe_revocations(bus: EventBus, consumer: str, denylist: Denylist, keys: RetiredKeys) -> None:
    """Every instance of `consumer` hears each `identity.token_revoked` and `identity.key_retired`
    (a broadcast subscription): `denylist` refuses the tokens, `keys` (the JWKS cache) the key."""

    async def on_revocation(envelope: Envelope) -> None:
        # Idempotent by nature (set inserts), so no inbox is needed here.
        if envelope.type == KeyRetired.type:
            keys.retire(KeyRetired.model_validate(envelope.data).kid)
        else:
            denylist.revoke(TokenRevoked.model_validate(envelope.data))

    bus.subscribe(consumer, [TokenRevoked.type, KeyRetired.type], on_revocation, broadcast=True)


# A transaction's marks to write once it commits (`session.info`).
_MARKS = "shared_revocation_marks"
# The shared mark's keys: `<redis_key_prefix>revoked-subject:<sub>` → the revocation's Unix time.
SUBJECT_KEY = "revoked-subject:"


class SharedRevocations:
    """A subject's revocation written to the install's Redis, read by every gateway process at once:
    what a process that keeps an access token for reuse (the gateway's API-key exchanges) checks
    before each reuse, so a revocation holds there without waiting for the broker.

    The mark says "do not reuse a token issued up to then"; it is written after the commit, so no
    token is issued after it (the issuer refuses the revoked subject) and the issuer stays the judge.
    Redis out (`RedisUnavailable`, the guard's breaker): `revoked_at` answers None and the caller
    keeps its own bound; `mark` reports the failure and the broker's event still carries the
    revocation.
    """

    def __init__(self, url: str, guard: RedisGuard, *, key_prefix: str = "atelier:") -> None:
        # Imported here: a process without Redis never loads the client.
        import coredis

        self.guard = guard
        self.prefix = key_prefix + SUBJECT_KEY
        self._redis: coredis.Redis[bytes] = coredis.Redis.from_url(url, **guard.client_options())

    async def mark(self, subject: str, at: float, *, keep_seconds: float) -> bool:
        """Tokens of `subject` issued up to `at` are refused for `keep_seconds` (as long as any of
        them lives); False: Redis did not take it."""
        key, value, ttl = self.prefix + subject, repr(at), max(1, int(keep_seconds) + 1)
        try:
            await self.guard.run(lambda: self._redis.set(key, value, ex=ttl))
        except RedisUnavailable:
            return False
        return True

    async def revoked_at(self, subject: str) -> float | None:
        """When `subject`'s tokens were last revoked (every one issued up to then); None: never, or
        Redis out."""
        try:
            raw = await self.guard.run(lambda: self._redis.get(self.prefix + subject))
        except RedisUnavailable:
            return None
        try:
            return float(raw) if raw is not None else None
        except ValueError:
            return None

    async def committed(self, info: dict[str, Any]) -> None:
        """`Database.on_session_commit` hook: the marks the committed transaction asked for
        (`mark_after_commit`), each at the time of its commit: every token issued before it is
        refused, and none can be issued after it."""
        for subject, keep_seconds in info.pop(_MARKS, ()):
            if not await self.mark(subject, time.time(), keep_seconds=keep_seconds):
                log.warning("revocation of %s not written to Redis: gateways learn it from the broker", subject)

    def close(self) -> None:
        self._redis.connection_pool.disconnect()


def mark_after_commit(session: AsyncSession, subject: str, keep_seconds: float) -> None:
    """Mark `subject` revoked in the shared Redis once `session`'s transaction commits (never for
    one rolled back); the broker's `identity.token_revoked`, added to the same transaction, stays the
    revocation every process hears."""
    session.info.setdefault(_MARKS, []).append((subject, keep_seconds))


def shared_revocations(settings: AtelierSettings) -> SharedRevocations | None:
    """The install's shared marks (`redis_url`, the shared rate limits' Redis); None without Redis
    (the embedded mode: its one bus hears every revocation at the commit)."""
    if not settings.redis_url:
        return None
    return SharedRevocations(settings.redis_url, guard_for(settings, settings.redis_url),
                             key_prefix=settings.redis_key_prefix)
