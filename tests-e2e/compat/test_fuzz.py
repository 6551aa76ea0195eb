"""Schemathesis over each compatibility profile's own OpenAPI document (`/compat/<name>/schema`, generated
from its route table), as platform/test_schemathesis.py does over the merged native one: the examples,
coverage and fuzzing phases (a profile's document has no links for a stateful phase), as a signed-in
customer on an embedded platform without rate limits. No input may produce a 5xx.

A seed route the platform cannot honour answers 501 by design, names what is missing, and is listed
apart in the document (`x-not-implemented`); the coverage phase still reaches it when it tries the
methods a documented path does not list. That 501, from one of those routes, is the one 5xx accepted
(`_unaccepted`): any other server error fails the test.

Bounded by `ATELIER_SCHEMATHESIS_COMPAT_EXAMPLES` test cases per operation (default 10): about
2,900 cases, ~1 minute on an idle 2-core machine.
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
from infra.journeys import customer
from infra.oidc import identity_env

from atelier_testing.platform import Platform, embedded

pytestmark = [pytest.mark.e2e, pytest.mark.long_tail(why="fuzzing: every route of each profile")]

PROFILES = ("storybook", "marbelle", "reviv", "shop", "figureforge")
# Operations that end the caller's session or account: fuzzed apart, with a customer of their own,
# so that the rest of the run keeps a valid token.
SESSION_ENDING = r".*/(logout|auth/delete)/?$"  # S4's frontend signs out at `/logout` (no slash)
# A failure as schemathesis prints it: the status line, then the body.
FAILURE = re.compile(r"^\[(\d{3})\] [^\n]*:\n\n\s+`(.*)`$", re.MULTILINE)


@pytest.fixture(scope="module")
def unlimited_platform(tmp_path_factory: pytest.TempPathFactory, oidc_provider: Any) -> Iterator[Platform]:
    """An embedded platform of its own, without the gateway's rate limits (which would answer most
    generated requests 429 before they reach a profile)."""
    env = {**identity_env(oidc_provider), "ATELIER_GATEWAY_RATE_LIMITS_ENABLED": "false"}
    with embedded(tmp_path_factory.mktemp("compat-fuzz"), env) as platform:
        yield platform


@pytest.mark.parametrize("profile", PROFILES)
async def test_no_input_makes_a_server_error(unlimited_platform: Platform, profile: str, tmp_path: Path) -> None:
    async with httpx.AsyncClient(base_url=unlimited_platform.url, timeout=60) as api:
        schema = await api.get(f"/compat/{profile}/schema", timeout=180)
        assert schema.status_code == 200, schema.text
        document = schema.json()
        (tmp_path / "openapi.json").write_bytes(schema.content)
        missing = {f"{route['method']} {route['path']}" for route in document.get("x-not-implemented", [])}

        auth = await customer(api)
        await _schemathesis(unlimited_platform, profile, auth, tmp_path, missing,
                            "--exclude-path-regex", SESSION_ENDING)
        # The customer's token held: the cases reached the profile's rules, not only the auth check.
        assert (await api.get("/api/v1/users/me", headers=auth)).status_code == 200
        if any(re.fullmatch(SESSION_ENDING, path) for path in document["paths"]):
            await _schemathesis(unlimited_platform, profile, await customer(api), tmp_path, missing,
                                "--include-path-regex", SESSION_ENDING)


async def _schemathesis(platform: Platform, profile: str, auth: dict[str, str], work: Path, missing: set[str],
                        *filters: str) -> str:
    """Run schemathesis over the profile's operations selected by `filters`; fails the test on a 5xx
    other than the 501 of a route in `missing`."""
    examples = os.environ.get("ATELIER_SCHEMATHESIS_COMPAT_EXAMPLES", "10")
    command = [sys.executable, "-m", "schemathesis.cli", "run", str(work / "openapi.json"), "--url", f"{platform.url}/compat/{profile}",
               "--checks", "not_a_server_error", "--phases", "examples,coverage,fuzzing",
               "--max-examples", examples, "--seed", "20261125", "--workers", "2", "--request-timeout", "30",
               "-H", f"Authorization: {auth['Authorization']}", "--suppress-health-check", "all",
               "--generation-database", "none", *filters]
    # In the test's own directory: schemathesis keeps a cache where it runs.
    run = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=900, check=False,
                                  cwd=work)
    output = run.stdout + run.stderr
    tail = "\n".join(output.splitlines()[-60:])
    if run.returncode != 0:
        failures = FAILURE.findall(output)
        # Every failing case was read (none is an error of another kind), and each is an accepted 501.
        assert failures and len(failures) == output.count("Test Case ID:"), f"schemathesis failed:\n{tail}"
        unaccepted = _unaccepted(failures, missing)
        assert not unaccepted, f"schemathesis found server errors in {profile}:\n" + "\n".join(unaccepted)
    assert "Rate limited" not in run.stdout, tail
    return output


def _unaccepted(failures: list[tuple[str, str]], missing: set[str]) -> list[str]:
    out = []
    for status, body in failures:
        route = re.search(r'"route":"([^"]+)"', body)
        if status != "501" or route is None or route.group(1) not in missing:
            out.append(f"{status} {body[:300]}")
    return out
