"""The compatibility framework in front of echo services: routing, translation, errors, schema, doors."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from atelier_compat import PROFILE_NAMES, available, enabled
from atelier_compat.core import CompatError, Context, Json, Profile, Reply, Route
from atelier_compat.dispatch import Compat
from atelier_testing.gateway import Gateway, StartGateway
from atelier_testing.storefronts import add_storefront, make_storefront


async def _two_calls(ctx: Context) -> Reply:
    first = await ctx.call("GET", "/api/v1/cart")
    second = await ctx.call("GET", "/api/v1/orders", query={"mine": "1"})
    return Reply({"first": first["headers"].get("x-anonymous-token"),
                  "second": second["headers"].get("x-anonymous-token"), "query": second["query"]}, status=202)


def _envelope(route: Route, reply: Reply) -> Json:
    return {"ok": True, "msg": reply.message, "payload": reply.data}


def _error(exc: CompatError) -> Json:
    return {"ok": False, "reason": exc.message, "kind": exc.code, "extra": exc.details}


DEMO = Profile(
    name="demo", title="Demo", seed="a test seed",
    routes=(
        Route("POST", "/api/things/", "Add a thing", native="POST /api/v1/cart/items", body={"item": "product_id"},
              out=lambda d, c: {"native_path": d["path"], "native_body": d["body"]}, status={200: 201},
              message="Added."),
        Route("GET", "/api/things/{thing}/", "A thing", native="GET /api/v1/products/{thing}",
              query={"q": "search"}, out=lambda d, c: {"path": d["path"], "query": d["query"]}, enveloped=False),
        Route("GET", "/api/two/", "Two native calls", handler=_two_calls, auth="anon"),
        Route("POST", "/api/teleport/", "Not here", missing="teleportation (no native service offers it)"),
    ),
    envelope=_envelope, error=_error)


async def _with_demo(gw: Gateway) -> None:
    gw.app.state.gateway = replace(gw.app.state.gateway, compat=Compat({"demo": DEMO}))


async def test_a_declarative_route_renames_the_body_maps_the_status_and_wraps_the_answer(gateway: Gateway) -> None:
    await _with_demo(gateway)
    r = await gateway.client.post("/compat/demo/api/things/", json={"item": "p-1", "quantity": 2})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["ok"] is True and body["msg"] == "Added."
    assert body["payload"]["native_path"] == "/api/v1/cart/items"
    assert body["payload"]["native_body"] == '{"product_id":"p-1","quantity":2}'


async def test_path_parameters_and_query_renames_reach_the_native_route(gateway: Gateway) -> None:
    await _with_demo(gateway)
    r = await gateway.client.get("/compat/demo/api/things/abc/", params={"q": "marble", "page": "2"})
    assert r.status_code == 200
    assert r.json() == {"path": "/api/v1/products/abc", "query": "search=marble&page=2"}  # no envelope


async def test_one_seed_request_keeps_one_anonymous_identity_across_its_native_calls(gateway: Gateway) -> None:
    await _with_demo(gateway)
    r = await gateway.client.get("/compat/demo/api/two/")
    assert r.status_code == 202
    payload = r.json()["payload"]
    assert payload["first"] and payload["first"] == payload["second"]
    assert payload["query"] == "mine=1"
    # the minted token reaches the client once, as the native door hands it out
    assert r.headers["x-anonymous-token"] == payload["first"]
    assert f"anon_token={payload['first']}" in r.headers["set-cookie"]


async def test_errors_are_in_the_profile_format(gateway: Gateway) -> None:
    await _with_demo(gateway)
    r = await gateway.client.post("/compat/demo/api/teleport/")
    assert r.status_code == 501
    assert r.json()["ok"] is False and r.json()["kind"] == "NOT_IMPLEMENTED"
    assert "teleportation" in r.json()["reason"] and r.json()["extra"]["missing"].startswith("teleportation")

    r = await gateway.client.delete("/compat/demo/api/things/")
    assert r.status_code == 405 and r.json()["kind"] == "METHOD_NOT_ALLOWED" and r.headers["allow"] == "POST"

    r = await gateway.client.get("/compat/demo/api/nowhere/")
    assert r.status_code == 404 and r.json()["kind"] == "NOT_FOUND"

    r = await gateway.client.post("/compat/demo/api/things/", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["kind"] == "VALIDATION_ERROR"

    # the native pipeline's own refusals (here the edge's token check) come back in the profile's format
    r = await gateway.client.get("/compat/demo/api/two/", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and r.json()["kind"] == "INVALID_TOKEN" and r.json()["ok"] is False


async def test_the_rate_limit_is_the_native_one_whichever_door_is_used(start_gateway: StartGateway) -> None:
    async with start_gateway(rate_limit_per_ip="3/minute") as gw:
        await _with_demo(gw)
        assert (await gw.client.get("/api/v1/products")).status_code == 200
        assert (await gw.client.get("/compat/demo/api/things/x/")).status_code == 200
        assert (await gw.client.get("/api/v1/products")).status_code == 200
        r = await gw.client.get("/compat/demo/api/things/x/")
        assert r.status_code == 429
        assert r.json()["kind"] == "RATE_LIMITED" and "retry-after" in r.headers


async def test_the_profile_schema_lists_exactly_the_routes_served(gateway: Gateway) -> None:
    await _with_demo(gateway)
    r = await gateway.client.get("/compat/demo/schema")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    assert {(m.upper(), p) for p, item in doc["paths"].items() for m in item} == {
        ("POST", "/api/things/"), ("GET", "/api/things/{thing}/"), ("GET", "/api/two/")}
    assert doc["x-not-implemented"] == [{"method": "POST", "path": "/api/teleport/",
                                         "missing": "teleportation (no native service offers it)"}]
    assert doc["servers"] == [{"url": "/compat/demo"}]
    # the merged native document stays native-only
    native = (await gateway.client.get("/api/schema")).json()
    assert not [p for p in native["paths"] if p.startswith("/compat")]


@pytest.mark.parametrize("profile", ["storybook", "marbelle", "reviv", "shop", "figureforge"])
async def test_each_profile_has_its_docs_pages_offline(start_gateway: StartGateway, profile: str) -> None:
    """`/compat/<p>/docs` (Swagger UI) and `/compat/<p>/redoc` show the profile's own document,
    with the gateway's offline files: nothing from another host."""
    async with start_gateway(compat_profiles=[profile]) as gw:
        for page, script in (("docs", "/api/docs/static/swagger-ui-bundle.js"), ("redoc", "/api/docs/redoc.js")):
            r = await gw.client.get(f"/compat/{profile}/{page}")
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), (page, r.text)
            assert f"/compat/{profile}/schema" in r.text and script in r.text
            assert "https://" not in r.text and "default-src 'self'" in r.headers["content-security-policy"]
            assert (await gw.client.get(script)).status_code == 200
        assert (await gw.client.get(f"/compat/{profile}/schema")).json()["paths"]
        assert (await gw.client.post(f"/compat/{profile}/docs")).status_code != 200  # a page, not a route


async def test_profiles_are_off_unless_enabled(gateway: Gateway) -> None:
    r = await gateway.client.get("/compat/marbelle/api/v1/auth/user/")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "NOT_FOUND"  # the native error format: no profile answered


async def test_an_enabled_profile_is_served_under_its_prefix_and_the_others_are_not(start_gateway: StartGateway) -> None:
    async with start_gateway(compat_profiles=["marbelle"]) as gw:
        assert (await gw.client.get("/compat/marbelle/api/v1/auth/verify-token/")).status_code == 401  # seed auth
        gw.client.headers.update(gw.keys.user_headers())
        r = await gw.client.get("/compat/marbelle/api/v1/auth/verify-token/")
        assert r.status_code == 200
        assert r.json()["success"] is True
        assert {"id", "email", "date_joined"} <= set(r.json()["data"])  # the user, as S1's verify-token answers
        assert (await gw.client.get("/compat/shop/api/v1/products/")).status_code == 404
        # the native route at the same seed path is untouched
        assert (await gw.client.get("/api/v1/auth/verify-token/")).json()["path"] == "/api/v1/auth/verify-token"


async def test_a_profile_mounted_at_the_root_goes_before_the_native_routes(start_gateway: StartGateway) -> None:
    async with start_gateway(compat_root_profile="marbelle") as gw:
        gw.client.headers.update(gw.keys.user_headers())
        r = await gw.client.get("/api/v1/auth/verify-token/")
        assert r.status_code == 200 and r.json()["success"] is True  # marbelle's envelope
        assert (await gw.client.get("/schema")).json()["info"]["title"].startswith("Marbelle")
        # paths the profile does not have still reach the native API
        assert (await gw.client.get("/api/v1/orders")).json()["path"] == "/api/v1/orders"
        # and it is served under its prefix as well
        assert (await gw.client.get("/compat/marbelle/api/v1/auth/verify-token/")).json()["success"] is True


async def test_a_storefront_serves_its_profile_at_the_root_for_its_own_origin(
        start_gateway: StartGateway) -> None:
    """`Storefront.compat_at_root`: its frontend's own base URL works unchanged, chosen per request."""
    async with start_gateway(compat_profiles=["marbelle", "shop"]) as gw:
        add_storefront(gw.app, make_storefront("m", origins=["http://localhost:3000"], compat_profile="marbelle",
                                               compat_at_root=True))
        add_storefront(gw.app, make_storefront("n", origins=["https://n.example"], compat_profile="shop"))
        gw.client.headers.update(gw.keys.user_headers())
        site = {"Origin": "http://localhost:3000"}
        r = await gw.client.get("/api/v1/auth/verify-token/", headers=site)
        assert r.status_code == 200 and r.json()["success"] is True, r.text  # marbelle's envelope
        assert "Origin" in r.headers["vary"] and r.headers["access-control-allow-origin"] == site["Origin"]
        # the same path without that origin, from another storefront's, or naming its storefront: native
        assert (await gw.client.get("/api/v1/auth/verify-token/")).json()["path"] == "/api/v1/auth/verify-token"
        for other in ({"Origin": "https://n.example"}, {**site, "X-Atelier-Storefront": "m"}):
            r = await gw.client.get("/api/v1/auth/verify-token/", headers=other)
            assert r.json()["path"] == "/api/v1/auth/verify-token", other
        # what the profile does not route (a path, or another method on its path) stays native
        assert (await gw.client.get("/api/v1/orders", headers=site)).json()["path"] == "/api/v1/orders"
        assert (await gw.client.delete("/api/v1/auth/verify-token/", headers=site)).json()["service"] == "identity"
        # a page's Referer selects it too, but nobody may keep that answer (it varies on the page)
        r = await gw.client.get("/api/v1/auth/verify-token/", headers={"Referer": "http://localhost:3000/cart"})
        assert r.json()["success"] is True and r.headers["cache-control"] == "private, no-cache"


def test_the_setting_names_known_profiles() -> None:
    assert set(enabled(["all"])) == set(available())
    assert "marbelle" in available()
    with pytest.raises(ValueError, match="unknown compatibility profiles"):
        enabled(["nope"])
    assert set(PROFILE_NAMES) == {"storybook", "marbelle", "reviv", "shop", "figureforge"}


def _routes_have_unique_method_and_path(profile: Profile) -> list[Any]:
    seen: set[tuple[str, str]] = set()
    dupes = []
    for route in profile.routes:
        key = (route.method, route.path.rstrip("/"))
        if key in seen:
            dupes.append(key)
        seen.add(key)
    return dupes


@pytest.mark.parametrize("name", sorted(available()))
def test_each_profile_table_is_well_formed(name: str) -> None:
    profile = available()[name]
    assert not _routes_have_unique_method_and_path(profile)
    for route in profile.routes:
        assert route.path.startswith("/")
        assert sum(x is not None for x in (route.native, route.handler, route.missing)) == 1, route


async def _broken(ctx: Context) -> Reply:
    raise KeyError("a translation bug")


async def _as_user(ctx: Context) -> None:
    if ctx.headers.get("cookie") == "session=yes":
        ctx.native_headers["authorization"] = ctx.headers["x-test-bearer"]
    if ctx.method == "POST" and ctx.headers.get("origin") not in (None, *ctx.origins):
        raise CompatError(403, "CSRF_FAILED", "Origin not trusted")


HOOKED = Profile(
    name="hooked", title="Hooked", seed="a test seed",
    routes=(Route("GET", "/me/", "Who am I", native="GET /api/v1/users/me", auth="user"),
            Route("POST", "/me/", "Change me", native="POST /api/v1/users/me", auth="user"),
            Route("GET", "/broken/", "A bug", handler=_broken)),
    envelope=_envelope, error=_error, prepare=_as_user)


async def test_a_prepare_hook_supplies_the_seed_auth_style_and_checks_origins(gateway: Gateway) -> None:
    gateway.app.state.gateway = replace(gateway.app.state.gateway, compat=Compat({"hooked": HOOKED}, origins=("http://localhost:3000",)))
    r = await gateway.client.get("/compat/hooked/me/")
    assert r.status_code == 401 and r.json()["kind"] == "AUTHENTICATION_REQUIRED"
    bearer = gateway.keys.user_headers()["Authorization"]
    session = {"cookie": "session=yes", "x-test-bearer": bearer}
    r = await gateway.client.get("/compat/hooked/me/", headers=session)
    assert r.status_code == 200 and r.json()["payload"]["headers"]["authorization"] == bearer
    r = await gateway.client.post("/compat/hooked/me/", headers={**session, "origin": "https://evil.example"}, json={})
    assert r.status_code == 403 and r.json()["kind"] == "CSRF_FAILED"
    r = await gateway.client.post("/compat/hooked/me/", headers={**session, "origin": "http://localhost:3000"}, json={})
    assert r.status_code == 200


async def test_a_translation_bug_is_a_500_in_the_profile_format(gateway: Gateway) -> None:
    gateway.app.state.gateway = replace(gateway.app.state.gateway, compat=Compat({"hooked": HOOKED}))
    r = await gateway.client.get("/compat/hooked/broken/")
    assert r.status_code == 500
    assert r.json() == {"ok": False, "reason": "Internal server error", "kind": "INTERNAL_ERROR", "extra": {}}
