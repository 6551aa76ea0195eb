"""The edge rules, written once: what a request is at the edge, derived by one pipeline for every
lane that answers it.

`Edge` reads a request (`RequestHeaders`, its client) into an `EdgeRequest`: its storefront and
whether a shared cache may key on what chose it, its caller (verified claims, valid anonymous
token, a token minted for it, client address), the limits it counts against (the install's
per-caller limit, the storefront's budget, the credentials limit: docs/limits.md), and the cache
audience and key it is looked up under, with the caller's negotiated language on a storefront
that has several (docs/caching.md). `Edge.count` and `Edge.count_now` count
those limits. The three lanes of `atelier_gateway.proxy` take their request from here:

- the full path (`Proxy._proxy`): `Edge.derive`, which may wait (a token verified, the storefronts
  loaded) and refuses a bad token or storefront;
- a cache hit in the ASGI stack (`Proxy.find_hit`): `Edge.derive_known`, which may wait for the
  storefronts but declines (None) a token never verified here or a storefront it would refuse;
- a cache hit written by the protocol (`Proxy.find_hit_now`): `Edge.derive_now`, which declines
  whatever needs I/O.

The three differ only in how they get the token's claims and the storefront; from there one
function (`Edge._request`) applies every rule, so the lanes differ only in how they answer.
`gateway/tests/test_edge_pipeline.py` holds them to it: a new edge rule goes in `_request`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from starlette.types import Scope

from atelier_common.auth import API_KEY_PREFIX, GROUP_CLAIM, GROUP_STOREFRONT_CLAIM, ROLE_STAFF, STOREFRONTS_CLAIM
from atelier_common.cache import PUBLIC_AUDIENCE, audience_of, entry_key
from atelier_common.errors import AtelierError, InvalidToken, RateLimited
from atelier_common.locales import query_locale
from atelier_common.ratelimit import RateLimiter
from atelier_common.telemetry import storefront_var
from atelier_gateway.auth import EdgeAuth
from atelier_gateway.routing import is_credential_path, needs_owner
from atelier_gateway.settings import GatewaySettings
from atelier_gateway.storefronts import COMPAT_PROFILE, StorefrontResolver


# Not frozen: a frozen dataclass's `__init__` costs ~1.5 µs more per request on the hit lanes;
# nothing changes either once made.
@dataclass(slots=True)
class Limit:
    """One limit a request counts against: its rule (`100/minute`), the keys it is counted under,
    and what a refusal names (`details.limit`, and the storefront's slug for a budget)."""

    rule: str
    keys: tuple[str, ...]
    name: str
    storefront: str | None = None


@dataclass(slots=True)
class EdgeRequest:
    """A request as the edge rules see it; the same for every lane (`Edge`)."""

    storefront: str
    # False when the `Referer` alone chose the storefront: no shared cache can key on it.
    shareable: bool
    claims: dict[str, Any] | None
    # The caller's valid anonymous token (a header's, else the cookie's), or the one minted for it.
    anon: bytes | None
    minted: bool
    ip: str
    audience: str
    # The response cache's key of a GET (`entry_key`); None for any other method.
    key: str | None
    # None: rate limits off (`rate_limits_enabled`).
    caller_limit: Limit | None
    # The storefront's own budget; None: the install's limits alone.
    budget: Limit | None
    # A credential POST's per-address limit; None for any other request.
    credential_limit: Limit | None
    # What the services get as `Authorization` in place of the caller's: an API key's exchanged
    # access token (the key itself never leaves the gateway); None: the caller's as sent.
    authorization: bytes | None = None

    @property
    def slug(self) -> bytes:
        return self.storefront.encode()


@dataclass
class Edge:
    settings: GatewaySettings
    auth: EdgeAuth
    storefronts: StorefrontResolver
    limiter: RateLimiter
    credential_limiter: RateLimiter
    budget_limiter: RateLimiter
    # Each caller's own limit (`_caller_limit`), by client address or by (user, staff).
    _limits: dict[str | tuple[str, bool], Limit] = field(default_factory=dict, init=False, repr=False)

    async def derive(self, scope: Scope, h: RequestHeaders) -> EdgeRequest:
        """The full path's: the storefront resolved (identity asked if need be; 4xx for an unknown
        one), the bearer token verified (401 for a bad or revoked one)."""
        storefront, shareable = await self.storefronts.resolve_for_sharing(
            h.storefront, h.origin, h.referer, scope.get(COMPAT_PROFILE))
        storefront_var.set(storefront)  # the access log's and the request metric's label, even for a 401
        claims = None
        exchanged = None
        audience = None
        if h.authorization is not None:
            token = _bearer(h.authorization)
            if token.startswith(API_KEY_PREFIX):
                token, claims = await self.auth.api_key_token(token, lambda: self._exchange_attempt(scope))
                exchanged = b"Bearer " + token.encode()
                # Only an API key's token carries a storefront scope: people's requests skip this.
                audience = audience_of(claims.get("roles", ()), None, None, claims.get(STOREFRONTS_CLAIM))
            else:
                claims = await self.auth.access_claims(token)
        request = self._request(scope, h, storefront, shareable, claims, audience)
        request.authorization = exchanged
        return request

    async def derive_known(self, scope: Scope, h: RequestHeaders) -> EdgeRequest | None:
        """`derive` for `Proxy.find_hit`: None (the full path decides) for a token this process has
        not verified before, or a storefront `derive` would refuse."""
        claims = None
        if h.authorization is not None and (claims := self.auth.known_claims(h.authorization)) is None:
            return None
        try:
            storefront, shareable = await self.storefronts.resolve_for_sharing(
                h.storefront, h.origin, h.referer, scope.get(COMPAT_PROFILE))
        except AtelierError:
            return None
        return self._request(scope, h, storefront, shareable, claims)

    def derive_now(self, scope: Scope, h: RequestHeaders) -> EdgeRequest | None:
        """`derive_known` with no I/O at all (`Proxy.find_hit_now`): None when the storefronts are
        not loaded, or the request names an `Origin` or a profile (what only `derive` resolves)."""
        if h.origin is not None or scope.get(COMPAT_PROFILE) is not None:
            return None
        claims = None
        if h.authorization is not None and (claims := self.auth.known_claims(h.authorization)) is None:
            return None
        chosen = self.storefronts.resolve_for_sharing_now(h.storefront, h.referer)
        if chosen is None:
            return None
        return self._request(scope, h, chosen[0], chosen[1], claims)

    def _request(self, scope: Scope, h: RequestHeaders, storefront: str, shareable: bool,
                 claims: dict[str, Any] | None, audience: str | None = None) -> EdgeRequest:
        """Every edge rule, for every lane. `audience`: an API key's, already told from its claims."""
        method: str = scope["method"]
        path: str = scope["path"]
        client = scope.get("client")
        ip = client[0] if client else "unknown"
        anon = self._anon_of(h.anon_candidates, h.cookie)
        minted = False
        # An identity is minted where the caller would own something (cart, order, book), never
        # for a sign-in or a read, through a profile too: a new one costs nothing here, and what
        # it could get for free is limited where it is given (docs/limits.md).
        if anon is None and claims is None and needs_owner(method, path):
            anon, minted = self.auth.mint_anon().encode(), True
        if audience is None:
            audience = PUBLIC_AUDIENCE if claims is None else _audience(claims)
        key = None
        if method == "GET":
            query: bytes = scope["query_string"]
            # The caller's language, only where the storefront lists languages (docs/caching.md).
            locale = ""
            directory = self.storefronts.directory
            if storefront in directory.with_languages and (record := directory.known(storefront)) is not None:
                locale = record.cache_locale(query_locale(query), h.accept_language)
            key = entry_key(scope.get("scheme", "http"), h.host, path, query, audience, storefront.encode(), locale)
        caller_limit = budget = credential_limit = None
        if self.settings.rate_limits_enabled:
            caller_limit = self._caller_limit(claims, ip)
            budget = self._budget(storefront, claims, anon)
            if method == "POST" and is_credential_path(path):
                credential_limit = Limit(self.settings.rate_limit_credentials_per_ip, ("credentials", ip),
                                         "rate_limit_credentials_per_ip")
        return EdgeRequest(storefront, shareable, claims, anon, minted, ip, audience, key, caller_limit, budget,
                           credential_limit)

    async def _exchange_attempt(self, scope: Scope) -> None:
        """An API key the gateway has no fresh exchange of is a credential attempt of the client
        address (`rate_limit_credentials_per_ip`): made-up keys cannot make identity look up one
        secret after another. A caller with a valid key exchanges it about once a minute."""
        if self.settings.rate_limits_enabled:
            client = scope.get("client")
            ip = client[0] if client else "unknown"
            await _hit(self.credential_limiter, Limit(self.settings.rate_limit_credentials_per_ip, ("credentials", ip),
                                                      "rate_limit_credentials_per_ip"))

    def _anon_of(self, candidates: list[bytes], cookie: bytes | None) -> bytes | None:
        """The caller's valid anonymous token: a header's, else the `anon_token` cookie's."""
        valid = self.auth.anon_valid
        for candidate in candidates:  # a loop, not `next(...)` over a generator: every hit asks
            if valid(candidate.decode("latin-1")):
                return candidate
        if cookie is not None:
            from_cookie = _cookie_value(cookie, b"anon_token")
            if from_cookie and valid(from_cookie.decode("latin-1")):
                return from_cookie
        return None

    def _caller_limit(self, claims: dict[str, Any] | None, ip: str) -> Limit:
        """The per-caller limit: a signed-in caller's (staff have their own, `rate_limit_staff`),
        else the ceiling of everyone without an access token behind the client address
        (`rate_limit_per_ip`). Made once per caller and kept (`_limits`): it depends on nothing
        else, and a cache hit costs less without a new one."""
        if not claims:
            limit = self._limits.get(ip)
            if limit is None:
                limit = self._keep(ip, Limit(self.settings.rate_limit_per_ip, (f"ip:{ip}",), "rate_limit_per_ip"))
            return limit
        staff = ROLE_STAFF in claims.get("roles", ())
        who = (claims["sub"], staff)
        limit = self._limits.get(who)
        if limit is None:
            limit = self._keep(who, Limit(self.settings.rate_limit_staff, (f"user:{who[0]}",), "rate_limit_staff")
                               if staff else
                               Limit(self.settings.rate_limit_default, (f"user:{who[0]}",), "rate_limit_default"))
        return limit

    def _keep(self, caller: str | tuple[str, bool], limit: Limit) -> Limit:
        if len(self._limits) >= _MAX_CALLERS:
            self._limits.clear()
        self._limits[caller] = limit
        return limit

    def _budget(self, slug: str, claims: dict[str, Any] | None, anon: bytes | None) -> Limit | None:
        """The storefront's own budget this request counts against: a customer's per user, an
        anonymous caller's per identity (never per address: the people behind one address each
        have theirs). None: the install's limits alone — staff, a caller with no identity at all
        (docs/limits.md says why), a storefront without a budget."""
        scale = self.settings.storefront_budget_scale
        storefront = self.storefronts.directory.known(slug) if scale > 0 else None
        if storefront is None:
            return None
        if claims:
            if ROLE_STAFF in claims.get("roles", ()):
                return None
            amount, name = storefront.policies.customer_requests_per_minute, "customer_requests_per_minute"
            if amount is None:
                return None
            who = f"user:{claims['sub']}"
        elif anon is not None:
            amount, name = storefront.policies.anonymous_requests_per_minute, "anonymous_requests_per_minute"
            if amount is None:
                return None
            who = "anon:" + hashlib.blake2b(anon, digest_size=12).hexdigest()  # the token is the identity
        else:
            return None
        return Limit(f"{max(1, round(amount * scale))}/minute", ("storefront", f"{slug}:{who}"), name, slug)

    async def count(self, request: EdgeRequest, budgeted: set[str] | None = None) -> None:
        """The install's per-caller limit, then the storefront's budget (once per seed request:
        `budgeted`, `proxy.BUDGETED`), then a credential POST's; `RateLimited` names the one
        refused in `details.limit`."""
        if request.caller_limit is not None:
            await _hit(self.limiter, request.caller_limit)
        budget = request.budget
        if budget is not None and (budgeted is None or budget.keys[-1] not in budgeted):
            if budgeted is not None:
                budgeted.add(budget.keys[-1])
            await _hit(self.budget_limiter, budget)
        if request.credential_limit is not None:
            await _hit(self.credential_limiter, request.credential_limit)

    def count_now(self, request: EdgeRequest) -> bool:
        """`count` when it needs no I/O: True when this process counted every limit itself
        (`RateLimiter.hit_now`); False counts nothing, and `count` decides. A storefront budget is
        counted in Redis, exactly: never here."""
        if request.budget is not None or request.credential_limit is not None:
            return False
        limit = request.caller_limit
        return limit is None or self.limiter.hit_now(limit.rule, *limit.keys)


# Callers whose `Limit` `Edge` keeps: cleared when full, as the tokens' caches are.
_MAX_CALLERS = 20_000


@dataclass(slots=True)
class RequestHeaders:
    """What the edge reads of a request's headers, in one pass, for every lane."""

    authorization: bytes | None = None
    request_id: bytes | None = None
    cookie: bytes | None = None
    host: bytes = b""
    if_none_match: bytes | None = None
    storefront: bytes | None = None
    origin: bytes | None = None
    referer: bytes | None = None
    accept_language: bytes | None = None
    # An Origin or a body: only the full path answers the request (CORS answers an Origin, a body
    # is bounded there).
    full_path_only: bool = False
    anon_candidates: list[bytes] = field(default_factory=list)
    # The last `X-Anonymous-Token` as sent, valid or not: what the access log names.
    anon_header: bytes | None = None

    @classmethod
    def read(cls, raw: list[tuple[bytes, bytes]]) -> RequestHeaders:
        h = cls()
        for key, value in raw:
            if key == b"x-anonymous-token":
                h.anon_candidates.append(value)
                h.anon_header = value
            elif key == b"x-session-id":
                h.anon_candidates.append(value)
            elif key == b"x-atelier-storefront":
                h.storefront = value
            elif key == b"authorization":
                h.authorization = value
            elif key == b"x-request-id":
                h.request_id = value
            elif key == b"cookie":
                h.cookie = value
            elif key == b"host":
                h.host = value
            elif key == b"if-none-match":
                h.if_none_match = value
            elif key == b"origin":
                h.origin = value
                h.full_path_only = True
            elif key == b"referer":
                h.referer = value
            elif key == b"content-length" or key == b"transfer-encoding":
                h.full_path_only = True
            elif key == b"accept-language":
                h.accept_language = value
        return h


def _bearer(authorization: bytes) -> str:
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken()
    return token.strip()


def _audience(claims: dict[str, Any] | None) -> str:
    """Whose cached answers a caller gets (`audience_of`): its verified token's roles and customer
    group (a group's member never gets the public entry, nor anyone else a group's)."""
    if not claims:
        return PUBLIC_AUDIENCE
    return audience_of(claims.get("roles", ()), claims.get(GROUP_CLAIM), claims.get(GROUP_STOREFRONT_CLAIM))


async def _hit(limiter: RateLimiter, limit: Limit) -> None:
    """`limiter.hit`, its refusal naming the limit (`details.limit`, and the storefront's slug)."""
    try:
        await limiter.hit(limit.rule, *limit.keys)
    except RateLimited as exc:
        named = {"limit": limit.name} if limit.storefront is None else {"limit": limit.name,
                                                                        "storefront": limit.storefront}
        raise RateLimited(details={**exc.details, **named}, headers=exc.headers) from None


def _cookie_value(cookie: bytes, name: bytes) -> bytes | None:
    for part in cookie.split(b";"):
        key, _, value = part.strip().partition(b"=")
        if key == name:
            return value
    return None
