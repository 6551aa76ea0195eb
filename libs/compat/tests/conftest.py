"""A gateway in front of echo services, with the profiles its settings name mounted as the platform does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from atelier_compat import mount
from atelier_testing import TestKeys
from atelier_testing.gateway import Gateway, StartGateway, gateway_starter


@pytest.fixture
def start_gateway(test_keys: TestKeys, tmp_path: Path) -> StartGateway:
    """A gateway in front of echo services (or `upstream`); keyword arguments override its settings,
    and the compatibility mount is built from them (`atelier_compat.mount`, as `atelier_platform` does)."""
    return gateway_starter(test_keys, tmp_path, compat=mount)


@pytest.fixture
async def gateway(start_gateway: StartGateway) -> AsyncIterator[Gateway]:
    async with start_gateway() as started:
        yield started
