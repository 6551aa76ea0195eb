"""Revoked access tokens, refused wherever they arrive: at the gateway and in every service.

Identity publishes `identity.token_revoked` through its outbox on logout (one token, by `jti`)
and when it ends every session of a user (`all_before`: every token issued up to that instant).
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
from typing import Any, Protocol

from atelier_common.contracts.identity import KeyRetired, TokenRevoked
from atelier_common.events import Envelope, EventBus


class Denylist:
    """Access tokens refused until they expire: by jti, or every token of a user issued before a time."""

    def __init__(self) -> None:
        self._jtis: dict[str, float] = {}
        self._users_before: dict[str, tuple[float, float]] = {}
        self._last_purge = time.monotonic()

    def revoke(self, event: TokenRevoked) -> None:
        expires = event.expires_at.timestamp()
        if event.jti:
            self._jtis[event.jti] = expires
        if event.all_before is not None:
            self._users_before[str(event.user_id)] = (event.all_before.timestamp(), expires)
        self._purge()

    def revoke_jti(self, jti: str, expires_at: float) -> None:
        self._jtis[jti] = expires_at

    def denies(self, claims: dict[str, Any]) -> bool:
        if claims.get("jti") in self._jtis:
            return True
        before = self._users_before.get(claims.get("sub", ""))
        return before is not None and claims.get("iat", 0) <= before[0]

    def _purge(self) -> None:
        now = time.time()
        if time.monotonic() - self._last_purge < 60:
            return
        self._last_purge = time.monotonic()
        self._jtis = {j: e for j, e in self._jtis.items() if e > now}
        self._users_before = {u: v for u, v in self._users_before.items() if v[1] > now}


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
