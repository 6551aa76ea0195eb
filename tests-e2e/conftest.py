"""Black-box tests through the gateway, in the embedded and the distributed mode.

Each mode is started once per session as a child process, exactly as `atelier dev` / `atelier up`.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from infra.platform import Platform, distributed, embedded  # noqa: E402


@pytest.fixture(scope="session")
def embedded_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with embedded(tmp_path_factory.mktemp("e2e")) as platform:
        yield platform


@pytest.fixture(scope="session")
def distributed_platform(tmp_path_factory: pytest.TempPathFactory, postgres_server_url: str,
                         amqp_url: str) -> Iterator[Platform]:
    with distributed(tmp_path_factory.mktemp("e2e"), postgres_server_url, amqp_url) as platform:
        yield platform


@pytest.fixture(params=["embedded", "distributed"])
def platform(request: pytest.FixtureRequest) -> Platform:
    return request.getfixturevalue(f"{request.param}_platform")


@pytest.fixture
async def api(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform.url, timeout=30) as client:
        yield client
