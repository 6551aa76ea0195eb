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

How long a revoked token still works, and why: docs/security.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

from atelier_common.contracts.identity import KeyRetired, TokenRevoked
from atelier_common.events import Envelope, EventBus


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
