"""docs/compat.md's table of routes served per profile is each profile's route table: a route added,
or one that comes to answer 501, changes the figures the page gives."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import atelier_compat

DOC = Path(__file__).resolve().parents[3] / "docs" / "compat.md"


def test_the_routes_served_per_profile_are_the_profiles_own() -> None:
    rows = re.findall(r"^\| `(\w+)` \(S\d\) \| (\d+) / (\d+)", DOC.read_text(), re.MULTILINE)
    documented = {name: (int(served), int(total)) for name, served, total in rows}
    counted = {}
    for name in atelier_compat.PROFILE_NAMES:
        routes = importlib.import_module(f"atelier_compat.{name}").PROFILE.routes
        counted[name] = (sum(1 for route in routes if not route.missing), len(routes))
    assert documented == counted
