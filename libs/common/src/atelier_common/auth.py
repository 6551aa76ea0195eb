"""Who is calling: every service verifies the bearer or anonymous token itself.

The gateway rejects bad tokens early, but services do not trust it blindly: `TokenVerifier`
checks signatures against the cached JWKS (identity's keys for access tokens, the gateway's for
anonymous ones) and the dependencies below yield a `Principal`.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, Request
from jwt.algorithms import OKPAlgorithm

from atelier_common.denylist import Denylist
from atelier_common.errors import AuthenticationRequired, InvalidToken, PermissionDenied
from atelier_common.keys import ALGORITHM, same_signature
from atelier_common.settings import AtelierSettings
from atelier_common.state import app_state

ANON_COOKIE = "anon_token"
ANON_HEADERS = ("x-anonymous-token", "x-session-id")
SERVICE_HEADER = "x-service-token"
ROLE_STAFF = "staff"
ROLE_CUSTOMER = "customer"
# Staff roles. A staff token carries `staff` (what caches and visibility rules key on) plus
# one or more of these; `admin` implies every other one, so it needs no list of its own.
ROLE_SUPPORT = "support"
ROLE_MERCHANDISER = "merchandiser"
ROLE_FINANCE = "finance"
ROLE_ADMIN = "admin"
STAFF_ROLES = (ROLE_SUPPORT, ROLE_MERCHANDISER, ROLE_FINANCE, ROLE_ADMIN)
# Finance reads orders as support does: a refund starts from finding the order.
ORDER_READERS = (ROLE_SUPPORT, ROLE_FINANCE)
# The access token's claim naming the customer's group (price lists): identity decides it...
GROUP_CLAIM = "grp"
# ...on this storefront (the one the token was issued for): groups are each storefront's own.
GROUP_STOREFRONT_CLAIM = "grp_sf"
# The access token's claim naming its session (the refresh token family it was issued with).
SESSION_CLAIM = "sid"
# An API key's access token (identity signs one per exchange): the storefronts it may touch, a
# list of slugs or ["*"] for all. Absent (a person's token): every storefront.
STOREFRONTS_CLAIM = "sfs"
ALL_STOREFRONTS = "*"
# An API key's narrow scopes (`scp`): each names a few staff routes (those declaring it with
# `key_access`), which the key may call whatever its roles. Absent: a person's token, or a key
# with roles only.
SCOPES_CLAIM = "scp"
SCOPE_ORDERS_READ = "orders:read"
SCOPE_INVOICES_READ = "invoices:read"
SCOPE_STOCK_WRITE = "stock:write"
SCOPE_CUSTOMERS_READ = "customers:read"
KEY_SCOPES = (SCOPE_ORDERS_READ, SCOPE_INVOICES_READ, SCOPE_STOCK_WRITE, SCOPE_CUSTOMERS_READ)
# What an API key's secret starts with (`atk_live_…`): the gateway tells it from a JWT by it, and
# secret scanners find a leaked one by it.
API_KEY_PREFIX = "atk_"


def token_group(group: object, group_storefront: object, storefront: str | bytes | None) -> str | None:
    """The customer group a verified token's `grp` gives on `storefront`: only the storefront it was
    signed for (`grp_sf`), so a member of one storefront's `wholesale` is nobody's member on another;
    a token without `grp_sf` (signed before groups were staff-assigned) gives none anywhere."""
    if isinstance(storefront, bytes):
        storefront = storefront.decode("latin-1")
    if not group or not isinstance(group, str) or not storefront or group_storefront != storefront:
        return None
    return group


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID | None = None
    anon_id: uuid.UUID | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    token_id: str | None = None
    expires_at: datetime | None = None
    email: str | None = None
    # The customer group identity put in the token (`grp`, e.g. `business`) and the storefront it is
    # a group of (`grp_sf`): what price lists the caller pays there (`group_on`). None: an ordinary
    # customer, a visitor, or a token signed before groups were staff-assigned.
    customer_group: str | None = None
    group_storefront: str | None = None
    # The session the access token belongs to (`sid`: the refresh token family it was issued with):
    # what a password change keeps. None: an anonymous caller, or a token signed before sessions had ids.
    session_id: uuid.UUID | None = None
    # The storefronts an API key's token may touch (`sfs`); None: every one (a person's token, or
    # a key made for `*`).
    storefronts: frozenset[str] | None = None
    # The API key's narrow scopes (`scp`); None: a person's token, or a key with roles only.
    scopes: frozenset[str] | None = None

    def may_touch(self, storefront: str | None) -> bool:
        """Whether this caller may read or write a resource of `storefront` (its API key's scope)."""
        return self.storefronts is None or (storefront is not None and storefront in self.storefronts)

    @property
    def owner_id(self) -> uuid.UUID:
        """The id that owns resources created by this caller: the user, else the anonymous id."""
        owner = self.user_id or self.anon_id
        if owner is None:
            raise AuthenticationRequired()
        return owner

    def group_on(self, storefront: str | None) -> str | None:
        """The caller's customer group on `storefront` (see `token_group`)."""
        return token_group(self.customer_group, self.group_storefront, storefront)

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def is_staff(self) -> bool:
        return ROLE_STAFF in self.roles

    def has_role(self, *wanted: str) -> bool:
        """Whether this staffer holds one of `wanted` (an admin holds them all). A token without
        `staff` holds none, whatever else its roles claim says."""
        return self.is_staff and (ROLE_ADMIN in self.roles or not self.roles.isdisjoint(wanted))


class JwksCache:
    """Public keys by `kid`; refetched when stale, and at once when an unknown kid shows up.

    `url` is one source or several (one per identity process, `atelier up --api-processes`): a
    fetch asks them in turn until one answers, so no single process is the edge's only source.

    A key retired early (`atelier keys retire KID --force`, a leaked key) is refused from the
    moment `retire` hears of it (`identity.key_retired`), whatever a later fetch or pin says; with
    the broker down, the next fetch (at most `ttl` after the last) no longer has it.

    An unknown kid is how a rotated signing key first arrives (`atelier keys rotate`): the token
    must verify on its first request, so its caller waits for the next fetch rather than being
    refused. Fetches stay rate-limited (at most one per `min_interval` seconds, shared by every
    caller waiting meanwhile): a flood of made-up kids costs the key source one fetch a second.

    `clock` (monotonic seconds) tells the JWKS's age and the fetches' spacing: a test moves it past
    `ttl` rather than waiting for the wall clock to.
    """

    def __init__(self, url: str | Sequence[str] | None, *, static_json: str | None = None,
                 client: httpx.AsyncClient | None = None, ttl: float = 600.0, min_interval: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.urls: tuple[str, ...] = (url,) if isinstance(url, str) else tuple(url or ())
        self.client = client
        self.ttl = ttl
        self.min_interval = min_interval
        self.clock = clock
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        # When the latest fetch began: one that began after a caller arrived already answered it.
        self._fetch_started_at = float("-inf")
        self._lock = asyncio.Lock()
        self._static = static_json is not None
        self._pinned: dict[str, Any] = {}
        self._retired: set[str] = set()
        if static_json is not None:
            self._load(json.loads(static_json))

    def pin(self, kid: str, public_key: Any) -> None:
        """Always trust `public_key` (a service verifying the tokens it signs itself)."""
        if kid not in self._retired:
            self._pinned[kid] = public_key

    def pin_only(self, keys: dict[str, Any]) -> None:
        """Trust exactly these keys without fetching (identity's own published keys, as they change)."""
        self._pinned = {kid: key for kid, key in keys.items() if kid not in self._retired}

    def retire(self, kid: str) -> None:
        """Refuse `kid` from now on (`identity.key_retired`): its tokens stop verifying at once."""
        self._retired.add(kid)
        self._keys.pop(kid, None)
        self._pinned.pop(kid, None)

    def trusts(self, kid: str) -> bool:
        """Whether `kid` verifies now by what this cache holds, without fetching: False for a key
        retired or gone, and for one only a JWKS older than `ttl` vouches for (`get` refetches)."""
        if kid in self._pinned:
            return True
        return kid in self._keys and (self._static or self.clock() - self._fetched_at < self.ttl)

    def _load(self, document: dict[str, Any]) -> None:
        keys = {}
        for jwk in document.get("keys", []):
            if jwk.get("kty") == "OKP" and jwk.get("kid") and jwk["kid"] not in self._retired:
                keys[jwk["kid"]] = OKPAlgorithm.from_jwk(json.dumps(jwk))
        self._keys = keys
        self._fetched_at = self.clock()

    async def get(self, kid: str) -> Any | None:
        if kid in self._retired:
            return None  # no fetch either: a retired kid is not a key that has yet to arrive
        if kid in self._pinned:
            return self._pinned[kid]
        arrived = self.clock()
        if self._static or (kid in self._keys and arrived - self._fetched_at < self.ttl):
            return self._keys.get(kid)
        async with self._lock:
            if kid in self._pinned:
                return self._pinned[kid]
            stale = self.clock() - self._fetched_at >= self.ttl
            if stale or (kid not in self._keys and self._fetch_started_at < arrived):
                # Rate limit by waiting, not by refusing: the caller of a new key gets its answer.
                await asyncio.sleep(max(0.0, self._fetch_started_at + self.min_interval - self.clock()))
                await self._refresh()
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        if not self.urls or self.client is None:
            return
        self._fetch_started_at = self.clock()
        for url in self.urls:
            try:
                response = await self.client.get(url, timeout=5.0)
                response.raise_for_status()
                self._load(response.json())
                return
            except (httpx.HTTPError, ValueError):
                continue
        self._fetched_at = self.clock()  # no source answered: keep the old keys; do not hammer them


class TokenVerifier:
    # Verified tokens are remembered until they expire: a client sends the same token on every
    # request, and its signature need not be checked again each time. Its key is asked again on
    # every use (no I/O while the JWKS is fresh), so a key retired early stops the tokens it signed
    # at once, remembered or not. Revocation of a token is the denylist's business, checked on
    # every use (`principal_from_access`).

    def __init__(self, jwks: JwksCache, *, issuer: str, audience: str, denylist: Denylist | None = None,
                 cache_size: int = 10_000) -> None:
        self.jwks = jwks
        self.issuer = issuer
        self.audience = audience
        self.denylist = denylist
        self.cache_size = cache_size
        # (token, typ) → (the kid that signed it, its claims)
        self._verified: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}

    def remembered(self, token: str, typ: str) -> dict[str, Any] | None:
        """The claims of `token` verified before while they still hold (unexpired, its key still
        trusted), without any I/O; None when that cannot be told so (`decode` decides)."""
        entry = self._verified.get((token, typ))
        if entry is None or entry[1]["exp"] <= time.time() or not self.jwks.trusts(entry[0]):
            return None
        return entry[1]

    async def decode(self, token: str, typ: str) -> dict[str, Any]:
        entry = self._verified.get((token, typ))
        if entry is not None:
            kid, claims = entry
            if claims["exp"] > time.time() and await self.jwks.get(kid) is not None:
                return claims
            self._verified.pop((token, typ), None)  # expired, or its key retired: verified afresh (refused)
        kid, claims = await self._decode(token, typ)
        if len(self._verified) >= self.cache_size:
            self._verified.clear()  # rare; simpler than an LRU, and refilled at one verify per token
        self._verified[(token, typ)] = (kid, claims)
        return claims

    async def _decode(self, token: str, typ: str) -> tuple[str, dict[str, Any]]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken() from exc
        if header.get("alg") != ALGORITHM or not isinstance(header.get("kid"), str):
            raise InvalidToken()
        key = await self.jwks.get(header["kid"])
        if key is None:
            raise InvalidToken()
        try:
            claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=self.audience, issuer=self.issuer,
                                options={"require": ["exp", "iat", "sub", "jti"]})
        except jwt.PyJWTError as exc:
            raise InvalidToken() from exc
        if claims.get("typ") != typ:
            raise InvalidToken()
        return header["kid"], claims

    async def principal_from_access(self, token: str) -> Principal:
        claims = await self.decode(token, "access")
        if self.denylist is not None and self.denylist.denies(claims):
            raise InvalidToken("The token has been revoked")
        try:
            user_id = uuid.UUID(claims["sub"])
        except ValueError as exc:
            raise InvalidToken() from exc
        group = claims.get(GROUP_CLAIM)
        return Principal(user_id=user_id, roles=frozenset(claims.get("roles", [])), token_id=claims["jti"],
                         expires_at=datetime.fromtimestamp(claims["exp"], UTC), email=claims.get("email"),
                         customer_group=group if isinstance(group, str) and group else None,
                         group_storefront=_text(claims.get(GROUP_STOREFRONT_CLAIM)),
                         session_id=_session_id(claims.get(SESSION_CLAIM)),
                         storefronts=storefront_scope(claims.get(STOREFRONTS_CLAIM)),
                         scopes=key_scopes(claims.get(SCOPES_CLAIM)))

    async def anon_id(self, token: str) -> uuid.UUID:
        claims = await self.decode(token, "anon")
        try:
            return uuid.UUID(claims["sub"])
        except ValueError as exc:
            raise InvalidToken() from exc


def storefront_scope(value: Any) -> frozenset[str] | None:
    """The `sfs` claim as a scope: None (every storefront) when absent or `*`; a malformed claim
    touches nothing (fail closed)."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(slug, str) for slug in value):
        return frozenset()
    return None if ALL_STOREFRONTS in value else frozenset(value)


def key_scopes(value: Any) -> frozenset[str] | None:
    """The `scp` claim: None when absent; a malformed claim grants nothing (fail closed)."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(scope, str) for scope in value):
        return frozenset()
    return frozenset(value)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _session_id(value: Any) -> uuid.UUID | None:
    """The `sid` claim; one that is not a UUID names no session (nothing is kept for it)."""
    try:
        return uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken()
    return token.strip()


def anon_token(request: Request) -> str | None:
    for name in ANON_HEADERS:
        if value := request.headers.get(name):
            return value
    return request.cookies.get(ANON_COOKIE)


async def get_principal(request: Request) -> Principal:
    """The caller; an empty Principal when the request carries no token at all."""
    verifier = app_state(request.app, "verifier", TokenVerifier)
    anon_id = None
    if raw_anon := anon_token(request):
        try:
            anon_id = await verifier.anon_id(raw_anon)
        except InvalidToken:
            anon_id = None  # a stale anonymous token is simply no anonymous identity
    token = bearer_token(request)
    if token is None:
        return Principal(anon_id=anon_id)
    return replace(await verifier.principal_from_access(token), anon_id=anon_id)


async def _require_anon(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if principal.user_id is None and principal.anon_id is None:
        raise AuthenticationRequired()
    return principal


async def _require_user(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if principal.user_id is None:
        raise AuthenticationRequired()
    return principal


@dataclass(frozen=True)
class KeyAccess:
    """What a staff route lets an API key do beyond its roles (`key_access`)."""

    scopes: frozenset[str]
    storefront_scoped: bool


_KEY_ACCESS = "__atelier_key_access__"
NO_KEY_ACCESS = KeyAccess(frozenset(), storefront_scoped=False)


def key_access(*scopes: str, storefront_scoped: bool = True) -> Callable[[Any], Any]:
    """Declares, on a staff route's handler, what API keys may do with it (docs/security.md, "API
    keys"): the narrow `scopes` that name it (a key holding one calls it whatever its roles), and
    whether its use case honours `Principal.may_touch` (`storefront_scoped`: another storefront's
    resource is not found, lists leave it out, a write naming one is 404).

    A staff route without it refuses (403) every key limited to some storefronts and every
    scope-only key: a route added later is closed to keys until its use case is scoped.
    """
    unknown = set(scopes) - set(KEY_SCOPES)
    if unknown:
        raise ValueError(f"API key scopes are {', '.join(KEY_SCOPES)}; got {sorted(unknown)}")
    access = KeyAccess(frozenset(scopes), storefront_scoped)

    def mark(endpoint: Any) -> Any:
        setattr(endpoint, _KEY_ACCESS, access)
        return endpoint

    return mark


def endpoint_key_access(endpoint: Any) -> KeyAccess:
    """The `key_access` a route's handler declares (none: nothing beyond roles, not scoped)."""
    return getattr(endpoint, _KEY_ACCESS, NO_KEY_ACCESS)


def route_key_access(request: Request) -> KeyAccess:
    """The `key_access` of the route serving `request`."""
    return endpoint_key_access(request.scope.get("endpoint"))


def _check_api_key(request: Request, principal: Principal) -> None:
    """An API key's limits, on every staff route (people's tokens never get here)."""
    access = route_key_access(request)
    if principal.storefronts is not None and not access.storefront_scoped:
        raise PermissionDenied("This route is not limited by storefront: an API key limited to some storefronts "
                               "may not call it")
    if principal.scopes is not None and not principal.roles.intersection(STAFF_ROLES) \
            and principal.scopes.isdisjoint(access.scopes):
        raise PermissionDenied(f"This API key's scopes ({', '.join(sorted(principal.scopes)) or 'none'}) "
                               "do not include this route")


async def _require_staff(request: Request, principal: Annotated[Principal, Depends(_require_user)]) -> Principal:
    if not principal.is_staff:
        raise PermissionDenied()
    if principal.storefronts is not None or principal.scopes is not None:
        _check_api_key(request, principal)
    return principal


class RequireRole:
    """The one staff permission check every service uses: a dependency that lets through a staffer
    holding one of `roles` (or admin), and answers 403 in the common error format otherwise,
    before the route's handler (and so any write) runs.

    Instances are module-level singletons (the aliases below): FastAPI caches a dependency per
    callable, and the OpenAPI refinement recognises staff routes by `_require_staff` beneath it.
    """

    def __init__(self, *roles: str) -> None:
        unknown = set(roles) - set(STAFF_ROLES)
        if not roles or unknown:
            raise ValueError(f"staff roles are {', '.join(STAFF_ROLES)}; got {sorted(unknown) or 'none'}")
        self.roles = frozenset(roles)

    async def __call__(self, request: Request, principal: Annotated[Principal, Depends(_require_staff)]) -> Principal:
        if not principal.has_role(*self.roles) and not self._scoped_in(request, principal):
            raise PermissionDenied(f"This needs the {' or '.join(sorted(self.roles | {ROLE_ADMIN}))} staff role")
        return principal

    @staticmethod
    def _scoped_in(request: Request, principal: Principal) -> bool:
        """Whether an API key's narrow scopes name this route (`key_access`): then they stand in
        for the role."""
        return principal.scopes is not None and not principal.scopes.isdisjoint(route_key_access(request).scopes)

    def __repr__(self) -> str:
        return f"RequireRole({', '.join(sorted(self.roles))})"


async def _require_service(request: Request) -> None:
    presented = request.headers.get(SERVICE_HEADER, "")
    expected = app_state(request.app, "settings", AtelierSettings).service_token
    if not presented or not same_signature(presented, expected):
        raise AuthenticationRequired("A service credential is required")


OptionalPrincipal = Annotated[Principal, Depends(get_principal)]
AnonPrincipal = Annotated[Principal, Depends(_require_anon)]
UserPrincipal = Annotated[Principal, Depends(_require_user)]
StaffPrincipal = Annotated[Principal, Depends(_require_staff)]
# Who may do what: reading customers, orders and jobs, resending mail and retrying jobs
# is support's; catalog, stock, prices and storefront content the merchandiser's; refunds, credit
# grants and payments finance's; staff accounts and storefronts the admin's.
require_support = RequireRole(ROLE_SUPPORT)
require_order_reader = RequireRole(*ORDER_READERS)
require_merchandiser = RequireRole(ROLE_MERCHANDISER)
require_finance = RequireRole(ROLE_FINANCE)
require_admin = RequireRole(ROLE_ADMIN)
SupportPrincipal = Annotated[Principal, Depends(require_support)]
OrderReaderPrincipal = Annotated[Principal, Depends(require_order_reader)]
MerchandiserPrincipal = Annotated[Principal, Depends(require_merchandiser)]
FinancePrincipal = Annotated[Principal, Depends(require_finance)]
AdminPrincipal = Annotated[Principal, Depends(require_admin)]
require_service = Depends(_require_service)
# For a router whose routes all need a user, whatever principal type their handlers take.
require_user = Depends(_require_user)


def client_ip(request: Request) -> str:
    """The caller's address. The gateway is the edge: it overwrites X-Forwarded-For with the peer."""
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "unknown"


# The caller's address as a route's parameter (what a limit per client address counts).
ClientAddress = Annotated[str, Depends(client_ip)]
