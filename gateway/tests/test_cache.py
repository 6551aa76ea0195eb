"""The gateway answers public reads the services stored in the shared cache (without the hop), for
the audience they were stored for and only while unchanged; what a service did not declare
cacheable is `no-store`, and an answer that mints an anonymous token is `private`. A public read
mints nothing, so its public answer stays public, with a `Vary` on what chose its storefront."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import jwt

from atelier_common.cache import PUBLIC_AUDIENCE, Entry, RedisStore, entry_key, etag_of, open_store
from atelier_common.contracts.identity import TokenRevoked
from atelier_common.events.envelope import Envelope
from atelier_testing import poll_until
from atelier_testing.storefronts import add_storefront, make_storefront, on_storefront


async def _store_page(gateway, path: str, body: bytes, storefront: bytes = b"default") -> tuple[object, bytes]:
    store = open_store(gateway.app.state.settings)  # the in-process store this gateway reads
    assert store is not None
    etag = etag_of(body)
    entry = Entry(await store.generations(["shop"]), ("shop",),
                  [(b"content-type", b"application/json"), (b"etag", etag), (b"cache-control", b"public, no-cache")],
                  body)
    # The key the service stores under: the gateway passed it the default storefront.
    await store.set(entry_key("http", b"testserver", path, b"", PUBLIC_AUDIENCE, storefront), entry.encode(), ttl=30)
    return store, etag


class TestServedFromTheCache:
    async def test_a_stored_public_answer_is_served_without_the_service(self, gateway) -> None:
        anon = gateway.keys.anon_headers()
        # The gateway looks up only under prefixes a service has answered as public.
        learned = await gateway.client.get("/api/v1/products/x", params={"public": "1"}, headers=anon)
        assert learned.headers["cache-control"] == "public, no-cache" and "x-cache" not in learned.headers
        store, etag = await _store_page(gateway, "/api/v1/products/p1", b'{"price": "9.99"}')

        hit = await gateway.client.get("/api/v1/products/p1", headers=anon)
        assert (hit.status_code, hit.content, hit.headers["x-cache"]) == (200, b'{"price": "9.99"}', "hit")
        assert hit.headers["etag"] == etag.decode() and hit.headers["x-request-id"]
        assert hit.headers.get_list("x-content-type-options") == ["nosniff"]  # as every answer
        customer = await gateway.client.get("/api/v1/products/p1", headers=gateway.keys.user_headers())
        assert customer.headers.get("x-cache") == "hit"  # signed-in customers share the entry
        revalidated = await gateway.client.get("/api/v1/products/p1", headers={**anon, "If-None-Match": etag.decode()})
        assert (revalidated.status_code, revalidated.content) == (304, b"")

        staff = await gateway.client.get("/api/v1/products/p1", headers=gateway.keys.staff_headers())
        assert "x-cache" not in staff.headers and staff.json()["service"] == "catalog"  # staff: their own entries

        await store.bump(["shop"])  # a commit changed what the page shows
        changed = await gateway.client.get("/api/v1/products/p1", headers=anon)
        assert "x-cache" not in changed.headers and changed.json()["service"] == "catalog"

    async def test_a_customer_group_never_gets_the_public_entry_nor_anyone_else_the_groups(self, gateway) -> None:
        """A group member's token (`grp` on its storefront, `grp_sf`) is an audience of its own, on the full path and on
        the lane that serves a token it verified before: its price is nobody else's, and the public
        price is not its."""
        anon = gateway.keys.anon_headers()
        await gateway.client.get("/api/v1/products/x", params={"public": "1"}, headers=anon)
        store, _ = await _store_page(gateway, "/api/v1/products/p1", b'{"price": "100.00"}')
        group_body = b'{"price": "80.00"}'
        await store.set(entry_key("http", b"testserver", "/api/v1/products/p1", b"", "group:business@default",
                                  b"default"),
                        Entry(await store.generations(["shop"]), ("shop",),
                              [(b"content-type", b"application/json"), (b"etag", etag_of(group_body)),
                               (b"cache-control", b"private, no-cache")], group_body).encode(), ttl=30)
        business = gateway.keys.group_headers("business")
        for _ in range(2):  # the second time through the lane (the token is known by then)
            seen = await gateway.client.get("/api/v1/products/p1", headers=business)
            assert (seen.headers.get("x-cache"), seen.content) == ("hit", group_body)
            assert seen.headers["cache-control"].startswith("private")
            for other in (anon, gateway.keys.user_headers(), {}):
                public = await gateway.client.get("/api/v1/products/p1", headers=other)
                assert public.content == b'{"price": "100.00"}'
        # Another group, and the same group of another storefront, are other audiences.
        for other_group in (gateway.keys.group_headers("vip"), gateway.keys.group_headers("business", storefront="b")):
            seen = await gateway.client.get("/api/v1/products/p1", headers=other_group)
            assert "x-cache" not in seen.headers and seen.json()["service"] == "catalog"

    async def test_each_storefront_has_its_own_entries(self, gateway) -> None:
        """Storefronts see different catalogs and prices: B's page is never served to the default."""
        add_storefront(gateway.app, make_storefront("b"))
        anon = gateway.keys.anon_headers()
        await gateway.client.get("/api/v1/products/x", params={"public": "1"}, headers=anon)
        await _store_page(gateway, "/api/v1/products/p1", b'{"price": "9.99", "currency": "EUR"}', b"b")
        on_b = await gateway.client.get("/api/v1/products/p1", headers={**anon, **on_storefront("b")})
        assert (on_b.headers.get("x-cache"), on_b.content) == ("hit", b'{"price": "9.99", "currency": "EUR"}')
        on_default = await gateway.client.get("/api/v1/products/p1", headers=anon)
        assert "x-cache" not in on_default.headers and on_default.json()["service"] == "catalog"

    async def test_two_languages_never_share_an_entry(self, gateway) -> None:
        """A storefront with two languages: each negotiated locale is its own entry (`?locale=`
        first, then `Accept-Language`, else the default), and the answer varies on `Accept-Language`."""
        add_storefront(gateway.app, make_storefront("m", locales=["en", "ka"], default_locale="en"))
        anon = {**gateway.keys.anon_headers(), **on_storefront("m")}
        await gateway.client.get("/api/v1/products/x", params={"public": "1"}, headers=anon)
        store = open_store(gateway.app.state.settings)
        assert store is not None
        path = "/api/v1/products/p1"
        for locale, body in (("ka", '{"name": "მელია"}'.encode()), ("en", b'{"name": "Fox"}')):
            headers = [(b"content-type", b"application/json"), (b"etag", etag_of(body)),
                       (b"cache-control", b"public, no-cache"), (b"content-language", locale.encode()),
                       (b"vary", b"Accept-Language")]
            entry = Entry(await store.generations(["shop"]), ("shop",), headers, body)
            await store.set(entry_key("http", b"testserver", path, b"", PUBLIC_AUDIENCE, b"m", locale), entry.encode(),
                            ttl=30)
        for accept, name in (("ka-GE, ka;q=0.9", "მელია"), ("en", "Fox"), ("fr", "Fox"), (None, "Fox"),
                             ("ka", "მელია")):
            seen = await gateway.client.get(path, headers={**anon, **({"Accept-Language": accept} if accept else {})})
            assert (seen.headers.get("x-cache"), seen.json()["name"]) == ("hit", name), accept
            assert "Accept-Language" in seen.headers["vary"]
        georgian = await gateway.client.get(path, params={"locale": "ka"}, headers={**anon, "Accept-Language": "en"})
        # `?locale=` is a key of its own (the query is in every key): the service answers it first.
        assert "x-cache" not in georgian.headers

    async def test_a_revoked_token_is_refused_before_the_cache(self, gateway) -> None:
        await gateway.client.get("/api/v1/products/x", params={"public": "1"})
        await _store_page(gateway, "/api/v1/products/p2", b"{}")
        token = gateway.keys.access_token()
        headers = {"Authorization": f"Bearer {token}"}
        assert (await gateway.client.get("/api/v1/products/p2", headers=headers)).headers.get("x-cache") == "hit"
        claims = jwt.decode(token, options={"verify_signature": False})
        gateway.app.state.gateway.auth.denylist.revoke_jti(claims["jti"], claims["exp"])
        refused = await gateway.client.get("/api/v1/products/p2", headers=headers)
        assert refused.status_code == 401 and "x-cache" not in refused.headers


class TestCacheControl:
    async def test_undeclared_answers_are_no_store_and_minting_ones_private(self, gateway) -> None:
        minted = await gateway.client.get("/api/v1/cart")
        assert "x-anonymous-token" in minted.headers
        assert minted.headers["cache-control"] == "private, no-cache"
        gateway.client.cookies.clear()  # a first visit again
        # A write that needs an owner mints: what it answers sets a cookie, whatever the service said.
        public_minted = await gateway.client.post("/api/v1/cart/items", params={"public": "1"})
        assert "x-anonymous-token" in public_minted.headers
        assert public_minted.headers["cache-control"] == "private, no-cache"  # it sets a cookie
        anon = gateway.keys.anon_headers()
        assert (await gateway.client.get("/api/v1/cart", headers=anon)).headers["cache-control"] == "no-store"
        public = await gateway.client.get("/api/v1/pricing", params={"public": "1"}, headers=anon)
        assert public.headers["cache-control"] == "public, no-cache"

    async def test_a_tokenless_public_read_stays_public(self, gateway) -> None:
        r = await gateway.client.get("/api/v1/pricing", params={"public": "1"})
        assert "x-anonymous-token" not in r.headers and "set-cookie" not in r.headers
        assert r.headers["cache-control"] == "public, no-cache"
        assert r.headers["vary"] == "Accept-Encoding, X-Atelier-Storefront, Origin"  # Origin: from CORS
        assert "x-anonymous-token" not in r.json()["headers"]  # the service gets no owner either

    async def test_a_storefront_chosen_by_the_referer_alone_is_private(self, gateway) -> None:
        """A shared cache keys on the `Vary` headers; a Referer is another value on every page."""
        add_storefront(gateway.app, make_storefront("b", origins=["https://b.example"]))
        by_referer = await gateway.client.get("/api/v1/pricing", params={"public": "1"},
                                              headers={"Referer": "https://b.example/shop"})
        assert by_referer.json()["headers"]["x-atelier-storefront"] == "b"
        assert by_referer.headers["cache-control"] == "private, no-cache"
        by_origin = await gateway.client.get("/api/v1/pricing", params={"public": "1"},
                                             headers={"Origin": "https://b.example"})
        assert by_origin.json()["headers"]["x-atelier-storefront"] == "b"
        assert by_origin.headers["cache-control"] == "public, no-cache"


class TestInProcessCopies:
    """With Redis, a hit is answered from the gateway's own copy through the hit lane (no Redis
    call, no CORS or routing layer), with the same answer the full path gives; a bump anywhere
    ends it; a request with an Origin, or a token never verified here, takes the full path."""

    @staticmethod
    def _same(a: httpx.Response, b: httpx.Response) -> bool:
        varying = {"date", "x-request-id"}
        return [(k, v) for k, v in a.headers.items() if k not in varying] == \
            [(k, v) for k, v in b.headers.items() if k not in varying] and a.content == b.content

    async def test_hits_from_the_lane_match_the_full_path_and_end_with_a_bump(self, start_gateway,
                                                                              redis_url: str) -> None:
        prefix = f"gw-{uuid.uuid4().hex[:8]}:"
        service = RedisStore(redis_url, prefix=prefix)
        # Copies trusted for the whole test: on a busy machine two requests may be seconds apart, and
        # a copy past its trust asks Redis again (the full path), which is not what this test is about.
        async with start_gateway(redis_url=redis_url, cache_prefix=prefix, redis_key_prefix=prefix,
                                 rate_limit_default="1000/minute", rate_limit_per_ip="1000/minute", cache_local_trust_seconds=600) as gateway:
            proxy = gateway.app.state.gateway.proxy
            # Tracing is set up once per process (`setup_tracing`), and an earlier test of this pytest
            # run may have done it; with tracing on every hit takes the full path, by design.
            proxy.tracing = False
            lane: list[object] = []
            send_hit = proxy.send_hit

            async def counted(hit: object, send: object) -> None:
                lane.append(hit)
                await send_hit(hit, send)

            proxy.send_hit = counted
            await poll_until(lambda: _true(proxy.feed.live), timeout=10)
            await gateway.client.get("/api/v1/products/x", params={"public": "1"})  # the prefix is learned
            await _stored_as_catalog(service, b'{"price": "9.99"}')

            first = await gateway.client.get("/api/v1/products/p1")  # from Redis: the copy is kept
            assert first.headers["x-cache"] == "hit" and not lane
            second = await gateway.client.get("/api/v1/products/p1")
            assert len(lane) == 1 and self._same(first, second)
            assert second.headers["vary"] == "Accept-Encoding, X-Atelier-Storefront, Origin"
            assert second.headers["x-request-id"] and "set-cookie" not in second.headers
            revalidated = await gateway.client.get("/api/v1/products/p1",
                                                   headers={"If-None-Match": first.headers["etag"]})
            assert revalidated.status_code == 304 and len(lane) == 2
            # The lane answers in front of the routing, as every answer does: nosniff.
            assert [r.headers.get_list("x-content-type-options") for r in (second, revalidated)] == [["nosniff"]] * 2

            # CORS answers an Origin: the full path (still a hit), with its headers.
            cors = await gateway.client.get("/api/v1/products/p1", headers={"Origin": "http://localhost:3000"})
            assert cors.headers["x-cache"] == "hit" and len(lane) == 2
            assert cors.headers["access-control-allow-origin"] == "http://localhost:3000"
            # A token this process never verified: the full path verifies it (then the lane may serve it).
            user = gateway.keys.user_headers()
            assert (await gateway.client.get("/api/v1/products/p1", headers=user)).headers["x-cache"] == "hit"
            assert len(lane) == 2
            assert (await gateway.client.get("/api/v1/products/p1", headers=user)).headers["x-cache"] == "hit"
            assert len(lane) == 3
            bad = await gateway.client.get("/api/v1/products/p1", headers={"Authorization": "Bearer nonsense"})
            assert bad.status_code == 401 and len(lane) == 3
            # A token the lane knows, then revoked: the lane asks the denylist too, and steps aside.
            claims = jwt.decode(user["Authorization"].split()[1], options={"verify_signature": False})
            revoked = TokenRevoked(user_id=uuid.UUID(claims["sub"]), jti=claims["jti"],
                                   expires_at=datetime.fromtimestamp(claims["exp"], UTC))
            await gateway.bus.publish([Envelope.wrap(revoked, producer="identity")])
            await gateway.bus.drain()
            refused = await gateway.client.get("/api/v1/products/p1", headers=user)
            assert refused.status_code == 401 and len(lane) == 3

            await service.bump(["shop"])  # another process commits
            changed = await poll_until(lambda: _served_by_service(gateway), timeout=10)
            assert changed.json()["service"] == "catalog"
        await service.client.delete([key async for key in service.client.scan_iter(match=f"{prefix}*")])
        await service.close()

    async def test_the_protocol_writes_the_lanes_hits_as_the_lane_answers_them(self, start_gateway, redis_url: str,
                                                                              monkeypatch) -> None:
        """The `hits` fast path: the lane's hits that need no I/O, written by the protocol
        (`EarlyHits`), byte for byte what the ASGI lane answers; everything else declined."""
        from atelier_common import fast
        from atelier_common.fast.protocol import early_answer

        monkeypatch.setattr(fast, "_on", frozenset(fast.NAMES))
        prefix = f"gw-{uuid.uuid4().hex[:8]}:"
        service = RedisStore(redis_url, prefix=prefix)
        async with start_gateway(redis_url=redis_url, cache_prefix=prefix, redis_key_prefix=prefix,
                                 rate_limit_default="1000/minute", rate_limit_per_ip="5/minute",
                                 cache_local_trust_seconds=600) as gateway:
            proxy = gateway.app.state.gateway.proxy
            proxy.tracing = False  # as in the test above
            early = early_answer()
            assert early is not None
            await poll_until(lambda: _true(proxy.feed.live), timeout=10)
            await gateway.client.get("/api/v1/products/x", params={"public": "1"})  # the prefix is learned
            body = await _stored_as_catalog(service, b'{"price": "9.99"}')
            await gateway.client.get("/api/v1/products/p1")  # from Redis: the copy is kept, the window opened
            by_lane = await gateway.client.get("/api/v1/products/p1")
            assert by_lane.headers["x-cache"] == "hit"

            def scope(path: str = "/api/v1/products/p1", *headers: tuple[bytes, bytes]) -> dict:
                return {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"",
                        "headers": [(b"host", b"testserver"), *headers], "scheme": "http",
                        "client": ("203.0.113.9", 5000), "server": ("127.0.0.1", 8000)}

            uvicorns = [(b"date", b"Thu, 26 Nov 2026 23:00:00 GMT"), (b"server", b"uvicorn")]
            written = early(scope(), uvicorns, True)
            assert written is not None
            head, _, content = written.partition(b"\r\n\r\n")
            status, *lines = head.split(b"\r\n")
            headers = [tuple(line.decode().split(": ", 1)) for line in lines]
            assert status == b"HTTP/1.1 200 OK" and content == body == by_lane.content
            assert headers[:2] == [("date", "Thu, 26 Nov 2026 23:00:00 GMT"), ("server", "uvicorn")]
            assert sorted(h for h in headers[2:] if h[0] != "x-request-id") == sorted(
                (k, v) for k, v in by_lane.headers.items() if k != "x-request-id")
            assert len([h for h in headers if h[0] == "x-request-id"]) == 1
            # An ETag the client has: 304, no body; a closing request closes.
            etag = by_lane.headers["etag"].encode()
            revalidated = early(scope("/api/v1/products/p1", (b"if-none-match", etag)), uvicorns, False)
            assert revalidated is not None and revalidated.startswith(b"HTTP/1.1 304 Not Modified\r\n")
            assert revalidated.endswith(b"connection: close\r\n\r\n")
            # Declined, for the stack to decide: an Origin (CORS), a token never verified here, a
            # storefront header it does not know, a path the stack rewrites or refuses, and a caller
            # at their limit (5 a minute: learning, the copy, the lane, and the two above).
            declined = [scope("/api/v1/products/p1", (b"origin", b"http://localhost:3000")),
                        scope("/api/v1/products/p1", (b"authorization", b"Bearer nonsense")),
                        scope("/api/v1/products/p1", (b"x-atelier-storefront", b"nowhere")),
                        scope("/api/v1/products/p1/"), scope("/api/v1/products/../cart"), scope()]
            assert [early(s, uvicorns, True) for s in declined] == [None] * len(declined)
            limited = await gateway.client.get("/api/v1/products/p1")
            assert limited.status_code == 429  # the stack counted it and refused it
        assert early_answer() is None  # the lifespan's end takes it away
        await service.client.delete([key async for key in service.client.scan_iter(match=f"{prefix}*")])
        await service.close()

    async def test_the_lane_counts_the_rate_limit(self, start_gateway, redis_url: str) -> None:
        prefix = f"gw-{uuid.uuid4().hex[:8]}:"
        service = RedisStore(redis_url, prefix=prefix)
        async with start_gateway(redis_url=redis_url, cache_prefix=prefix, redis_key_prefix=prefix,
                                 rate_limit_per_ip="5/minute") as gateway:
            await poll_until(lambda: _true(gateway.app.state.gateway.proxy.feed.live), timeout=10)
            await gateway.client.get("/api/v1/products/x", params={"public": "1"})
            entry = Entry(await service.generations(["shop"]), ("shop",), [(b"cache-control", b"public, no-cache")],
                          b"{}")
            await service.set(entry_key("http", b"testserver", "/api/v1/products/p1", b"", PUBLIC_AUDIENCE,
                                        b"default"), entry.encode(), ttl=30)
            statuses = [(await gateway.client.get("/api/v1/products/p1")).status_code for _ in range(6)]
            assert statuses == [200] * 4 + [429] * 2  # the first request (learning the prefix) counted too
            refused = await gateway.client.get("/api/v1/products/p1")
            assert refused.json()["error"]["code"] == "RATE_LIMITED" and refused.headers["retry-after"]
        await service.client.delete([key async for key in service.client.scan_iter(match=f"{prefix}*")])
        await service.close()


async def _stored_as_catalog(service: RedisStore, body: bytes) -> bytes:
    """A public answer of /api/v1/products/p1, stored as catalog stores it (another process)."""
    entry = Entry(await service.generations(["shop"]), ("shop",),
                  [(b"content-type", b"application/json"), (b"etag", etag_of(body)),
                   (b"cache-control", b"public, no-cache")], body)
    await service.set(entry_key("http", b"testserver", "/api/v1/products/p1", b"", PUBLIC_AUDIENCE, b"default"),
                      entry.encode(), ttl=30)
    return body


async def _true(value: bool) -> bool:
    return value


async def _served_by_service(gateway) -> httpx.Response | None:
    r = await gateway.client.get("/api/v1/products/p1")
    return r if "x-cache" not in r.headers else None
