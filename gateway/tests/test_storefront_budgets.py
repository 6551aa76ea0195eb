"""A storefront's own request budgets (`policies`, docs/limits.md): per anonymous caller (its
token, never its address) and per signed-in customer, under the install's ceilings; a caller with
no identity and staff meet the install's limits only. Counted across gateway processes in Redis,
in each process while Redis is out."""

from __future__ import annotations

import uuid

import httpx

from atelier_common.contracts.identity import StorefrontPolicies
from atelier_gateway.proxy import BUDGETED
from atelier_testing import assert_error
from atelier_testing.gateway import Gateway, StartGateway
from atelier_testing.storefronts import add_storefront, make_storefront, on_storefront


def budgeted(slug: str, anonymous: int | None = None, customer: int | None = None):
    return make_storefront(slug, policies=StorefrontPolicies(anonymous_requests_per_minute=anonymous,
                                                             customer_requests_per_minute=customer))


async def statuses(gateway: Gateway, count: int, headers: dict[str, str], path: str = "/api/v1/products") -> list[int]:
    return [(await gateway.client.get(path, headers=headers)).status_code for _ in range(count)]


def elsewhere(gateway: Gateway, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=gateway.app, client=(address, 5000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


class TestAnonymousBudget:
    async def test_each_anonymous_caller_has_its_own(self, gateway: Gateway) -> None:
        add_storefront(gateway.app, budgeted("b", anonymous=3))
        add_storefront(gateway.app, make_storefront("c"))
        first = {**gateway.keys.anon_headers(), **on_storefront("b")}
        assert await statuses(gateway, 4, first) == [200, 200, 200, 429]
        refused = await gateway.client.get("/api/v1/cart", headers=first)
        assert_error(refused, 429, "RATE_LIMITED")
        details = refused.json()["error"]["details"]
        assert details["limit"] == "anonymous_requests_per_minute" and details["storefront"] == "b"
        assert int(refused.headers["retry-after"]) >= 1 and details["retry_after"] >= 1
        # Another guest behind the same address, the same guest on another storefront: not refused.
        second = {**gateway.keys.anon_headers(), **on_storefront("b")}
        assert await statuses(gateway, 3, second) == [200] * 3
        assert await statuses(gateway, 3, {**first, **on_storefront("c")}) == [200] * 3
        assert await statuses(gateway, 3, gateway.keys.anon_headers()) == [200] * 3  # the default

    async def test_the_cookie_is_the_same_caller_and_a_minted_identity_a_new_one(self, gateway: Gateway) -> None:
        add_storefront(gateway.app, budgeted("b", anonymous=2))
        minted = await gateway.client.get("/api/v1/cart", headers=on_storefront("b"))
        assert minted.status_code == 200 and minted.headers["x-anonymous-token"]
        # The client keeps the cookie: the minting request was its first of two.
        assert await statuses(gateway, 2, on_storefront("b"), "/api/v1/cart") == [200, 429]
        gateway.client.cookies.clear()
        assert (await gateway.client.get("/api/v1/cart", headers=on_storefront("b"))).status_code == 200

    async def test_a_caller_without_any_identity_meets_the_address_ceiling_only(self, gateway: Gateway) -> None:
        """Public reads mint nothing: such callers cannot be told apart, and the address is shared."""
        add_storefront(gateway.app, budgeted("b", anonymous=1))
        assert await statuses(gateway, 30, on_storefront("b")) == [200] * 30
        refused = await gateway.client.get("/api/v1/products", headers=on_storefront("b"))
        assert_error(refused, 429, "RATE_LIMITED")
        assert refused.json()["error"]["details"]["limit"] == "rate_limit_per_ip"  # 30/minute in these tests

    async def test_the_address_ceiling_stays_above(self, start_gateway: StartGateway) -> None:
        async with start_gateway(rate_limit_per_ip="4/minute") as gateway:
            add_storefront(gateway.app, budgeted("b", anonymous=100))
            callers = [{**gateway.keys.anon_headers(), **on_storefront("b")} for _ in range(5)]
            results = [(await gateway.client.get("/api/v1/products", headers=h)) for h in callers]
            assert [r.status_code for r in results] == [200] * 4 + [429]
            assert results[4].json()["error"]["details"]["limit"] == "rate_limit_per_ip"
            async with elsewhere(gateway, "198.51.100.7") as other:
                r = await other.get("/api/v1/products", headers=callers[4])
                assert r.status_code == 200


class TestCustomerBudget:
    async def test_each_customer_has_their_own_and_staff_none(self, gateway: Gateway) -> None:
        add_storefront(gateway.app, budgeted("b", customer=2))
        ada = {"Authorization": f"Bearer {gateway.keys.access_token(uuid.uuid4())}", **on_storefront("b")}
        assert await statuses(gateway, 3, ada) == [200, 200, 429]
        refused = await gateway.client.get("/api/v1/products", headers=ada)
        assert refused.json()["error"]["details"]["limit"] == "customer_requests_per_minute"
        grace = {"Authorization": f"Bearer {gateway.keys.access_token(uuid.uuid4())}", **on_storefront("b")}
        assert await statuses(gateway, 2, grace) == [200, 200]
        staff = {**gateway.keys.staff_headers(), **on_storefront("b")}
        assert await statuses(gateway, 5, staff) == [200] * 5
        # The anonymous budget is another: none here.
        assert await statuses(gateway, 5, {**gateway.keys.anon_headers(), **on_storefront("b")}) == [200] * 5

    async def test_the_install_limit_per_user_is_named(self, start_gateway: StartGateway) -> None:
        async with start_gateway(rate_limit_default="2/minute") as gateway:
            add_storefront(gateway.app, budgeted("b", customer=10))
            ada = {"Authorization": f"Bearer {gateway.keys.access_token()}", **on_storefront("b")}
            assert await statuses(gateway, 3, ada) == [200, 200, 429]
            refused = await gateway.client.get("/api/v1/products", headers=ada)
            assert refused.json()["error"]["details"]["limit"] == "rate_limit_default"


class TestScale:
    async def test_the_install_scales_or_switches_off_the_budgets(self, start_gateway: StartGateway) -> None:
        async with start_gateway(storefront_budget_scale=2) as gateway:
            add_storefront(gateway.app, budgeted("b", anonymous=2))
            assert await statuses(gateway, 5, {**gateway.keys.anon_headers(), **on_storefront("b")}) == \
                [200] * 4 + [429]
        async with start_gateway(storefront_budget_scale=0) as gateway:
            add_storefront(gateway.app, budgeted("b", anonymous=1))
            assert await statuses(gateway, 5, {**gateway.keys.anon_headers(), **on_storefront("b")}) == [200] * 5


async def test_a_seed_request_costs_one_request_however_many_native_calls(gateway: Gateway) -> None:
    """A compatibility profile's native calls share the seed request's scope (`BUDGETED`)."""
    add_storefront(gateway.app, budgeted("b", anonymous=2))
    anon = gateway.keys.anon_token().encode()

    async def native_call(seed_scope: dict) -> int:
        sent: list[dict] = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        scope = {**seed_scope, "type": "http", "method": "GET", "path": "/api/v1/products",
                 "raw_path": b"/api/v1/products", "query_string": b"",
                 "headers": [(b"host", b"testserver"), (b"x-anonymous-token", anon), (b"x-atelier-storefront", b"b")],
                 "scheme": "http", "client": ("203.0.113.9", 5000), "app": gateway.app}
        await gateway.app.state.gateway.proxy("catalog", scope, receive, send)
        return next(m["status"] for m in sent if m["type"] == "http.response.start")

    for _ in range(2):
        seed: dict = {BUDGETED: set()}
        assert [await native_call(seed) for _ in range(3)] == [200] * 3
    sent_alone = await native_call({})
    assert sent_alone == 429


async def test_cache_hits_count_against_the_budget(gateway: Gateway) -> None:
    from atelier_common.cache import PUBLIC_AUDIENCE, Entry, entry_key, etag_of, open_store

    add_storefront(gateway.app, budgeted("b", anonymous=3))
    anon = {**gateway.keys.anon_headers(), **on_storefront("b")}
    store = open_store(gateway.app.state.settings)
    assert store is not None
    body = b'{"price": "9.99"}'
    entry = Entry(await store.generations(["shop"]), ("shop",),
                  [(b"content-type", b"application/json"), (b"etag", etag_of(body)),
                   (b"cache-control", b"public, no-cache")], body)
    await store.set(entry_key("http", b"testserver", "/api/v1/products/p1", b"", PUBLIC_AUDIENCE, b"b"),
                    entry.encode(), ttl=30)
    learned = await gateway.client.get("/api/v1/products/x", params={"public": "1"}, headers=anon)
    assert learned.status_code == 200
    hits = [await gateway.client.get("/api/v1/products/p1", headers=anon) for _ in range(3)]
    assert [r.status_code for r in hits] == [200, 200, 429]
    assert hits[0].headers["x-cache"] == "hit"
    other = await gateway.client.get("/api/v1/products/p1", headers={**gateway.keys.anon_headers(),
                                                                     **on_storefront("b")})
    assert other.status_code == 200 and other.headers["x-cache"] == "hit"


class TestAcrossProcesses:
    async def test_two_gateways_share_the_count_in_redis(self, start_gateway: StartGateway, redis_url: str) -> None:
        prefix = f"gw-{uuid.uuid4().hex[:8]}:"
        async with start_gateway(redis_url=redis_url, redis_key_prefix=prefix) as one, \
                start_gateway(redis_url=redis_url, redis_key_prefix=prefix) as two:
            anon = {**one.keys.anon_headers(), **on_storefront("b")}
            for gateway in (one, two):
                add_storefront(gateway.app, budgeted("b", anonymous=4))
            seen = []
            for n in range(6):
                seen.append((await (one if n % 2 else two).client.get("/api/v1/products", headers=anon)).status_code)
            assert seen == [200] * 4 + [429] * 2
            await one.app.state.gateway.proxy.budget_limiter.reset()

    async def test_without_redis_each_process_counts_alone(self, start_gateway: StartGateway) -> None:
        async with start_gateway(redis_url="redis://127.0.0.1:1/0") as gateway:
            add_storefront(gateway.app, budgeted("b", anonymous=2))
            anon = {**gateway.keys.anon_headers(), **on_storefront("b")}
            assert await statuses(gateway, 3, anon) == [200, 200, 429]
