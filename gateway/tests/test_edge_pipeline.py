"""Each edge rule once: the three lanes that answer a request (the full path `Proxy._proxy`, the
ASGI hit lane `Proxy.find_hit`, the protocol's `Proxy.find_hit_now`) take their storefront,
caller, limits and cache key from one pipeline (`pipeline.Edge`), and do what it derived: the same
`EdgeRequest` for the same request, the limits it names counted and nothing else, the entry looked
up under the key it names. A rule added to one lane only fails here."""

from __future__ import annotations

import ast
import inspect
import uuid
from collections.abc import Callable, MutableMapping
from types import ModuleType
from typing import Any

import pytest

from atelier_common.cache import Entry, RedisStore, entry_key, etag_of
from atelier_common.contracts.identity import StorefrontPolicies
from atelier_gateway import pipeline, proxy
from atelier_gateway.pipeline import EdgeRequest
from atelier_testing import poll_until
from atelier_testing.gateway import StartGateway
from atelier_testing.storefronts import add_storefront, make_storefront

PATH = "/api/v1/products/p1"


async def _true(value: bool) -> bool:
    return value


class _Spy:
    """Records what the lanes derive (`Edge._request`), count (the limiters) and look up (the reader)."""

    def __init__(self, the_proxy: proxy.Proxy, monkeypatch: pytest.MonkeyPatch) -> None:
        self.derived: list[EdgeRequest] = []
        self.counted: list[tuple[str, str, tuple[str, ...]]] = []
        self.looked_up: list[str] = []
        edge = the_proxy.edge
        request = edge._request

        def deriving(*args: Any) -> EdgeRequest:
            self.derived.append(request(*args))
            return self.derived[-1]

        monkeypatch.setattr(edge, "_request", deriving)
        for name in ("limiter", "budget_limiter", "credential_limiter"):
            self._count(name, getattr(the_proxy, name), monkeypatch)
        reader = the_proxy._reader
        assert reader is not None
        get, local = reader.get, reader.local

        async def getting(key: str) -> Any:
            self.looked_up.append(key)
            return await get(key)

        def keeping(key: str) -> Any:
            self.looked_up.append(key)
            return local(key)

        monkeypatch.setattr(reader, "get", getting)
        monkeypatch.setattr(reader, "local", keeping)

    def _count(self, name: str, limiter: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        hit, hit_now = limiter.hit, limiter.hit_now

        async def hitting(rule: str, *keys: str) -> None:
            self.counted.append((name, rule, keys))
            await hit(rule, *keys)

        def hitting_now(rule: str, *keys: str) -> bool:
            taken: bool = hit_now(rule, *keys)
            if taken:
                self.counted.append((name, rule, keys))
            return taken

        monkeypatch.setattr(limiter, "hit", hitting)
        monkeypatch.setattr(limiter, "hit_now", hitting_now)

    def clear(self) -> None:
        self.derived.clear()
        self.counted.clear()
        self.looked_up.clear()


def _expected_counts(edge: EdgeRequest, *, now: bool = False) -> list[tuple[str, str, tuple[str, ...]]]:
    counts = []
    if edge.caller_limit is not None:
        counts.append(("limiter", edge.caller_limit.rule, edge.caller_limit.keys))
    if edge.budget is not None and not now:
        counts.append(("budget_limiter", edge.budget.rule, edge.budget.keys))
    return counts


async def test_the_three_lanes_derive_count_and_look_up_alike(start_gateway: StartGateway, redis_url: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = f"gw-{uuid.uuid4().hex[:8]}:"
    service = RedisStore(redis_url, prefix=prefix)
    async with start_gateway(redis_url=redis_url, cache_prefix=prefix, redis_key_prefix=prefix,
                             rate_limit_default="1000/minute", rate_limit_per_ip="1000/minute",
                             rate_limit_staff="1000/minute", cache_local_trust_seconds=600) as gateway:
        the_proxy: proxy.Proxy = gateway.app.state.gateway.proxy
        the_proxy.tracing = False  # tracing sends every hit down the full path, by design
        policies = StorefrontPolicies(anonymous_requests_per_minute=100, customer_requests_per_minute=100)
        add_storefront(gateway.app, make_storefront("b", policies=policies))
        add_storefront(gateway.app, make_storefront("c"))
        add_storefront(gateway.app, make_storefront("m", locales=["en", "ka"], default_locale="en"))
        await poll_until(lambda: _true(the_proxy.feed is not None and the_proxy.feed.live), timeout=10)
        the_proxy._cacheable.add("/api/v1/products")  # as if catalog had answered it public
        keys = gateway.keys
        anon = keys.anon_token().encode()
        customer = uuid.uuid4()
        bearer = keys.user_headers(customer)["Authorization"].encode()

        def auth(headers: dict[str, str]) -> tuple[bytes, bytes]:
            return b"authorization", headers["Authorization"].encode()

        # (the request's headers, its storefront, shareable, audience, the budget it counts against[,
        # the negotiated locale in its key, its query])
        matrix: list[tuple[Any, ...]] = [
            ([], "default", True, "public", None),
            ([(b"x-anonymous-token", anon)], "default", True, "public", None),
            ([(b"cookie", b"theme=dark; anon_token=" + anon)], "default", True, "public", None),
            ([(b"x-anonymous-token", b"forged")], "default", True, "public", None),
            ([(b"authorization", bearer)], "default", True, "public", None),
            ([auth(keys.group_headers("business"))], "default", True, "group:business@default", None),
            ([auth(keys.staff_headers())], "default", True, "staff", None),
            ([(b"x-atelier-storefront", b"b")], "b", True, "public", None),
            ([(b"x-atelier-storefront", b"b"), (b"x-anonymous-token", anon)], "b", True, "public",
             "anonymous_requests_per_minute"),
            ([(b"x-atelier-storefront", b"b"), (b"authorization", bearer)], "b", True, "public",
             "customer_requests_per_minute"),
            ([(b"x-atelier-storefront", b"b"), auth(keys.group_headers("business", storefront="b"))], "b", True,
             "group:business@b", "customer_requests_per_minute"),
            ([(b"x-atelier-storefront", b"b"), auth(keys.staff_headers())], "b", True, "staff", None),
            ([(b"referer", b"https://c.example/shop"), (b"x-anonymous-token", anon)], "c", False, "public", None),
            ([(b"referer", b"https://b.example/shop"), (b"authorization", bearer)], "b", False, "public",
             "customer_requests_per_minute"),
            # A storefront with two languages: the negotiated one is in the key (`?locale=` first).
            ([(b"x-atelier-storefront", b"m")], "m", True, "public", None, "en"),
            ([(b"x-atelier-storefront", b"m"), (b"accept-language", b"ka-GE,ka;q=0.9,en;q=0.5")], "m", True,
             "public", None, "ka"),
            ([(b"x-atelier-storefront", b"m"), (b"accept-language", b"fr")], "m", True, "public", None, "en"),
            ([(b"x-atelier-storefront", b"m"), (b"accept-language", b"en")], "m", True, "public", None, "ka",
             b"locale=ka"),
            ([(b"x-atelier-storefront", b"m"), auth(keys.staff_headers()), (b"accept-language", b"ka")], "m", True,
             "staff", None, "ka"),
            # A single-language storefront's key has no locale, whatever the caller asks for.
            ([(b"x-atelier-storefront", b"c"), (b"accept-language", b"ka")], "c", True, "public", None, "",
             b"locale=ka"),
        ]
        spy = _Spy(the_proxy, monkeypatch)
        keys_seen: set[str] = set()
        for headers, slug, shareable, audience, budget, *language in matrix:
            locale: str = language[0] if language else ""
            query: bytes = language[1] if len(language) > 1 else b""
            # Stored as catalog stores it: what every lane must find, under the services' key.
            body = f'{{"for": "{audience}@{slug}/{locale}"}}'.encode()
            key = entry_key("http", b"testserver", PATH, query, audience, slug.encode(), locale)
            keys_seen.add(key)
            await service.set(key, Entry(await service.generations(["shop"]), ("shop",),
                                         [(b"etag", etag_of(body)), (b"cache-control", b"public, no-cache")],
                                         body).encode(), ttl=60)

            def scope(headers: list[tuple[bytes, bytes]] = headers, query: bytes = query) -> dict[str, Any]:
                return {"type": "http", "method": "GET", "path": PATH, "raw_path": PATH.encode(), "query_string": query,
                        "headers": [(b"host", b"testserver"), *headers], "scheme": "http",
                        "client": ("203.0.113.7", 5000), "server": ("127.0.0.1", 8000)}

            # The full path: from Redis (a copy is kept), never the service.
            spy.clear()
            sent: list[MutableMapping[str, Any]] = []

            async def receive() -> MutableMapping[str, Any]:
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(message: MutableMapping[str, Any], sent: list[MutableMapping[str, Any]] = sent) -> None:
                sent.append(message)

            await the_proxy("catalog", scope(), receive, send)
            answered = dict(sent[0]["headers"])
            assert (sent[0]["status"], answered.get(b"x-cache"), sent[1]["body"]) == (200, b"hit", body), headers
            [full] = spy.derived
            assert (full.storefront, full.shareable, full.audience, full.key) == (slug, shareable, audience, key)
            assert (full.budget and full.budget.name) == budget and not full.minted
            assert (full.anon == anon) == any(value.endswith(anon) for _, value in headers)
            assert spy.counted == _expected_counts(full) and spy.looked_up == [key]

            # The ASGI hit lane: the same request derived, counted and looked up alike.
            spy.clear()
            hit = await the_proxy.find_hit(scope())
            assert hit is not None and hit.edge == full and spy.derived == [full], headers
            assert spy.counted == _expected_counts(full) and spy.looked_up == [key]

            # The protocol's lane: the same again; a storefront budget is Redis's to count, so it
            # declines (counting nothing) and `HitLane` counts it.
            spy.clear()
            now = the_proxy.find_hit_now(scope())
            assert spy.derived == [full], headers
            if budget is None:
                assert now is not None and now.edge == full and spy.counted == _expected_counts(full, now=True)
                assert spy.looked_up == [key]
            else:
                assert now is None and spy.counted == []
        # Each language its own entry (each row above got its own language's body from every lane):
        # a Georgian answer is never an English caller's.
        assert {key for key in keys_seen if key.endswith(("|m|en", "|m|ka"))} == {
            entry_key("http", b"testserver", PATH, query, audience, b"m", locale)
            for query, audience, locale in ((b"", "public", "en"), (b"", "public", "ka"), (b"locale=ka", "public", "ka"),
                                            (b"", "staff", "ka"))}
    await service.client.delete([key async for key in service.client.scan_iter(match=f"{prefix}*")])
    await service.close()


# What only the pipeline may do: choose the storefront, read or verify the caller's tokens, mint
# one, choose or count a limit, build a cache key or audience. Methods and settings by attribute,
# functions and claims by name.
_RULE_ATTRIBUTES = {"resolve_for_sharing", "resolve_for_sharing_now", "access_claims", "known_claims",
                    "anon_valid", "mint_anon", "_anon_of", "_caller_limit", "_budget", "hit", "hit_now",
                    "rate_limits_enabled", "storefront_budget_scale", "rate_limit_per_ip", "rate_limit_default",
                    "rate_limit_staff", "rate_limit_credentials_per_ip", "directory", "policies", "cache_locale",
                    "locale_for", "multilingual"}
_RULE_NAMES = {"_audience", "audience_of", "entry_key", "needs_owner", "is_credential_path", "GROUP_CLAIM",
               "GROUP_STOREFRONT_CLAIM", "ROLE_STAFF", "PUBLIC_AUDIENCE", "_cookie_value", "query_locale"}
_LANES = {"_proxy": "derive", "find_hit": "derive_known", "find_hit_now": "derive_now"}
_DERIVES = set(_LANES.values())


def _names(node: ast.AST) -> set[str]:
    return _attributes(node) | _identifiers(node)


def _attributes(node: ast.AST) -> set[str]:
    return {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}


def _identifiers(node: ast.AST) -> set[str]:
    imported = {alias.asname or alias.name for n in ast.walk(node) if isinstance(n, ast.ImportFrom)
                for alias in n.names}
    return imported | {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _functions(module: ModuleType) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    tree = ast.parse(inspect.getsource(module))
    return {f.name: f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_no_lane_applies_an_edge_rule_of_its_own() -> None:
    """`proxy.py` applies no edge rule itself, and each lane takes its request from one `derive`."""
    tree = ast.parse(inspect.getsource(proxy))
    assert _attributes(tree) & _RULE_ATTRIBUTES == set()
    assert _identifiers(tree) & _RULE_NAMES == set()
    functions = _functions(proxy)
    for lane, derive in _LANES.items():
        assert _names(functions[lane]) & _DERIVES == {derive}, lane
    # Nor does it write HTTP/1.1 by hand: the protocol's answers are rendered by `atelier_common.fast`.
    written = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, bytes)
               and (b"\r\n" in n.value or n.value.startswith(b"HTTP/"))]
    assert written == []


def test_every_derive_ends_in_the_one_function_of_rules() -> None:
    """The three `derive`s differ only in how they get the claims and the storefront: each ends in
    `Edge._request`, and the rules of the caller, the limits and the cache key are applied there
    alone (a rule applied in one `derive` would be one lane's)."""
    functions = _functions(pipeline)
    per_request = {"_anon_of", "mint_anon", "needs_owner", "_caller_limit", "_budget", "_audience", "entry_key",
                   "is_credential_path", "rate_limits_enabled"}
    for derive in _DERIVES:
        names = _names(functions[derive])
        assert "_request" in names and names & per_request == set(), derive
    assert per_request <= _names(functions["_request"])
    callers: Callable[[str], set[str]] = lambda rule: {  # noqa: E731
        name for name, f in functions.items() if rule in _names(f) and name != rule}
    assert callers("_request") == _DERIVES
    assert callers("_caller_limit") == callers("_budget") == callers("_audience") == {"_request"}
