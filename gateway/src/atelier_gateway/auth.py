"""Tokens at the edge: early rejection of bad access tokens, the denylist, anonymous tokens.

The gateway signs anonymous tokens with its own key and verifies access tokens against
identity's JWKS. Services verify again; this only keeps bad requests away from them.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from atelier_common.auth import TokenVerifier
from atelier_common.denylist import Denylist
from atelier_common.errors import InvalidToken
from atelier_common.keys import ALGORITHM, SigningKey

# Tokens remembered as verified at the edge (access: by the verifier; anonymous: here).
EDGE_CACHE_SIZE = 20_000


class EdgeAuth:
    def __init__(self, verifier: TokenVerifier, anon_key: SigningKey, *, issuer: str, audience: str,
                 anon_ttl: timedelta) -> None:
        self.verifier = verifier
        self.anon_key = anon_key
        self.anon_public = anon_key.private_key.public_key()
        self.issuer = issuer
        self.audience = audience
        self.anon_ttl = anon_ttl
        self.denylist = Denylist()
        self._anon_cache: dict[str, float] = {}

    async def access_claims(self, token: str) -> dict[str, Any]:
        # The verifier remembers verified tokens (the signature check is the costly part of a
        # request) as long as they are unexpired and their key is not retired.
        claims = await self.verifier.decode(token, "access")
        if self.denylist.denies(claims):
            raise InvalidToken("The token has been revoked")
        return claims

    def known_claims(self, authorization: bytes) -> dict[str, Any] | None:
        """The claims of a bearer token verified before, still valid and not revoked; None for any
        other (`access_claims` decides, and answers a bad one with 401)."""
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        claims = self.verifier.remembered(token.strip(), "access") if scheme.lower() == "bearer" else None
        if claims is None or self.denylist.denies(claims):
            return None
        return claims

    def anon_valid(self, token: str) -> bool:
        exp = self._anon_cache.get(token)
        if exp is not None:
            return exp > time.time()
        try:
            header = jwt.get_unverified_header(token)
            if header.get("kid") != self.anon_key.kid:
                return False
            claims = jwt.decode(token, self.anon_public, algorithms=[ALGORITHM], audience=self.audience,
                                issuer=self.issuer, options={"require": ["exp", "sub", "jti"]})
        except jwt.PyJWTError:
            return False
        if claims.get("typ") != "anon":
            return False
        if len(self._anon_cache) >= EDGE_CACHE_SIZE:
            self._anon_cache.clear()
        self._anon_cache[token] = claims["exp"]
        return True

    def mint_anon(self) -> str:
        now = datetime.now(UTC)
        claims = {"iss": self.issuer, "aud": self.audience, "sub": str(uuid.uuid4()), "typ": "anon",
                  "iat": now, "exp": now + self.anon_ttl, "jti": uuid.uuid4().hex}
        return jwt.encode(claims, self.anon_key.private_key, algorithm=ALGORITHM, headers={"kid": self.anon_key.kid})
