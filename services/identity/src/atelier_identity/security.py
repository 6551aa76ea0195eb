"""Password hashing and access-token signing: built once at startup, used by the service."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import argon2
import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from atelier_common.auth import GROUP_CLAIM, GROUP_STOREFRONT_CLAIM, SCOPES_CLAIM, SESSION_CLAIM, STOREFRONTS_CLAIM
from atelier_common.keys import ALGORITHM, SigningKey
from atelier_identity.domain import new_secret
from atelier_identity.legacy_hashes import DJANGO_HASHERS, WorkCaps
from atelier_identity.models import User

# Where a person's token has their email, an API key's has this and the key's name (the audit log's
# `actor_email`); no address starts so (a colon is in none).
API_KEY_EMAIL_PREFIX = "api-key:"

if TYPE_CHECKING:
    from atelier_identity.settings import IdentitySettings


class PasswordHasher:
    """Argon2id through pwdlib, off the event loop (each hash costs tens of milliseconds of CPU).

    Django's formats verify too (accounts moved in keep their passwords); a match in any format but
    the current Argon2id parameters comes back with the new hash, for the caller to store. A stored
    hash asking more work than `caps` allow is never run (`WorkCaps`): it fails like a wrong password.
    """

    def __init__(self, *, time_cost: int = argon2.DEFAULT_TIME_COST,
                 memory_cost_kib: int = argon2.DEFAULT_MEMORY_COST,
                 parallelism: int = argon2.DEFAULT_PARALLELISM, caps: WorkCaps = WorkCaps()) -> None:
        self._hash = PasswordHash((Argon2Hasher(time_cost=time_cost, memory_cost=memory_cost_kib,
                                                parallelism=parallelism), *DJANGO_HASHERS))
        # Atelier's own hashes always verify, whatever the caps say of Argon2.
        self.caps = replace(caps, argon2_memory_kib=max(caps.argon2_memory_kib, memory_cost_kib),
                            argon2_time_cost=max(caps.argon2_time_cost, time_cost),
                            argon2_parallelism=max(caps.argon2_parallelism, parallelism))
        # Unknown accounts are checked against this, so a wrong email costs as much as a wrong password.
        self._dummy = self._hash.hash(new_secret())

    @classmethod
    def of(cls, settings: IdentitySettings) -> PasswordHasher:
        """The hasher identity's settings describe (the service's, and the import's)."""
        return cls(time_cost=settings.password_hash_time_cost, memory_cost_kib=settings.password_hash_memory_cost_kib,
                   parallelism=settings.password_hash_parallelism, caps=WorkCaps(
                       pbkdf2_iterations=settings.password_hash_max_pbkdf2_iterations,
                       argon2_memory_kib=settings.password_hash_max_argon2_memory_kib,
                       argon2_time_cost=settings.password_hash_max_argon2_time_cost,
                       argon2_parallelism=settings.password_hash_max_argon2_parallelism,
                       bcrypt_cost=settings.password_hash_max_bcrypt_cost))

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hash.hash, password)

    async def verify(self, password: str, hashed: str | None) -> tuple[bool, str | None]:
        """(matches, new hash when the stored one uses outdated parameters)."""
        if hashed is None or not self.usable(hashed):
            # Unknown or passwordless account, a hash no hasher reads (Django's unusable `!…`) or
            # one asking more work than the caps: the same work against the dummy, then a refusal.
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
        """Whether this stored hash can ever verify here (what an import checks before keeping it)."""
        return self.refusal(hashed) is None

    def refusal(self, hashed: str) -> str | None:
        """Why this stored hash can never verify here: no hasher reads its format, or it asks more
        work than the caps allow; None when it can."""
        if not any(hasher.identify(hashed) for hasher in self._hash.hashers):
            return f"password hash format {hashed.split('$', 1)[0]!r} cannot be verified"
        return self.caps.excess(hashed)


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

    def sign(self, user: User, now: datetime, ttl: timedelta | None = None, *,
             session_id: uuid.UUID | None = None, group: str | None = None,
             storefront: str | None = None) -> SignedAccess:
        """An access token for `user` issued at `now`, living `ttl` (the install's by default), of
        the session `session_id` (its refresh token family: what a password change keeps); with
        `group`, the customer group it pays the prices of on `storefront` (`domain.token_group`)."""
        jti = uuid.uuid4().hex
        expires_at = now + (ttl or self.ttl)
        # `iat` keeps its fraction of a second: the gateway refuses tokens issued up to an instant
        # (`token_revoked.all_before`), and a new sign-in in that same second must not be refused.
        claims = {"iss": self.issuer, "aud": self.audience, "iat": now.timestamp(), "exp": expires_at, "jti": jti,
                  "sub": str(user.id), "typ": "access", "roles": user.roles, "email": user.email}
        if session_id is not None:
            claims[SESSION_CLAIM] = str(session_id)
        if group is not None and storefront is not None:
            # The prices this customer pays on `storefront` only; absent: the public ones.
            claims[GROUP_CLAIM], claims[GROUP_STOREFRONT_CLAIM] = group, storefront
        return self._signed(claims, jti, expires_at)

    def sign_api_key(self, key_id: uuid.UUID, name: str, roles: list[str], storefronts: list[str], now: datetime,
                     expires_at: datetime, *, scopes: list[str] | None = None) -> SignedAccess:
        """An API key's access token: its id as the subject (what revocation denies), `api-key:<name>`
        where a person's token has their email (what the audit log shows), its storefront scope and
        its narrow scopes (`scp`, only when it has some: a key with roles only carries none)."""
        jti = uuid.uuid4().hex
        claims: dict[str, Any] = {"iss": self.issuer, "aud": self.audience, "iat": now.timestamp(), "exp": expires_at,
                                  "jti": jti, "sub": str(key_id), "typ": "access", "roles": roles,
                                  "email": f"{API_KEY_EMAIL_PREFIX}{name}", STOREFRONTS_CLAIM: storefronts}
        if scopes:
            claims[SCOPES_CLAIM] = scopes
        return self._signed(claims, jti, expires_at)

    def _signed(self, claims: dict[str, Any], jti: str, expires_at: datetime) -> SignedAccess:
        key = self.key
        token = jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})
        return SignedAccess(token=token, jti=jti, expires_at=expires_at)
