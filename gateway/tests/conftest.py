from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from atelier_testing import TestKeys
from atelier_testing.gateway import Gateway, StartGateway, gateway_starter


@pytest.fixture
def start_gateway(test_keys: TestKeys, tmp_path: Path) -> StartGateway:
    """A gateway in front of echo services (or `upstream`); keyword arguments override its settings."""
    return gateway_starter(test_keys, tmp_path)


@pytest.fixture
async def gateway(start_gateway: StartGateway) -> AsyncIterator[Gateway]:
    async with start_gateway() as started:
        yield started
