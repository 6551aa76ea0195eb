"""Identity's journeys: each test is its own visitor (its own client address) and sees the fake provider."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from infra.identity_steps import visitor_client
from infra.oidc import software_authenticator

from atelier_testing.platform import Platform


@pytest.fixture
async def api(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway, as in every e2e test, but from a loopback address of this test's own: the platform
    limits credential attempts per client address (100/minute), and these journeys are many people."""
    async with visitor_client(platform.url) as client:
        yield client


@pytest.fixture
def oidc(oidc_provider: Any) -> Any:
    """The fake OpenID provider the platform signs in with as `google` (add people with `add_user`)."""
    return oidc_provider


@pytest.fixture
def new_authenticator() -> Any:
    """`new_authenticator()`: a software passkey authenticator with keys of its own."""
    return software_authenticator
