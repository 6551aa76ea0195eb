"""Password hashing and access-token signing: built once at startup, used by the service."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import argon2
import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from atelier_common.keys import ALGORITHM, SigningKey
from atelier_identity.domain import new_secret
from atelier_identity.legacy_hashes import DJANGO_HASHERS
from atelier_identity.models import User


class PasswordHasher:
    """Argon2id through pwdlib, off the event loop (each hash costs tens of milliseconds of CPU).

    Django's formats verify too (accounts moved in keep their passwords); a match in any format but
    the current Argon2id parameters comes back with the new hash, for the caller to store.
    """

    def __init__(self, *, time_cost: int = argon2.DEFAULT_TIME_COST,
                 memory_cost_kib: int = argon2.DEFAULT_MEMORY_COST,
                 parallelism: int = argon2.DEFAULT_PARALLELISM) -> None:
        self._hash = PasswordHash((Argon2Hasher(time_cost=time_cost, memory_cost=memory_cost_kib,
                                                parallelism=parallelism), *DJANGO_HASHERS))
        # Unknown accounts are checked against this, so a wrong email costs as much as a wrong password.
        self._dummy = self._hash.hash(new_secret())

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hash.hash, password)

    async def verify(self, password: str, hashed: str | None) -> tuple[bool, str | None]:
        """(matches, new hash when the stored one uses outdated parameters)."""
        if hashed is None or not self.usable(hashed):
            # Unknown or passwordless account, or a hash no hasher reads (Django's unusable `!…`):
            # the same work against the dummy, then a refusal.
            await asyncio.to_thread(self._hash.verify_and_update, password, self._dummy)
            return False, None
        return await asyncio.to_thread(self._hash.verify_and_update, password, hashed)

    async def check(self, password: str, user: User | None) -> bool:
        """Verify `user`'s password (a dummy check when there is no user); on a match in an older
        format, store the re-hash on the user, so it is saved in the caller's transaction."""
        matches, rehashed = await self.verify(password, user.password_hash if user else None)
        if matches and rehashed and user is not None:
            user.password_hash = rehashed
        return matches

    def usable(self, hashed: str) -> bool:
        """Whether some hasher reads this stored hash (what an import checks before keeping it)."""
        return any(hasher.identify(hashed) for hasher in self._hash.hashers)


class KeyHolder(Protocol):
    @property
    def current(self) -> SigningKey: ...


@dataclass(frozen=True)
class SignedAccess:
    token: str
    jti: str
    expires_at: datetime


class AccessTokenSigner:
    """Signs access tokens with identity's Ed25519 key; every service verifies them via the JWKS."""

    def __init__(self, keys: SigningKey | KeyHolder, *, issuer: str, audience: str, ttl: timedelta) -> None:
        # A key ring (`atelier_identity.keyring`): its current key changes on rotation.
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl

    @property
    def key(self) -> SigningKey:
        return self.keys if isinstance(self.keys, SigningKey) else self.keys.current

    def sign(self, user: User, now: datetime) -> SignedAccess:
        jti = uuid.uuid4().hex
        expires_at = now + self.ttl
        # `iat` keeps its fraction of a second: the gateway refuses tokens issued up to an instant
        # (`token_revoked.all_before`), and a new sign-in in that same second must not be refused.
        claims = {"iss": self.issuer, "aud": self.audience, "iat": now.timestamp(), "exp": expires_at, "jti": jti,
                  "sub": str(user.id), "typ": "access", "roles": user.roles, "email": user.email}
        key = self.key
        token = jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})
        return SignedAccess(token=token, jti=jti, expires_at=expires_at)
