"""API keys for machine callers (docs/security.md, "API keys").

- `ApiKeys`: the admin's API: create (the secret shown once), list, get, rotate, revoke; audited.
- `ApiKeyExchange`: the gateway's `/internal/api-keys/exchange`: a live secret for a short-lived
  access token carrying the key's roles, narrow scopes and storefront scope, so every service's role checks apply
  to it unchanged.

A secret is `atk_live_` and 256 random bits, stored as its SHA-256 (a random secret of that size
needs no slow hash: nobody can guess one, so a stolen table gives nothing to try offline).
Revoking writes `identity.token_revoked` for the key's id (every token it was exchanged for is its
subject's), which every process's denylist hears, as it hears a sign-out, and marks the key in the
install's Redis after the commit (`SharedRevocations`), which the gateway reads before it reuses an
exchange.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select

from atelier_common import audit, outbox
from atelier_common.auth import ALL_STOREFRONTS, API_KEY_PREFIX, KEY_SCOPES, ROLE_STAFF, Principal
from atelier_common.contracts.identity import TokenRevoked
from atelier_common.denylist import mark_after_commit
from atelier_common.storefronts import UnknownStorefront
from atelier_identity import domain
from atelier_identity.errors import (
    ApiKeyExpiryPast,
    ApiKeyNotFound,
    ApiKeyWithoutAccess,
    InvalidApiKey,
    UnknownApiKeyScope,
    UnknownStaffRole,
    UnknownStorefrontScope,
)
from atelier_identity.models import ApiKey, ApiKeySecret
from atelier_identity.service._clock import now
from atelier_identity.service._use_case import IdentityUseCase

SECRET_PREFIX = f"{API_KEY_PREFIX}live_"
HINT_LENGTH = len(SECRET_PREFIX) + 4
# An exchanged token lives this long at most (less when the key or its secret expires sooner): a
# token outlives a revocation only where the denylist has not heard it (docs/security.md).
TOKEN_TTL = timedelta(minutes=5)
# A rotation's old secret keeps working this long unless the admin says otherwise.
DEFAULT_ROTATION_GRACE = timedelta(hours=24)
MAX_ROTATION_GRACE = timedelta(days=30)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_api_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class KeyView:
    """A key as admins see it: never a secret, only each live secret's hint and retirement."""

    key: ApiKey
    secrets: list[ApiKeySecret]

    def read(self) -> dict[str, Any]:
        k = self.key
        return {"id": k.id, "name": k.name, "roles": k.roles, "scopes": k.scopes, "storefronts": k.storefronts,
                "expires_at": k.expires_at, "created_by": k.created_by, "created_at": k.created_at,
                "revoked_at": k.revoked_at, "last_used_at": k.last_used_at, "use_count": k.use_count,
                "secrets": [{"hint": s.hint, "created_at": s.created_at, "expires_at": s.expires_at}
                            for s in self.secrets]}


@dataclass(frozen=True)
class Exchanged:
    token: str
    expires_at: datetime
    key_id: uuid.UUID


def _audited(key: ApiKey) -> dict[str, Any]:
    return {"name": key.name, "roles": key.roles, "scopes": key.scopes, "storefronts": key.storefronts,
            "expires_at": key.expires_at}


class ApiKeys(IdentityUseCase):
    """`/api/v1/staff/api-keys` (admin)."""

    async def create(self, *, name: str, roles: list[str], storefronts: list[str], expires_at: datetime | None,
                     staff: Principal, scopes: list[str] | None = None) -> tuple[KeyView, str]:
        """A new key and its one secret, returned here and never again. It has roles, narrow scopes
        (`KEY_SCOPES`) or both: never neither, so no key is made that can call nothing."""
        scopes = scopes or []
        if unknown := domain.unknown_staff_roles(roles):
            raise UnknownStaffRole(unknown)
        if unknown := sorted(set(scopes) - set(KEY_SCOPES)):
            raise UnknownApiKeyScope(unknown)
        if not roles and not scopes:
            raise ApiKeyWithoutAccess()
        if expires_at is not None and expires_at <= now():
            raise ApiKeyExpiryPast()
        scope = await self._scope(storefronts)
        key = ApiKey(name=name.strip(), roles=sorted(set(roles)), scopes=sorted(set(scopes)), storefronts=scope,
                     expires_at=expires_at,
                     created_by=staff.user_id, created_at=now())
        self.session.add(key)
        await self.session.flush()
        secret, row = self._secret(key.id)
        await audit.record(self.session, staff, "api_key.create", "api_key", key.id, after=_audited(key))
        return KeyView(key, [row]), secret

    async def _scope(self, storefronts: list[str]) -> list[str]:
        """A non-empty list of existing slugs, or ["*"] alone (every storefront, later ones too)."""
        if ALL_STOREFRONTS in storefronts:
            return [ALL_STOREFRONTS]
        for slug in storefronts:
            try:
                await self.context.storefronts.get(slug)
            except UnknownStorefront as exc:
                raise UnknownStorefrontScope(slug) from exc
        return sorted(set(storefronts))

    def _secret(self, key_id: uuid.UUID) -> tuple[str, ApiKeySecret]:
        secret = new_api_secret()
        row = ApiKeySecret(key_id=key_id, secret_hash=secret_hash(secret), hint=secret[:HINT_LENGTH], created_at=now())
        self.session.add(row)
        return secret, row

    async def page(self, *, limit: int, offset: int) -> tuple[int, list[KeyView]]:
        count = (await self.session.exec(select(func.count()).select_from(ApiKey))).one()
        keys = (await self.session.exec(select(ApiKey).order_by(col(ApiKey.created_at).desc(), col(ApiKey.id))
                                        .limit(limit).offset(offset))).all()
        live = await self._live_secrets([k.id for k in keys])
        return count, [KeyView(k, live.get(k.id, [])) for k in keys]

    async def get(self, key_id: uuid.UUID) -> KeyView:
        key = await self._key(key_id)
        return KeyView(key, (await self._live_secrets([key.id])).get(key.id, []))

    async def _key(self, key_id: uuid.UUID, *, for_update: bool = False) -> ApiKey:
        stmt = select(ApiKey).where(col(ApiKey.id) == key_id)
        if for_update:
            stmt = stmt.with_for_update()
        key = (await self.session.exec(stmt)).first()
        if key is None:
            raise ApiKeyNotFound()
        return key

    async def _live_secrets(self, key_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[ApiKeySecret]]:
        if not key_ids:
            return {}
        at = now()
        rows = (await self.session.exec(select(ApiKeySecret).where(col(ApiKeySecret.key_id).in_(key_ids))
                                        .order_by(col(ApiKeySecret.created_at)))).all()
        live: dict[uuid.UUID, list[ApiKeySecret]] = {}
        for row in rows:
            if row.expires_at is None or row.expires_at > at:
                live.setdefault(row.key_id, []).append(row)
        return live

    async def rotate(self, key_id: uuid.UUID, *, grace: timedelta, staff: Principal) -> tuple[KeyView, str]:
        """A new secret (returned once); the current one retires after `grace` (0: now). Two live
        secrets at most: one still retiring from an earlier rotation retires now."""
        key = await self._key(key_id, for_update=True)
        self._usable(key)
        at = now()
        retire_at = at + grace
        for row in (await self._live_secrets([key.id])).get(key.id, []):
            # The current secret retires at `retire_at`; one already retiring goes now.
            row.expires_at = retire_at if row.expires_at is None else at
        secret, _ = self._secret(key.id)
        await self.session.flush()
        await audit.record(self.session, staff, "api_key.rotate", "api_key", key.id,
                           after={"old_secret_expires_at": retire_at})
        return await self.get(key.id), secret

    async def revoke(self, key_id: uuid.UUID, *, staff: Principal) -> KeyView:
        """Stops the key at once: no exchange from now on, and every token it was exchanged for is
        refused wherever `identity.token_revoked` is heard. Revoking again changes nothing."""
        key = await self._key(key_id, for_update=True)
        if key.revoked_at is None:
            at = now()
            key.revoked_at = at
            keep = max(TOKEN_TTL, self.context.longest_access_ttl)
            await outbox.add(self.session, TokenRevoked(user_id=key.id, all_before=at, expires_at=at + keep))
            # The gateways reuse an exchange for up to a minute; this mark stops that at the commit,
            # without waiting for the broker.
            mark_after_commit(self.session, str(key.id), keep.total_seconds())
            await audit.record(self.session, staff, "api_key.revoke", "api_key", key.id,
                               before={"revoked_at": None}, after={"revoked_at": at})
        return await self.get(key.id)

    @staticmethod
    def _usable(key: ApiKey) -> None:
        if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now()):
            raise ApiKeyNotFound("The API key is revoked or expired")


class ApiKeyExchange(IdentityUseCase):
    """`/internal/api-keys/exchange` (the gateway, service credential)."""

    async def exchange(self, secret: str) -> Exchanged:
        if not secret.startswith(SECRET_PREFIX) or len(secret) > 128:
            raise InvalidApiKey()
        at = now()
        found = (await self.session.exec(
            select(ApiKeySecret, ApiKey).join(ApiKey, col(ApiKey.id) == col(ApiKeySecret.key_id))
            .where(col(ApiKeySecret.secret_hash) == secret_hash(secret)))).first()
        if found is None:
            raise InvalidApiKey()
        row, key = found
        ends = [e for e in (row.expires_at, key.expires_at) if e is not None]
        if key.revoked_at is not None or any(e <= at for e in ends):
            raise InvalidApiKey()
        # One UPDATE per exchange (the gateway caches each): no read-modify-write race on the count.
        await self.session.execute(update(ApiKey).where(col(ApiKey.id) == key.id)
                                   .values(last_used_at=at, use_count=col(ApiKey.use_count) + 1))
        expires_at = min([at + TOKEN_TTL, *ends])
        signed = self.context.signer.sign_api_key(key.id, key.name, [ROLE_STAFF, *key.roles], key.storefronts, at,
                                                  expires_at, scopes=key.scopes)
        return Exchanged(signed.token, signed.expires_at, key.id)

    async def access(self, key_id: uuid.UUID) -> tuple[bool, list[str]] | None:
        """(usable now, roles) of a key, for `/internal/users/{id}/access`; None: no such key."""
        key = await self.session.get(ApiKey, key_id)
        if key is None:
            return None
        usable = key.revoked_at is None and (key.expires_at is None or key.expires_at > now())
        return usable, [ROLE_STAFF, *key.roles]
