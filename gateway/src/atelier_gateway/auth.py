"""Tokens at the edge: early rejection of bad access tokens, the denylist, anonymous tokens, and
API keys exchanged for access tokens.

The gateway signs anonymous tokens with its own key and verifies access tokens against
identity's JWKS. Services verify again; this only keeps bad requests away from them.

An API key (`Bearer atk_live_…`) never goes past the gateway: identity exchanges it
(`/internal/api-keys/exchange`) for a short-lived access token with the key's roles and storefront
scope, which is what the services receive. The exchange is kept for `API_KEY_CACHE_SECONDS` under
the secret's SHA-256 (never the secret), and dropped as soon as its token is denied (the key
revoked: `identity.token_revoked` for the key's id) or identity has marked the key revoked in the
install's Redis (`SharedRevocations`, reread at most every `revocation_check_seconds` of a reuse:
the broker down, a revocation still holds within that), so that the next request asks identity again.
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt

from atelier_common.auth import TokenVerifier
from atelier_common.denylist import Denylist, SharedRevocations
from atelier_common.errors import InvalidToken, ServiceUnavailable
from atelier_common.internal import InternalApi
from atelier_common.keys import ALGORITHM, SigningKey

# Tokens remembered as verified at the edge (access: by the verifier; anonymous: here).
EDGE_CACHE_SIZE = 20_000
# How long an API key's exchange is reused: a secret a rotation retired, or a revoked key whose
# Redis mark this process cannot read and whose event it has not heard (Redis and the broker both
# down), works this long at most after identity stops it.
API_KEY_CACHE_SECONDS = 60.0
# Identity's exchange: the secret → its answer (`app` builds it on the internal API).
Exchanger = Callable[[str], Awaitable[httpx.Response]]


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
        self.exchanger: Exchanger | None = None
        # sha256(secret) → (its access token, used until)
        self._exchanged: dict[str, tuple[str, float]] = {}
        # Identity's marks of revoked keys in the install's Redis (None: no Redis, the embedded mode),
        # read at most every `revocation_check_seconds` per kept exchange (sha256 → when last read).
        self.revocations: SharedRevocations | None = None
        self.revocation_check_seconds = 0.0
        self._mark_read: dict[str, float] = {}

    async def api_key_token(self, secret: str, before_exchange: Callable[[], Awaitable[None]] | None = None,
                            ) -> tuple[str, dict[str, Any]]:
        """The access token an API key stands for now, and its claims: the kept exchange while it is
        fresh and its token not denied, else identity's answer (401 for a secret it refuses), after
        `before_exchange` (what counts the attempt: it may refuse it)."""
        digest = hashlib.sha256(secret.encode()).hexdigest()
        kept = self._exchanged.get(digest)
        if kept is not None and kept[1] > time.time():
            try:
                claims = await self.access_claims(kept[0])
                if not await self._marked_revoked(digest, claims):
                    return kept[0], claims
            except InvalidToken:
                pass  # revoked (or its signing key retired): identity decides again
        self._exchanged.pop(digest, None)
        self._mark_read.pop(digest, None)
        if self.exchanger is None:
            raise InvalidToken("API keys are not accepted here")
        if before_exchange is not None:
            await before_exchange()
        response = await self.exchanger(secret)
        if response.status_code == 401:
            raise InvalidToken("The API key is invalid, expired or revoked")
        try:
            response.raise_for_status()
            token = str(response.json()["access_token"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise ServiceUnavailable("identity cannot check the API key now") from exc
        claims = await self.access_claims(token)
        if len(self._exchanged) >= EDGE_CACHE_SIZE:
            self._exchanged.clear()
            self._mark_read.clear()
        # Identity just said yes: no mark to read before the next check is due.
        self._mark_read[digest] = time.monotonic()
        # Never past the token's own expiry (a few seconds short of it: it must still be valid upstream).
        self._exchanged[digest] = (token, min(time.time() + API_KEY_CACHE_SECONDS, claims["exp"] - 5))
        return token, claims

    async def _marked_revoked(self, digest: str, claims: dict[str, Any]) -> bool:
        """Whether identity marked the key revoked in the shared Redis after this token was issued:
        one GET per `revocation_check_seconds` per kept exchange (the JWT path never asks). Redis
        out: False, and the broker's event or the `API_KEY_CACHE_SECONDS` bound stops it."""
        if self.revocations is None:
            return False
        now = time.monotonic()
        if now - self._mark_read.get(digest, -math.inf) < self.revocation_check_seconds:
            return False
        at = await self.revocations.revoked_at(str(claims["sub"]))
        if at is not None and claims.get("iat", 0) <= at:
            return True
        self._mark_read[digest] = now
        return False

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


def api_key_exchanger(internal: InternalApi) -> Exchanger | None:
    """Identity's `/internal/api-keys/exchange` with the service credential; None without an
    identity (a gateway in front of other services alone): API keys are refused."""
    if "identity" not in internal.settings.service_urls:
        return None

    async def exchange(secret: str) -> httpx.Response:
        # A POST body: the secret stays out of URLs and every access log.
        return await internal.call("identity", "POST", "/internal/api-keys/exchange", json={"secret": secret},
                                   retries=0)

    return exchange
