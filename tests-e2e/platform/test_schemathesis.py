"""Schemathesis over the merged OpenAPI document, every phase (examples, coverage, fuzzing,
stateful), as a signed-in customer on the embedded platform: no input may produce a 5xx.

Time-bounded by `ATELIER_SCHEMATHESIS_EXAMPLES` test cases per operation (default 8) and a deadline.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from infra.journeys import customer, staff
from infra.oidc import identity_env

from atelier_testing.platform import Platform, embedded

pytestmark = [pytest.mark.e2e, pytest.mark.long_tail(why="fuzzing: every operation of the merged document, minutes")]


@pytest.fixture(scope="module")
def unlimited_platform(tmp_path_factory: pytest.TempPathFactory, oidc_provider: Any) -> Iterator[Platform]:
    """An embedded platform of its own, without the gateway's rate limits (which would answer most
    generated requests 429 before they reach a service)."""
    env = {**identity_env(oidc_provider), "ATELIER_GATEWAY_RATE_LIMITS_ENABLED": "false"}
    with embedded(tmp_path_factory.mktemp("schemathesis"), env) as platform:
        yield platform


# Operations that can end the caller's session or account: fuzzed on their own, with a customer of
# their own, so that the rest of the run keeps a valid token (before, one of them revoked it early and
# 149 of 152 operations only ever answered 401 or 403).
SESSION_ENDING = ["DELETE /api/v1/users/me", "POST /api/v1/auth/logout"]
# What a new customer is refused whatever it sends: staff's catalogue (its export and low-stock list
# included), order-status, refund and back-office operations (403), a generation job without credits
# (403 `INSUFFICIENT_CREDITS`), a login with generated credentials (401), a refresh with the
# documented example's token or a generated one (401: not this customer's). Any other operation answering only 401/403 means the token was lost.
REFUSED_TO_A_NEW_CUSTOMER = re.compile(
    r"(POST|PUT|PATCH|DELETE) /api/v1/(categories|products)(/.*)?"
    r"|POST /api/v1/orders/\{order_id\}/status|POST /api/v1/payments/refunds"
    r"|POST /api/v1/generation/jobs|POST /api/v1/auth/(login|refresh)"
    r"|GET /api/v1/products/(export\.csv|low-stock)"
    r"|GET /api/v1/(categories|products)/.*translations.*"
    r"|(GET|POST|PATCH|DELETE) /api/v1/storefronts(/\{slug\})?"
    r"|(GET|POST|PATCH|DELETE) /api/v1/staff/.*"
    r"|(GET|POST|PATCH|DELETE) /api/v1/webhook-(endpoints|deliveries)(/.*)?")


async def test_no_input_makes_a_server_error(unlimited_platform: Platform, tmp_path: Path) -> None:
    async with httpx.AsyncClient(base_url=unlimited_platform.url, timeout=30) as api:
        # Fetched here, not by schemathesis, whose schema request gives up after 10 s: the gateway
        # merges every service's document on the first request, which on a busy machine takes longer.
        schema = await api.get("/api/schema", timeout=180)
        assert schema.status_code == 200, schema.text
        schema_file = tmp_path / "openapi.json"
        schema_file.write_bytes(schema.content)

        everything_else = await _schemathesis(unlimited_platform, schema_file, await customer(api), tmp_path,
                                              *(arg for name in SESSION_ENDING for arg in ("--exclude-name", name)))
        # The customer's token held: the cases reached the services' rules, not only the auth check.
        lost = [op for op in _only_refused(everything_else) if not REFUSED_TO_A_NEW_CUSTOMER.fullmatch(op)]
        assert not lost, f"answered only 401/403: {lost}"
        await _schemathesis(unlimited_platform, schema_file, await customer(api), tmp_path,
                            *(arg for name in SESSION_ENDING for arg in ("--include-name", name)))
        # The storefronts' staff API, as staff: its validation meets every input (last: what it
        # creates, a new default storefront included, must not change the runs above). One worker in
        # every run: with two threads, schemathesis's own generation crashed (CPython 3.11's
        # `ast.parse` SystemError; a KeyError in Hypothesis's source cache), never the platform.
        await _schemathesis(unlimited_platform, schema_file, await staff(api), tmp_path,
                            "--include-path-regex", "^/api/v1/storefronts")


async def _schemathesis(platform: Platform, schema_file: Path, auth: dict[str, str], report_dir: Path,
                        *filters: str, workers: int = 1) -> str:
    """Run schemathesis over `filters`' operations; fails the test on a 5xx. Returns its whole output."""
    examples = os.environ.get("ATELIER_SCHEMATHESIS_EXAMPLES", "8")
    command = [sys.executable, "-m", "schemathesis.cli", "run", str(schema_file), "--url", platform.url,
               "--checks", "not_a_server_error", "--phases", "examples,coverage,fuzzing,stateful",
               "--max-examples", examples, "--seed", "20261122", "--workers", str(workers), "--request-timeout", "30",
               "-H", f"Authorization: {auth['Authorization']}", "--suppress-health-check", "all",
               "--report", "junit", "--report-dir", str(report_dir), *filters]
    run = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=900, check=False)
    output = run.stdout + run.stderr
    tail = "\n".join(output.splitlines()[-60:])
    assert run.returncode == 0, f"schemathesis found server errors:\n{tail}"
    # Most cases reached the services (not stopped by a rate limit at the gateway).
    assert "Rate limited" not in run.stdout, tail
    return output


def _only_refused(output: str) -> list[str]:
    """The operations that answered nothing but 401 or 403, as schemathesis's warning lists them."""
    section = output.partition("Authentication failed:")[2].partition("💡")[0]
    return [line.strip()[2:] for line in section.splitlines() if line.strip().startswith("- ")]
