"""The gateway mints an anonymous identity where a route takes an anonymous owner, and nowhere a
caller without a token is expected (`routing.OWNER_PATHS`): held here to every service's routes."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from atelier_gateway.routing import is_public_read, needs_owner
from atelier_gateway.settings import SERVICES
from atelier_platform.embedded import service_settings

_METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def operations(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str, set[str]]]:
    """(method, concrete path, security schemes) of every public operation of every service."""
    data_dir = Path(tmp_path_factory.mktemp("owner-paths"))
    found = []
    for service in SERVICES:
        app = importlib.import_module(f"atelier_{service}.app").create_app(service_settings(service, data_dir))
        for path, ops in app.openapi()["paths"].items():
            concrete = re.sub(r"\{[^}]+\}", "x1", path)
            for method, op in ops.items():
                if method in _METHODS:
                    found.append((method.upper(), concrete, {k for s in op.get("security", []) for k in s}))
    return found


def test_every_route_with_an_anonymous_owner_gets_one(operations) -> None:
    missing = [(m, p) for m, p, schemes in operations
               if "anonToken" in schemes and not is_public_read(m, p) and not needs_owner(m, p)]
    assert not missing, f"routes taking an anonymous owner outside routing.OWNER_PATHS: {missing}"


def test_no_route_open_to_callers_without_a_token_mints(operations) -> None:
    """Sign-in, registration, refresh, reset, webhooks, signed file URLs: their callers own nothing."""
    minting = [(m, p) for m, p, schemes in operations if not schemes and needs_owner(m, p)]
    assert not minting, f"routes without an owner inside routing.OWNER_PATHS: {minting}"
