"""The gateway decides a request's storefront once: header, origin (or referer), compatibility
profile, default — and passes it on in `x-atelier-storefront`; CORS follows the storefronts."""

from __future__ import annotations

import orjson

from atelier_common.contracts.identity import StorefrontChanged, StorefrontDeleted
from atelier_common.events import Envelope
from atelier_gateway.storefronts import COMPAT_PROFILE, origin_of
from atelier_testing.gateway import Gateway
from atelier_testing.storefronts import add_storefront, make_storefront


def forwarded_storefront(response) -> str:
    assert response.status_code == 200, response.text
    return response.json()["headers"]["x-atelier-storefront"]


async def announce(gateway: Gateway, event) -> None:
    await gateway.bus.publish([Envelope.wrap(event, producer="identity")])
    await gateway.bus.drain()



async def storefront_through_profile(gateway: Gateway, profile: str, origin: bytes | None = None) -> str:
    """The storefront the proxy tells catalog of, for a request its compatibility `profile` brought
    (the profile's middleware marks the scope), from `origin` when named."""
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    headers = [(b"host", b"testserver"), *([(b"origin", origin)] if origin else [])]
    scope = {"type": "http", "method": "GET", "path": "/api/v1/products", "raw_path": b"/api/v1/products",
             "query_string": b"", "headers": headers, "scheme": "http", "client": ("203.0.113.9", 5000),
             "app": gateway.app, COMPAT_PROFILE: profile}
    await gateway.app.state.gateway.proxy("catalog", scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return str(orjson.loads(body)["headers"]["x-atelier-storefront"])

class TestWhichStorefront:
    async def test_without_anything_the_default(self, gateway: Gateway) -> None:
        assert forwarded_storefront(await gateway.client.get("/api/v1/products")) == "default"

    async def test_the_header_names_it(self, gateway: Gateway) -> None:
        add_storefront(gateway.app, make_storefront("b"))
        r = await gateway.client.get("/api/v1/products", headers={"X-Atelier-Storefront": "b"})
        assert forwarded_storefront(r) == "b"

    async def test_an_unknown_header_is_refused_before_any_service(self, gateway: Gateway) -> None:
        r = await gateway.client.get("/api/v1/products", headers={"X-Atelier-Storefront": "nope"})
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "UNKNOWN_STOREFRONT"
        assert "service" not in r.json()

    async def test_the_origin_then_the_referer(self, gateway: Gateway) -> None:
        add_storefront(gateway.app, make_storefront("b", origins=["https://b.example"]))
        add_storefront(gateway.app, make_storefront("c", origins=["http://localhost:3105"]))
        by_origin = await gateway.client.get("/api/v1/products", headers={"Origin": "https://B.example"})
        assert forwarded_storefront(by_origin) == "b"
        by_referer = await gateway.client.get("/api/v1/products",
                                              headers={"Referer": "http://localhost:3105/shop/item?x=1"})
        assert forwarded_storefront(by_referer) == "c"
        # The header wins over the origin.
        both = await gateway.client.get("/api/v1/products", headers={"Origin": "https://b.example",
                                                                     "X-Atelier-Storefront": "c"})
        assert forwarded_storefront(both) == "c"

    async def test_an_origin_no_storefront_lists_is_the_default(self, gateway: Gateway) -> None:
        add_storefront(gateway.app, make_storefront("b"))
        r = await gateway.client.get("/api/v1/products", headers={"Origin": "https://evil.example"})
        assert forwarded_storefront(r) == "default"

    async def test_a_compatibility_profile_brings_its_storefront(self, gateway: Gateway) -> None:
        add_storefront(gateway.app, make_storefront("stones", compat_profile="marbelle"))
        assert await storefront_through_profile(gateway, "marbelle") == "stones"

    async def test_a_profiles_path_is_never_answered_from_another_brands_storefront(self, gateway: Gateway) -> None:
        # The demo's set-up: the page on :3000 is the storybook's origin, the stone shop's frontend
        # runs there too and calls its own profile's path.
        add_storefront(gateway.app, make_storefront("comics", origins=["http://127.0.0.1:3000"],
                                                    compat_profile="mycomics"))
        add_storefront(gateway.app, make_storefront("stones", origins=["https://stones.example"],
                                                    compat_profile="marbelle"))

        # Another brand's page: the profile's storefront (a profile names one), not the page's.
        assert await storefront_through_profile(gateway, "marbelle", b"http://127.0.0.1:3000") == "stones"
        assert await storefront_through_profile(gateway, "marbelle", b"https://stones.example") == "stones"
        assert await storefront_through_profile(gateway, "mycomics", b"http://127.0.0.1:3000") == "comics"

    async def test_the_storefronts_follow_identitys_events(self, gateway: Gateway) -> None:
        b = make_storefront("b", origins=["https://b.example"], revision=5)
        await announce(gateway, StorefrontChanged(storefront=b))
        assert forwarded_storefront(await gateway.client.get(
            "/api/v1/products", headers={"Origin": "https://b.example"})) == "b"
        # An older record arriving late changes nothing; the deletion removes it.
        await announce(gateway, StorefrontChanged(storefront=b.model_copy(update={"origins": [], "revision": 4})))
        assert forwarded_storefront(await gateway.client.get(
            "/api/v1/products", headers={"Origin": "https://b.example"})) == "b"
        await announce(gateway, StorefrontDeleted(slug="b", revision=6))
        r = await gateway.client.get("/api/v1/products", headers={"X-Atelier-Storefront": "b"})
        assert r.status_code == 400 and r.json()["error"]["code"] == "UNKNOWN_STOREFRONT"


class TestCors:
    async def test_a_storefronts_origin_is_granted(self, gateway: Gateway) -> None:
        add_storefront(gateway.app, make_storefront("b", origins=["https://b.example"]))
        preflight = await gateway.client.options("/api/v1/cart", headers={
            "Origin": "https://b.example", "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://b.example"
        simple = await gateway.client.get("/api/v1/products", headers={"Origin": "https://b.example"})
        assert simple.headers["access-control-allow-origin"] == "https://b.example"

    async def test_an_unlisted_origin_gets_no_grant(self, gateway: Gateway) -> None:
        add_storefront(gateway.app, make_storefront("b", origins=["https://b.example"]))
        simple = await gateway.client.get("/api/v1/products", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in simple.headers
        preflight = await gateway.client.options("/api/v1/cart", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 400

    async def test_the_setting_still_counts(self, gateway: Gateway) -> None:
        simple = await gateway.client.get("/api/v1/products", headers={"Origin": "http://localhost:5173"})
        assert simple.headers["access-control-allow-origin"] == "http://localhost:5173"


def test_origin_of() -> None:
    assert origin_of("https://Shop.Example:8443/a/b?c") == "https://shop.example:8443"
    assert origin_of("ftp://x") is None
    assert origin_of("null") is None
    assert origin_of("http://[::1") is None


async def test_the_seam_answers_the_cors_decision_for_a_mounted_package(gateway: Gateway) -> None:
    """`seams.allows_origin`: what a compatibility profile's CSRF check trusts is what CORS allows."""
    from atelier_gateway.seams import allows_origin

    add_storefront(gateway.app, make_storefront("b", origins=["https://b.example"]))
    scope = {"type": "http", "app": gateway.app}
    assert allows_origin(scope, "https://b.example")
    assert allows_origin(scope, "http://localhost:3000")  # the cors_origins setting
    assert not allows_origin(scope, "https://evil.example")
    assert not allows_origin({"type": "http"}, "https://b.example")  # no gateway: nothing trusted
