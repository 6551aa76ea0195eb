"""Each storefront's own request budgets (`policies`, docs/limits.md), through the gateway in both
modes: counted per anonymous caller — its guest token, wherever it comes from — and per
signed-in customer, never per address, so the other people behind one address go on; a storefront
without a budget meets only the install's limits. The distributed mode runs two gateway processes
counting in one Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
import pytest
from infra.identity_steps import bearer, error_code, signed_in_customer
from infra.journeys import staff

from atelier_testing.platform import GATEWAY_WORKERS, Platform, distributed, embedded

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.modes("embedded", "distributed", why="limits counted in the process (embedded) or shared in Redis (distributed)"),
]

BUDGET = 5
OTHER_ADDRESS = "127.0.0.2"


@pytest.fixture(scope="module")
def budgeted(request: pytest.FixtureRequest, mode: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A platform counting the storefronts' budgets as a deployment does (the suite scales them up),
    alive for this module only; the distributed one's gateways share their counts in Redis."""
    tmp = tmp_path_factory.mktemp("storefront-budgets")
    env = {"ATELIER_GATEWAY_STOREFRONT_BUDGET_SCALE": "1"}
    if mode == "embedded":
        with embedded(tmp, env) as platform:
            yield platform
    else:
        env["ATELIER_REDIS_URL"] = request.getfixturevalue("redis_url")
        with distributed(tmp, request.getfixturevalue("postgres_server_url"), request.getfixturevalue("amqp_url"),
                         env, split=False) as platform:
            yield platform


@pytest.fixture
async def api(budgeted: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=budgeted.url, timeout=60) as client:
        yield client


def visitor(base_url: str, address: str = "127.0.0.1") -> httpx.AsyncClient:
    """A new browser (its own cookie jar) at `address`."""
    return httpx.AsyncClient(base_url=base_url, timeout=60, transport=httpx.AsyncHTTPTransport(local_address=address))


async def two_storefronts(api: httpx.AsyncClient) -> tuple[str, str]:
    """`tight` with budgets of BUDGET a minute per guest and per customer, `loose` without any."""
    suffix = uuid.uuid4().hex[:8]
    tight, loose = f"tight-{suffix}", f"loose-{suffix}"
    headers = await staff(api)
    for slug, policies in ((tight, {"anonymous_requests_per_minute": BUDGET, "customer_requests_per_minute": BUDGET}),
                           (loose, {})):
        r = await api.post("/api/v1/storefronts", headers=headers, json={
            "slug": slug, "name": f"Store {slug}", "frontend_url": f"https://{slug}.example", "policies": policies})
        assert r.status_code == 201, r.text
        assert r.json()["policies"]["anonymous_requests_per_minute"] == policies.get("anonymous_requests_per_minute")
    return tight, loose


def on(slug: str) -> dict[str, str]:
    return {"X-Atelier-Storefront": slug}


def assert_budget_refused(r: httpx.Response, limit: str, storefront: str) -> None:
    assert r.status_code == 429 and error_code(r) == "RATE_LIMITED", r.text
    details = r.json()["error"]["details"]
    assert (details["limit"], details["storefront"]) == (limit, storefront)
    assert int(r.headers["retry-after"]) >= 1


async def test_each_guest_has_the_storefronts_budget_not_the_address(budgeted: Platform,
                                                                     api: httpx.AsyncClient) -> None:
    tight, loose = await two_storefronts(api)
    async with visitor(budgeted.url) as guest:
        # The first request that needs an owner makes the guest (its cookie); each request counts.
        statuses = [(await guest.get("/api/v1/cart", headers=on(tight))).status_code for _ in range(BUDGET)]
        assert statuses == [200] * BUDGET
        assert "anon_token" in guest.cookies
        refused = await guest.get("/api/v1/products", headers=on(tight))
        assert_budget_refused(refused, "anonymous_requests_per_minute", tight)
        token = guest.cookies["anon_token"]
        # Where it has no budget the same guest goes on.
        assert {(await guest.get("/api/v1/cart", headers=on(loose))).status_code for _ in range(BUDGET * 2)} == {200}

    # The budget is the guest's, wherever it calls from.
    async with visitor(budgeted.url, OTHER_ADDRESS) as moved:
        r = await moved.get("/api/v1/cart", headers={**on(tight), "X-Anonymous-Token": token})
        assert_budget_refused(r, "anonymous_requests_per_minute", tight)

    # Other guests behind the same address, and behind another, are not refused for it.
    for address in ("127.0.0.1", OTHER_ADDRESS):
        async with visitor(budgeted.url, address) as other:
            statuses = [(await other.get("/api/v1/cart", headers=on(tight))).status_code for _ in range(BUDGET)]
            assert statuses == [200] * BUDGET, address
            assert (await other.get("/api/v1/cart", headers=on(tight))).status_code == 429

    # A reader with no identity at all (public reads mint none) meets the address's ceiling only.
    async with visitor(budgeted.url) as reader:
        statuses = [(await reader.get("/api/v1/products", headers=on(tight))).status_code for _ in range(BUDGET * 3)]
        assert statuses == [200] * BUDGET * 3
        assert "anon_token" not in reader.cookies


async def test_each_customer_has_the_storefronts_budget(budgeted: Platform, api: httpx.AsyncClient) -> None:
    tight, loose = await two_storefronts(api)
    ada, grace = await signed_in_customer(api), await signed_in_customer(api)
    async with visitor(budgeted.url) as browser:
        statuses = [(await browser.get("/api/v1/users/me", headers={**bearer(ada["access"]), **on(tight)})).status_code
                    for _ in range(BUDGET)]
        assert statuses == [200] * BUDGET
        refused = await browser.get("/api/v1/users/me", headers={**bearer(ada["access"]), **on(tight)})
        assert_budget_refused(refused, "customer_requests_per_minute", tight)
        mine = {(await browser.get("/api/v1/users/me", headers={**bearer(ada["access"]), **on(loose)})).status_code
                for _ in range(BUDGET * 2)}
        assert mine == {200}
    # Another customer at the same address, and one elsewhere, go on; Ada elsewhere does not.
    for address in ("127.0.0.1", OTHER_ADDRESS):
        async with visitor(budgeted.url, address) as browser:
            r = await browser.get("/api/v1/users/me", headers={**bearer(grace["access"]), **on(tight)})
            assert r.status_code == 200, (address, r.text)
    async with visitor(budgeted.url, OTHER_ADDRESS) as browser:
        r = await browser.get("/api/v1/users/me", headers={**bearer(ada["access"]), **on(tight)})
        assert_budget_refused(r, "customer_requests_per_minute", tight)


@asynccontextmanager
async def one_per_worker(platform: Platform) -> AsyncIterator[list[httpx.AsyncClient]]:
    """A client pinned to each gateway process (one kept-alive connection each, told apart by the
    pid its process answers on `/health`): every one in the distributed mode, the one embedded."""
    count = GATEWAY_WORKERS if platform.mode == "distributed" else 1
    async with AsyncExitStack() as stack:
        pinned: dict[int, httpx.AsyncClient] = {}
        for _ in range(60 * count):
            if len(pinned) == count:
                break
            client = await stack.enter_async_context(
                httpx.AsyncClient(base_url=platform.url, timeout=60, limits=httpx.Limits(max_connections=1)))
            pinned.setdefault((await client.get("/health")).json()["pid"], client)
        assert len(pinned) == count, f"connections reached only workers {sorted(pinned)}"
        yield list(pinned.values())


async def test_the_budgets_hold_across_the_gateway_processes(budgeted: Platform, api: httpx.AsyncClient) -> None:
    tight, _ = await two_storefronts(api)
    ada = await signed_in_customer(api)
    guest = {**on(tight), "X-Anonymous-Token": (await api.get("/api/v1/cart", headers=on(tight))).headers[
        "x-anonymous-token"]}  # its first request
    customer = {**on(tight), **bearer(ada["access"])}
    async with one_per_worker(budgeted) as workers:
        for headers, used, limit in ((guest, 1, "anonymous_requests_per_minute"),
                                     (customer, 0, "customer_requests_per_minute")):
            statuses = [(await workers[n % len(workers)].get("/api/v1/cart", headers=headers)).status_code
                        for n in range(BUDGET - used)]
            assert statuses == [200] * (BUDGET - used)
            for worker in workers:
                assert_budget_refused(await worker.get("/api/v1/cart", headers=headers), limit, tight)


async def test_the_demo_shop_has_s3s_budget(budgeted: Platform) -> None:
    """The seeded `shop` storefront (S3): 20 requests a minute per guest."""
    async with visitor(budgeted.url) as guest:
        statuses = [(await guest.get("/api/v1/cart", headers=on("shop"))).status_code for _ in range(21)]
        assert statuses == [200] * 20 + [429]
        r = await guest.get("/api/v1/cart", headers=on("shop"))
        assert_budget_refused(r, "anonymous_requests_per_minute", "shop")
