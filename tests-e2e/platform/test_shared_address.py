"""Many people behind one address (an office, a school, a carrier's NAT), with the rate limits a
deployment gets: browsing through a product's profile, signing in, refreshing and resetting a
password are never refused, while a script minting identities there gets no more than the
documented free allowance (docs/limits.md)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from infra.identity_steps import error_code, visitor_client
from infra.journeys import PASSWORD, register_verified
from limits import parse

from atelier_common.tls import client_tls
from atelier_generation.settings import GenerationSettings
from atelier_testing.platform import Platform, distributed, embedded

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.modes("embedded", "distributed", why="limits counted in the process (embedded) or shared in Redis (distributed)"),
    pytest.mark.long_tail(why="load: a crowd behind one address"),
]

# One address for the whole crowd; `loopback_address()` never hands out 127.0.255.x.
SHARED = "127.0.255.7"
MARBELLE = "/compat/marbelle/api/v1"


@pytest.fixture(scope="module")
def deployed(request: pytest.FixtureRequest, mode: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A platform with a deployment's rate limits, not the suite's, alive for this module only."""
    tmp = tmp_path_factory.mktemp("deployed-limits")
    if mode == "embedded":
        with embedded(tmp, deployed_limits=True) as platform:
            yield platform
    else:
        with distributed(tmp, request.getfixturevalue("postgres_server_url"), request.getfixturevalue("amqp_url"),
                         split=False, deployed_limits=True) as platform:
            yield platform


def behind_the_shared_address(base_url: str) -> httpx.AsyncClient:
    """A new browser without a cookie jar's history, from the shared address (with the process's
    one TLS context: building one costs ~30 ms of CPU, and the crowd is ~550 clients)."""
    return httpx.AsyncClient(base_url=base_url, timeout=60,
                             transport=httpx.AsyncHTTPTransport(local_address=SHARED, verify=client_tls()))


async def test_a_crowd_behind_one_address_is_never_refused(deployed: Platform) -> None:
    # Fifty of them have accounts, made beforehand wherever they were.
    emails: list[str] = []
    for _ in range(5):
        async def register() -> None:
            async with visitor_client(deployed.url) as elsewhere:
                emails.append((await register_verified(elsewhere))["email"])
        await asyncio.gather(*(register() for _ in range(10)))

    statuses: Counter[int] = Counter()
    minted = 0
    gate = asyncio.Semaphore(16)

    async def browse() -> None:
        nonlocal minted
        async with gate, behind_the_shared_address(deployed.url + MARBELLE) as browser:
            for path in ("/products/", "/categories/", "/products/?page=2"):
                r = await browser.get(path)
                statuses[r.status_code] += 1
                minted += "x-session-id" in r.headers or "set-cookie" in r.headers

    async def sign_in(email: str, reset: bool) -> None:
        async with gate, behind_the_shared_address(deployed.url + MARBELLE) as browser:
            r = await browser.post("/auth/login/", json={"email": email, "password": PASSWORD})
            statuses[r.status_code] += 1
            if r.status_code == 200:
                refreshed = await browser.post("/auth/refresh-token/", json={"refresh": r.json()["data"]["refresh"]})
                statuses[refreshed.status_code] += 1
            if reset:
                statuses[(await browser.post("/auth/password-reset/", json={"email": email})).status_code] += 1

    await asyncio.gather(*(browse() for _ in range(500)),
                         *(sign_in(email, reset=n < 5) for n, email in enumerate(emails)))
    assert statuses == Counter({200: 500 * 3 + 50 * 2 + 5}), statuses
    # Reading the catalog made nobody an owner: nothing minted, no cookie.
    assert minted == 0


async def test_a_script_minting_identities_gets_the_documented_free_allowance(deployed: Platform) -> None:
    allowance = parse(GenerationSettings.model_fields["anonymous_free_jobs_per_ip"].default).amount
    started, refused = 0, None
    async with behind_the_shared_address(deployed.url) as script:
        for _ in range(allowance):  # two free illustrations a book: the loop ends past the allowance
            script.cookies.clear()
            created = await script.post("/api/v1/books", json={"title": "Free again"})
            assert created.status_code == 201, created.text  # a fresh identity always gets its book
            owner = {"X-Anonymous-Token": created.headers["x-anonymous-token"]}
            book = f"/api/v1/books/{created.json()['id']}"
            for path, body in ((f"{book}/characters", {"name": "Luna"}), (f"{book}/cover/versions", None)):
                r = await script.post(path, json=body, headers=owner)
                if r.status_code == 429:
                    refused = r
                    break
                assert r.status_code == 201, r.text
                started += 1
            if refused is not None:
                break
    assert started == allowance
    assert refused is not None and error_code(refused) == "RATE_LIMITED"
    assert refused.json()["error"]["details"]["limit"] == "anonymous_free_jobs"
    assert int(refused.headers["retry-after"]) >= 1
    # A visitor behind another address is not refused for it.
    async with visitor_client(deployed.url) as elsewhere:
        created = await elsewhere.post("/api/v1/books", json={"title": "Mine"})
        assert created.status_code == 201, created.text
        r = await elsewhere.post(f"/api/v1/books/{created.json()['id']}/characters", json={"name": "Max"})
        assert r.status_code == 201, r.text
