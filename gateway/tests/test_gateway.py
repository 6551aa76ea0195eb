"""The gateway: routing, tokens at the edge, anonymous identities, limits, docs, health."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import httpx
import pytest

from atelier_common.contracts.identity import KeyRetired, TokenRevoked
from atelier_common.events import Envelope
from atelier_common.keys import SigningKey
from atelier_gateway.openapi import MISSING, OpenApiCache, merge
from atelier_gateway.routing import resolve
from atelier_gateway.settings import GatewaySettings
from atelier_testing import assert_error


class TestRouting:
    @pytest.mark.parametrize(("path", "service"), [
        ("/api/v1/auth/login", "identity"), ("/api/v1/products", "catalog"), ("/api/v1/products/x/reviews", "catalog"),
        ("/api/v1/credits/purchase", "payments"), ("/api/v1/credits/balance", "generation"),
        ("/api/v1/cart/items", "cart"), ("/api/dev/mailbox", "identity"), ("/api/v1/me/usage", "generation"),
    ])
    def test_longest_prefix_decides_the_service(self, path: str, service: str) -> None:
        assert resolve(path) == service

    @pytest.mark.parametrize("path", ["/internal/users/1", "/api/v1/productsx", "/api/v2/products", "/"])
    def test_unknown_and_internal_paths_are_not_routed(self, path: str) -> None:
        assert resolve(path) is None


class TestProxy:
    async def test_forwards_path_query_and_body_to_the_owning_service(self, gateway) -> None:
        r = await gateway.client.post("/api/v1/products/?search=marble", content=b'{"a": 1}',
                                      headers={"content-type": "application/json"})
        assert r.status_code == 200
        body = r.json()
        assert (body["service"], body["path"], body["query"], body["body"]) == (
            "catalog", "/api/v1/products", "search=marble", '{"a": 1}')
        assert body["headers"]["x-forwarded-for"] == "203.0.113.9"
        assert r.headers["x-request-id"]

    async def test_client_cannot_spoof_forwarded_for_or_service_token(self, gateway) -> None:
        r = await gateway.client.get("/api/v1/products", headers={"X-Forwarded-For": "10.0.0.1",
                                                                  "X-Service-Token": "changethis"})
        headers = r.json()["headers"]
        assert headers["x-forwarded-for"] == "203.0.113.9"
        assert "x-service-token" not in headers

    async def test_internal_routes_are_never_reachable(self, gateway) -> None:
        r = await gateway.client.get("/internal/users/1")
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "NOT_FOUND"

    async def test_unknown_route_and_wrong_method_use_the_error_format(self, gateway) -> None:
        r = await gateway.client.get("/nope")
        assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
        r = await gateway.client.post("/api/health")
        assert r.status_code == 405 and r.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


class TestAnonymousToken:
    async def test_minted_when_missing_and_forwarded(self, gateway) -> None:
        r = await gateway.client.get("/api/v1/cart")
        token = r.headers["x-anonymous-token"]
        assert r.json()["headers"]["x-anonymous-token"] == token
        cookie = r.headers["set-cookie"]
        assert cookie.startswith(f"anon_token={token}") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        assert claims["typ"] == "anon"
        assert datetime.fromtimestamp(claims["exp"], UTC) - datetime.now(UTC) > timedelta(days=27)

    @pytest.mark.parametrize("path", ["/api/v1/products", "/api/v1/products/p1/reviews", "/api/v1/categories",
                                      "/api/v1/pricing", "/api/v1/storefront", "/api/v1/images/gallery",
                                      "/api/v1/generation/models", "/api/v1/subscriptions/plans", "/media/a.png"])
    async def test_public_reads_get_no_identity(self, gateway, path: str) -> None:
        """Nobody owns anything by reading the catalog: no signature per crawler request, no cookie
        that would make a CDN keep the answer private."""
        r = await gateway.client.get(path)
        assert r.status_code == 200
        assert "x-anonymous-token" not in r.headers and "set-cookie" not in r.headers
        assert "x-anonymous-token" not in r.json()["headers"]

    @pytest.mark.parametrize(("method", "path"), [
        ("GET", "/api/v1/cart"), ("POST", "/api/v1/cart/items"), ("GET", "/api/v1/orders"),
        ("POST", "/api/v1/orders"), ("GET", "/api/v1/addresses"), ("POST", "/api/v1/books"),
        ("GET", "/api/v1/images/favorites"), ("GET", "/api/v1/generation/jobs/j1/events"),
        ("POST", "/api/v1/payments/checkout")])
    async def test_owner_routes_mint(self, gateway, method: str, path: str) -> None:
        r = await gateway.client.request(method, path)
        assert r.headers["x-anonymous-token"] and r.headers["set-cookie"].startswith("anon_token=")

    @pytest.mark.parametrize(("method", "path"), [
        ("POST", "/api/v1/auth/login"), ("POST", "/api/v1/auth/register"), ("POST", "/api/v1/auth/refresh"),
        ("POST", "/api/v1/auth/password-reset"), ("POST", "/api/v1/auth/magic-link"),
        ("GET", "/api/dev/mailbox"), ("GET", "/api/v1/storefronts"), ("POST", "/api/v1/products"),
        ("GET", "/api/v1/images/files/a.png"), ("POST", "/api/v1/payments/webhooks/stripe"),
        ("POST", "/api/v1/generation/providers/fal/webhook")])
    async def test_nothing_else_mints(self, gateway, method: str, path: str) -> None:
        """Sign-in, registration, refresh, reset, the mailbox, staff routes and webhooks own
        nothing for a guest: no identity, so nothing they do spends an address's anything."""
        r = await gateway.client.request(method, path)
        assert "x-anonymous-token" not in r.headers and "set-cookie" not in r.headers
        assert "x-anonymous-token" not in r.json()["headers"]

    async def test_a_signed_in_caller_gets_no_anonymous_identity(self, gateway) -> None:
        r = await gateway.client.get("/api/v1/cart", headers={"Authorization": f"Bearer {gateway.keys.access_token()}"})
        assert r.status_code == 200 and "x-anonymous-token" not in r.headers and "set-cookie" not in r.headers

    async def test_a_public_read_forwards_the_token_it_has(self, gateway) -> None:
        token = gateway.keys.anon_token()
        r = await gateway.client.get("/api/v1/products", headers={"X-Anonymous-Token": token})
        assert r.json()["headers"]["x-anonymous-token"] == token

    async def test_cross_site_cookies_are_same_site_none_and_secure(self, start_gateway) -> None:
        # A frontend on another site than the API (the original Marbelle deployment) keeps its guest.
        async with start_gateway(cross_site_cookies=True) as gateway:
            cookie = (await gateway.client.get("/api/v1/cart")).headers["set-cookie"]
        assert "SameSite=None" in cookie and "; Secure" in cookie and "HttpOnly" in cookie

    @pytest.mark.parametrize("header", ["X-Anonymous-Token", "X-Session-ID"])
    async def test_accepted_from_headers_without_minting(self, gateway, header: str) -> None:
        token = gateway.keys.anon_token()
        r = await gateway.client.get("/api/v1/cart", headers={header: token})
        assert "x-anonymous-token" not in r.headers
        assert r.json()["headers"]["x-anonymous-token"] == token
        assert "x-session-id" not in r.json()["headers"]

    async def test_accepted_from_the_cookie(self, gateway) -> None:
        token = gateway.keys.anon_token()
        r = await gateway.client.get("/api/v1/cart", headers={"Cookie": f"anon_token={token}"})
        assert "set-cookie" not in r.headers
        assert r.json()["headers"]["x-anonymous-token"] == token

    async def test_a_forged_anonymous_token_is_replaced(self, gateway) -> None:
        from atelier_testing import TestKeys

        forged = TestKeys().anon_token()
        r = await gateway.client.get("/api/v1/cart", headers={"X-Anonymous-Token": forged})
        assert r.headers["x-anonymous-token"] != forged
        assert r.json()["headers"]["x-anonymous-token"] == r.headers["x-anonymous-token"]


def _alg_none(token: str) -> str:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    return f"{header}.{token.split('.')[1]}."


class TestAccessToken:
    async def test_valid_token_is_forwarded(self, gateway) -> None:
        token = gateway.keys.access_token()
        r = await gateway.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200
        assert r.json()["headers"]["authorization"] == f"Bearer {token}"

    @pytest.mark.parametrize("kind", ["tampered", "alg_none", "expired", "anon", "garbage", "scheme"])
    async def test_bad_tokens_are_refused_early(self, gateway, kind: str) -> None:
        keys = gateway.keys
        good = keys.access_token()
        value = {
            "tampered": f"Bearer {good[:-4]}AAAA",
            "alg_none": f"Bearer {_alg_none(good)}",
            "expired": f"Bearer {keys.access_token(ttl=timedelta(seconds=-5))}",
            "anon": f"Bearer {keys.anon_token()}",
            "garbage": "Bearer not-a-jwt",
            "scheme": f"Basic {good}",
        }[kind]
        r = await gateway.client.get("/api/v1/users/me", headers={"Authorization": value})
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "INVALID_TOKEN"

    async def test_revoked_token_is_refused_once_the_event_arrives(self, gateway) -> None:
        user = uuid.uuid4()
        token = gateway.keys.access_token(user)
        headers = {"Authorization": f"Bearer {token}"}
        assert (await gateway.client.get("/api/v1/users/me", headers=headers)).status_code == 200
        claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        event = TokenRevoked(user_id=user, jti=claims["jti"], expires_at=datetime.fromtimestamp(claims["exp"], UTC))
        await gateway.bus.publish([Envelope.wrap(event, producer="identity")])
        await gateway.bus.drain()
        r = await gateway.client.get("/api/v1/users/me", headers=headers)
        assert r.status_code == 401
        other = gateway.keys.access_token(user)
        assert (await gateway.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {other}"})).status_code == 200

    async def test_a_key_retired_early_stops_its_tokens_verified_before(self, gateway) -> None:
        """`atelier keys retire KID --force`: the gateway hears `identity.key_retired` and
        refuses the tokens of that key it had verified and remembered."""
        headers = {"Authorization": f"Bearer {gateway.keys.access_token()}"}
        assert (await gateway.client.get("/api/v1/users/me", headers=headers)).status_code == 200
        await gateway.bus.publish([Envelope.wrap(KeyRetired(kid=gateway.keys.access.kid), producer="identity")])
        await gateway.bus.drain()
        r = await gateway.client.get("/api/v1/users/me", headers=headers)
        assert r.status_code == 401 and r.json()["error"]["code"] == "INVALID_TOKEN"

    async def test_without_the_event_a_key_gone_from_the_jwks_stops_its_tokens_once_the_jwks_is_stale(
            self, start_gateway, monkeypatch: pytest.MonkeyPatch) -> None:
        """The broker down: the gateway's JWKS lifetime (`jwks_cache_seconds`) is the backstop."""
        async with start_gateway(jwks_cache_seconds=60) as gateway:
            # The JWKS ages by a clock the test moves: how fast the machine is decides nothing.
            now = [1000.0]
            gateway.app.state.gateway.auth.verifier.jwks.clock = lambda: now[0]
            headers = {"Authorization": f"Bearer {gateway.keys.access_token()}"}
            assert (await gateway.client.get("/api/v1/users/me", headers=headers)).status_code == 200
            # Identity publishes another key only (the session's keys come back after the test).
            monkeypatch.setattr(gateway.keys, "access", SigningKey.generate())
            # Until the JWKS is stale, the one fetched a moment ago still vouches for the old key.
            now[0] += 59
            assert (await gateway.client.get("/api/v1/users/me", headers=headers)).status_code == 200
            now[0] += 1
            r = await gateway.client.get("/api/v1/users/me", headers=headers)
            assert r.status_code == 401 and r.json()["error"]["code"] == "INVALID_TOKEN"
            fresh = {"Authorization": f"Bearer {gateway.keys.access_token()}"}
            assert (await gateway.client.get("/api/v1/users/me", headers=fresh)).status_code == 200

    async def test_successful_logout_denies_the_token_on_this_instance_at_once(self, gateway) -> None:
        headers = {"Authorization": f"Bearer {gateway.keys.access_token()}"}
        assert (await gateway.client.post("/api/v1/auth/logout", headers=headers)).status_code == 200
        assert (await gateway.client.get("/api/v1/users/me", headers=headers)).status_code == 401


class TestRateLimits:
    async def test_per_caller_limit_answers_429_with_retry_after(self, gateway) -> None:
        headers = {"Authorization": f"Bearer {gateway.keys.access_token()}"}
        statuses = [(await gateway.client.get("/api/v1/products", headers=headers)).status_code for _ in range(31)]
        assert statuses[:30] == [200] * 30
        assert statuses[30] == 429
        r = await gateway.client.get("/api/v1/products", headers=headers)
        assert r.json()["error"]["code"] == "RATE_LIMITED"
        assert int(r.headers["retry-after"]) >= 1
        # another caller is not affected
        other = {"Authorization": f"Bearer {gateway.keys.access_token()}"}
        assert (await gateway.client.get("/api/v1/products", headers=other)).status_code == 200

    async def test_staff_have_a_limit_of_their_own(self, start_gateway) -> None:
        """The console works through many records an hour: a staff token counts against
        `rate_limit_staff`, not the customers' per-caller limit."""
        async with start_gateway(rate_limit_default="3/minute", rate_limit_staff="5/minute") as gateway:
            customer = {"Authorization": f"Bearer {gateway.keys.access_token()}"}
            staff = {"Authorization": f"Bearer {gateway.keys.access_token(roles=('staff', 'support'))}"}
            customer_statuses = [(await gateway.client.get("/api/v1/products", headers=customer)).status_code
                                 for _ in range(4)]
            staff_statuses = [(await gateway.client.get("/api/v1/products", headers=staff)).status_code
                              for _ in range(6)]
            assert customer_statuses == [200, 200, 200, 429]
            assert staff_statuses == [200] * 5 + [429]

    async def test_credential_routes_are_limited_per_address(self, gateway) -> None:
        statuses = [(await gateway.client.post("/api/v1/auth/login", json={})).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]


    async def test_callers_without_an_access_token_share_their_address_ceiling(self, start_gateway) -> None:
        """Tokenless and anonymous callers count against their address's ceiling, fresh identities
        included; a signed-in caller there and another address are not limited by it."""
        async with start_gateway(rate_limit_per_ip="5/minute") as gateway:
            statuses = []
            for path in ("/api/v1/products", "/api/v1/cart", "/api/v1/cart", "/api/v1/products", "/api/v1/cart",
                         "/api/v1/cart"):
                gateway.client.cookies.clear()
                statuses.append(await gateway.client.get(path))
            assert [r.status_code for r in statuses] == [200] * 5 + [429]
            assert_error(statuses[5], 429, "RATE_LIMITED")
            assert int(statuses[5].headers["retry-after"]) >= 1
            assert "x-anonymous-token" not in statuses[5].headers and "set-cookie" not in statuses[5].headers
            bearer = {"Authorization": f"Bearer {gateway.keys.access_token()}"}
            assert (await gateway.client.get("/api/v1/cart", headers=bearer)).status_code == 200
            transport = httpx.ASGITransport(app=gateway.app, client=("198.51.100.7", 5000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as elsewhere:
                other = await elsewhere.get("/api/v1/cart")
                assert other.status_code == 200 and other.headers["x-anonymous-token"]

    async def test_a_crowd_behind_one_address_gets_in_with_the_deployed_defaults(self, start_gateway) -> None:
        """500 visitors without a cookie jar behind one address (an office, a carrier's NAT) browse,
        each starts a cart, 50 sign in and 5 reset a password: nobody is refused."""
        defaults = {name: GatewaySettings.model_fields[name].default
                    for name in ("rate_limit_default", "rate_limit_per_ip", "rate_limit_credentials_per_ip")}
        async with start_gateway(**defaults) as gateway:
            statuses: list[int] = []
            for visitor in range(500):
                gateway.client.cookies.clear()
                statuses.append((await gateway.client.get("/api/v1/products")).status_code)
                statuses.append((await gateway.client.get("/api/v1/products/p1")).status_code)
                statuses.append((await gateway.client.post("/api/v1/cart/items", json={})).status_code)
                if visitor % 10 == 0:
                    statuses.append((await gateway.client.post("/api/v1/auth/login", json={})).status_code)
                if visitor % 100 == 0:
                    statuses.append((await gateway.client.post("/api/v1/auth/password-reset", json={})).status_code)
            assert len(statuses) == 1555 and set(statuses) == {200}


class TestCors:
    async def test_preflight_allows_configured_origin_with_credentials(self, gateway) -> None:
        r = await gateway.client.options("/api/v1/products", headers={
            "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"})
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "http://localhost:3000"
        assert r.headers["access-control-allow-credentials"] == "true"

    async def test_a_frontend_may_read_its_guest_session_headers(self, gateway) -> None:
        r = await gateway.client.get("/api/v1/cart", headers={"Origin": "http://localhost:3000"})
        exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
        # ... and whether a page's `count` is an estimate (a large table's).
        assert {"x-anonymous-token", "x-session-id", "retry-after", "x-count-estimated"} <= exposed

    async def test_other_origins_get_no_cors_headers(self, gateway) -> None:
        r = await gateway.client.get("/api/v1/products", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in r.headers


class TestDocsAndHealth:
    async def test_merged_schema_has_every_service_and_no_internal_route(self, gateway) -> None:
        doc = (await gateway.client.get("/api/schema")).json()
        assert "/api/v1/catalog-thing" not in doc["paths"]  # not a catalog prefix: filtered
        assert not any(p.startswith("/internal") for p in doc["paths"])
        assert all(group["tags"] for group in doc["x-tagGroups"])  # no empty tag group

    async def test_a_service_not_read_this_time_is_never_left_out_for_the_whole_cache_time(
            self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Identity answers its document late once (a busy machine): the document names it missing
        and asks again at the next read; once read, a later failure keeps its last document."""
        identity_up = False

        def services(request: httpx.Request) -> httpx.Response:
            if request.url.host == "identity.internal" and not identity_up:
                return httpx.Response(503)
            path = "/api/v1/users/me" if request.url.host == "identity.internal" else "/api/v1/products"
            return httpx.Response(200, json={"paths": {path: {"get": {"responses": {}}}}})

        clock = [1000.0]
        # The module's clock only: patching `time.monotonic` itself would stop the event loop's too.
        monkeypatch.setattr("atelier_gateway.openapi.time", SimpleNamespace(monotonic=lambda: clock[0]))
        urls = {"catalog": "http://catalog.internal", "identity": "http://identity.internal"}
        async with httpx.AsyncClient(transport=httpx.MockTransport(services)) as client:
            cache = OpenApiCache(client, urls, ttl=3600)
            first = await cache.document()
            assert set(first["paths"]) == {"/api/v1/products"} and first[MISSING] == ["identity"]
            identity_up = True
            second = await cache.document()  # asked again at once, not an hour later
            assert set(second["paths"]) == {"/api/v1/products", "/api/v1/users/me"} and MISSING not in second
            clock[0] += 3599
            assert await cache.document() is second  # complete: kept for the cache time
            identity_up, clock[0] = False, clock[0] + 2
            third = await cache.document()  # rebuilt, identity failing again: its last document stays
            assert third is not second and "/api/v1/users/me" in third["paths"] and MISSING not in third

    def test_merge_prefixes_schemas_and_rewrites_refs(self) -> None:
        doc = merge({"catalog": {"paths": {"/api/v1/products": {"get": {"responses": {"200": {"content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}}}},
            "components": {"schemas": {"Thing": {"type": "object"}}}}})
        ref = doc["paths"]["/api/v1/products"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert ref == {"$ref": "#/components/schemas/catalog__Thing"}
        assert "catalog__Thing" in doc["components"]["schemas"]

    def test_merge_keeps_one_error_schema_and_tags_every_group(self) -> None:
        error = {"$ref": "#/components/schemas/Error"}
        doc = merge({service: {"paths": {f"/api/v1/{path}": {"get": {"tags": [tag], "responses": {
            "404": {"description": "x", "content": {"application/json": {"schema": error}}}}}}},
            "components": {"schemas": {"Error": {"type": "object"}}}}
            for service, path, tag in (("catalog", "products", "products"), ("identity", "users", "users"))})
        for path in ("/api/v1/products", "/api/v1/users"):
            assert doc["paths"][path]["get"]["responses"]["404"]["content"]["application/json"]["schema"] == error
        assert "Error" in doc["components"]["schemas"] and "catalog__Error" not in doc["components"]["schemas"]
        assert [t["name"] for t in doc["tags"]] == ["products", "users"]
        assert doc["x-tagGroups"] == [{"name": "catalog", "tags": ["products"]}, {"name": "identity", "tags": ["users"]}]
        assert set(doc["components"]["securitySchemes"]) == {"bearer", "anonToken"}

    def test_merge_groups_a_tag_two_services_share_once(self) -> None:
        doc = merge({service: {"paths": {path: {"get": {"tags": ["credits"], "responses": {}}}}}
                     for service, path in (("payments", "/api/v1/credits/purchase"), ("generation", "/api/v1/credits"))})
        assert doc["tags"] == [{"name": "credits"}]
        assert doc["x-tagGroups"] == [{"name": "generation", "tags": ["credits"]}]

    async def test_docs_pages_are_served_from_packaged_assets(self, gateway) -> None:
        docs = (await gateway.client.get("/api/docs")).text
        redoc = (await gateway.client.get("/api/redoc")).text
        assert "swagger" in docs.lower() and "redoc" in redoc.lower()
        for page in (docs, redoc):
            assert "cdn.jsdelivr.net" not in page and "fonts.googleapis.com" not in page and "tiangolo" not in page
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png"):
            r = await gateway.client.get(f"/api/docs/static/{asset}")
            assert r.status_code == 200 and len(r.content) > 100, asset
        redoc_js = await gateway.client.get("/api/docs/redoc.js")
        assert redoc_js.status_code == 200 and b"cdn.redoc.ly" not in redoc_js.content
        csp = (await gateway.client.get("/api/docs")).headers["content-security-policy"]
        assert "default-src 'self'" in csp

    async def test_health_is_503_when_a_service_is_not_ready(self, gateway) -> None:
        r = await gateway.client.get("/api/health")
        assert r.status_code == 200 and r.json()["status"] == "healthy"
        gateway.services["orders"].state.ready = False
        r = await gateway.client.get("/api/health")
        assert r.status_code == 503
        assert r.json()["services"]["orders"]["status"] == "degraded"

    async def test_probes_stay_up_when_one_service_is_degraded(self, gateway) -> None:
        """Kubernetes' probes of the gateway (`/health` liveness, `/ready` readiness) check the
        gateway itself: one degraded service must not restart or unroute every gateway pod."""
        gateway.services["orders"].state.ready = False
        assert (await gateway.client.get("/api/health")).status_code == 503
        live, ready = await gateway.client.get("/health"), await gateway.client.get("/ready")
        assert live.status_code == 200 and live.json()["status"] == "ok"
        assert ready.status_code == 200 and ready.json()["checks"] == {"broker": "ok"}

    async def test_ready_is_503_when_its_broker_link_is_down(self, gateway, monkeypatch) -> None:
        async def down() -> bool:
            return False

        monkeypatch.setattr(gateway.bus, "ready", down)
        r = await gateway.client.get("/ready")
        assert r.status_code == 503 and r.json()["checks"] == {"broker": "error"}
        assert (await gateway.client.get("/health")).status_code == 200

    async def test_jwks_has_identity_and_anonymous_keys(self, gateway) -> None:
        kids = {k["kid"] for k in (await gateway.client.get("/.well-known/jwks.json")).json()["keys"]}
        assert kids == {gateway.keys.access.kid, gateway.keys.anon.kid}


def test_production_requires_the_anonymous_token_key(test_keys) -> None:
    """Each gateway replica would otherwise sign with a key of its own, refused by the others."""
    from pydantic import ValidationError

    from atelier_gateway.settings import GatewaySettings

    with pytest.raises(ValidationError, match="anon_signing_key_pem must be set in production"):
        GatewaySettings(environment="production", service_token="a-real-one")
    settings = GatewaySettings(environment="production", service_token="a-real-one",
                               anon_signing_key_pem=test_keys.anon.pem().decode())
    assert settings.anon_signing_key_pem


def test_profiles_named_in_the_settings_need_a_mount(tmp_path) -> None:
    """The gateway does not load the profiles itself (the platform mounts them): settings that name
    some, with nothing mounted, stop the start instead of answering 404 on every seed route."""
    from atelier_gateway.app import create_app
    from atelier_gateway.settings import GatewaySettings

    for named in ({"compat_profiles": ["marbelle"]}, {"compat_root_profile": "shop"}):
        with pytest.raises(ValueError, match="no compatibility mount was given"):
            create_app(GatewaySettings(environment="test", data_dir=tmp_path, **named))
