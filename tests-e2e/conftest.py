"""Black-box tests through the gateway, in the embedded and the distributed mode.

Each mode is started once per session as a child process, exactly as `atelier dev` / `atelier up`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from infra.cdn import FakeCdn, served_cdn
from infra.oidc import identity_env, served_provider
from infra.stripe import served_stripe
from infra.stripe import stripe_platform as stripe_platform_of

from atelier_testing.platform import Platform, distributed, embedded
from atelier_testing.plugin import end_session_fixture, no_later_test_needs, starts_a_distributed_platform


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[Any]:
    """The local fake OpenID provider identity signs in with as `google` (started before the platform)."""
    with served_provider() as provider:
        yield provider


@pytest.fixture(scope="session")
def cdn() -> Iterator[FakeCdn]:
    """The fake CDN both platforms purge (tests-e2e/catalog/test_public_reads.py reads it)."""
    with served_cdn() as fake:
        yield fake


@pytest.fixture(scope="session")
def embedded_platform(tmp_path_factory: pytest.TempPathFactory, oidc_provider: Any, cdn: FakeCdn) -> Iterator[Platform]:
    with embedded(tmp_path_factory.mktemp("e2e"), {**identity_env(oidc_provider), **cdn.env()}) as platform:
        yield platform


@pytest.fixture(scope="session")
def distributed_platform(tmp_path_factory: pytest.TempPathFactory, postgres_server_url: str,
                         amqp_url: str, oidc_provider: Any, cdn: FakeCdn) -> Iterator[Platform]:
    with distributed(tmp_path_factory.mktemp("e2e"), postgres_server_url, amqp_url,
                     {**identity_env(oidc_provider), **cdn.env()}) as platform:
        yield platform


# The session's platforms, each with what a test needing it looks like: ended once no later test on
# this process needs it, not at the end of the run (an idle distributed platform costs ~0.04 of a
# core, an idle `atelier dev` ~0.013, for the rest of the run).
SESSION_PLATFORMS = {"embedded_platform": lambda item: "tests-e2e" in item.path.parts,
                     "distributed_platform": starts_a_distributed_platform}


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    for name, needs in SESSION_PLATFORMS.items():
        if no_later_test_needs(item, nextitem, needs):
            end_session_fixture(item, name)


@pytest.fixture
def platform(request: pytest.FixtureRequest, mode: str) -> Platform:
    """The session's platform of the test's mode (`atelier_testing.plugin`'s `modes` marker)."""
    return request.getfixturevalue(f"{mode}_platform")


@pytest.fixture
async def api(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def stripe_server() -> Iterator[Any]:
    """The fake Stripe server (`atelier_testing.fakes.stripe`) the `stripe_platform`s pay through."""
    with served_stripe() as server:
        yield server


@pytest.fixture(scope="module")
def stripe_platform(request: pytest.FixtureRequest, mode: str, stripe_server: Any, oidc_provider: Any) -> Iterator[Platform]:
    """A platform whose payments use the `stripe` provider, per mode, for the module that pays
    through Stripe: alive only while it runs (PostgreSQL's max_connections holds two platforms)."""
    with stripe_platform_of(request, mode, "stripe", stripe_server, oidc_provider) as platform:
        yield platform
