"""Schemathesis over the merged OpenAPI document, every phase (examples, coverage, fuzzing,
stateful), as a signed-in customer on the embedded platform: no input may produce a 5xx.

Time-bounded by `ATELIER_SCHEMATHESIS_EXAMPLES` test cases per operation (default 8) and a deadline.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from infra.journeys import customer
from infra.oidc import identity_env
from infra.platform import Platform, embedded

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def unlimited_platform(tmp_path_factory: pytest.TempPathFactory, oidc_provider: Any) -> Iterator[Platform]:
    """An embedded platform of its own, without the gateway's rate limits (which would answer most
    generated requests 429 before they reach a service)."""
    env = {**identity_env(oidc_provider), "ATELIER_GATEWAY_RATE_LIMITS_ENABLED": "false"}
    with embedded(tmp_path_factory.mktemp("schemathesis"), env) as platform:
        yield platform


async def test_no_input_makes_a_server_error(unlimited_platform: Platform, tmp_path: Path) -> None:
    async with httpx.AsyncClient(base_url=unlimited_platform.url, timeout=30) as api:
        auth = await customer(api)
    examples = os.environ.get("ATELIER_SCHEMATHESIS_EXAMPLES", "8")
    command = [sys.executable, "-m", "schemathesis.cli", "run", f"{unlimited_platform.url}/api/schema",
               "--checks", "not_a_server_error", "--phases", "examples,coverage,fuzzing,stateful",
               "--max-examples", examples, "--seed", "20261122", "--workers", "2", "--request-timeout", "30",
               "-H", f"Authorization: {auth['Authorization']}", "--suppress-health-check", "all",
               "--report", "junit", "--report-dir", str(tmp_path)]
    # In a thread: the event loop stays free while schemathesis runs (ruff ASYNC221).
    run = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=900, check=False)
    tail = "\n".join((run.stdout + run.stderr).splitlines()[-60:])
    assert run.returncode == 0, f"schemathesis found server errors:\n{tail}"
    # Most cases reached the services (not stopped by a rate limit at the gateway).
    assert "Rate limited" not in run.stdout, tail
