"""Signing keys for tests and tokens minted with them, shaped exactly like the real ones."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from atelier_common.keys import ALGORITHM, SigningKey, jwks


class TestKeys:
    __test__ = False  # not a test class

    def __init__(self, issuer: str = "atelier", audience: str = "atelier") -> None:
        self.access = SigningKey.generate()
        self.anon = SigningKey.generate()
        self.issuer = issuer
        self.audience = audience

    @property
    def jwks_json(self) -> str:
        return json.dumps(jwks(self.access, self.anon))

    def _sign(self, key: SigningKey, claims: dict[str, Any], ttl: timedelta) -> str:
        now = datetime.now(UTC)
        body = {"iss": self.issuer, "aud": self.audience, "iat": now, "exp": now + ttl,
                "jti": uuid.uuid4().hex, **claims}
        return jwt.encode(body, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})

    def access_token(self, user_id: uuid.UUID | None = None, roles: Iterable[str] = ("customer",), *,
                     email: str | None = None, ttl: timedelta = timedelta(minutes=15),
                     group: str | None = None, group_storefront: str = "default",
                     session: uuid.UUID | None = None) -> str:
        claims: dict[str, Any] = {"sub": str(user_id or uuid.uuid4()), "typ": "access", "roles": list(roles),
                                  "email": email}
        if group is not None:
            # A customer group's member on `group_storefront`, as identity signs it.
            claims["grp"], claims["grp_sf"] = group, group_storefront
        if session is not None:
            claims["sid"] = str(session)  # the session (refresh token family) identity issued it in
        return self._sign(self.access, claims, ttl)

    def api_key_token(self, key_id: uuid.UUID, roles: Iterable[str], storefronts: Iterable[str], *, name: str = "erp",
                      scopes: Iterable[str] | None = None, ttl: timedelta = timedelta(minutes=5)) -> str:
        """An access token as identity signs one in exchange for an API key's secret."""
        claims: dict[str, Any] = {"sub": str(key_id), "typ": "access", "roles": ["staff", *roles],
                                  "email": f"api-key:{name}", "sfs": list(storefronts)}
        if scopes is not None:
            claims["scp"] = list(scopes)
        return self._sign(self.access, claims, ttl)

    def api_key_headers(self, roles: Iterable[str] = (), storefronts: Iterable[str] = ("*",), *,
                        scopes: Iterable[str] | None = None) -> dict[str, str]:
        """An API key's headers: its roles, storefront scope and narrow scopes."""
        return {"Authorization": f"Bearer {self.api_key_token(uuid.uuid4(), roles, storefronts, scopes=scopes)}"}

    def anon_token(self, anon_id: uuid.UUID | None = None, ttl: timedelta = timedelta(days=28)) -> str:
        return self._sign(self.anon, {"sub": str(anon_id or uuid.uuid4()), "typ": "anon"}, ttl)

    def user_headers(self, user_id: uuid.UUID | None = None, roles: Iterable[str] = ("customer",)) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token(user_id, roles)}"}

    def group_headers(self, group: str = "business", user_id: uuid.UUID | None = None, *,
                      storefront: str = "default") -> dict[str, str]:
        """The headers of a member of `group` on `storefront` (the default's `business` unless named)."""
        return {"Authorization": f"Bearer {self.access_token(user_id, group=group, group_storefront=storefront)}"}

    def staff_headers(self, *roles: str) -> dict[str, str]:
        """A staffer's headers; with no role named, an admin (what `is_staff` alone allowed before staff roles)."""
        roles = roles or ("admin",)
        return self.user_headers(roles=("customer", "staff", *roles))

    def anon_headers(self, anon_id: uuid.UUID | None = None) -> dict[str, str]:
        return {"X-Anonymous-Token": self.anon_token(anon_id)}
