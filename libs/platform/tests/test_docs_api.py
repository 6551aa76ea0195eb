"""docs/api.md is true to the code where the code can say so: its table of error codes names every
code the native API raises (and no other), and its order status table is the orders service's
`TRANSITIONS`."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from pathlib import Path

from atelier_common.errors import STATUS_CODES, AtelierError
from atelier_gateway.settings import SERVICES

DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"
NATIVE = ("atelier_common", "atelier_gateway", *(f"atelier_{s}" for s in SERVICES))


def _section(title: str) -> str:
    return DOC.read_text().split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _subclasses(cls: type[AtelierError]) -> Iterator[type[AtelierError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _codes_in_code() -> set[str]:
    for service in SERVICES:  # every error class a service can raise is imported by its app
        importlib.import_module(f"atelier_{service}.app")
    importlib.import_module("atelier_gateway.app")
    raised = {cls.code for cls in _subclasses(AtelierError) if cls.__module__.split(".")[0] in NATIVE}
    # Framework errors (404 routes, 405, 413, …) and the unexpected one.
    return raised | set(STATUS_CODES.values()) | {"INTERNAL_ERROR"}


def test_the_error_table_names_every_code_the_api_raises() -> None:
    table = _section("Errors").split("| status | codes |", 1)[1].split("\n\n", 1)[0]
    documented = set(re.findall(r"`([A-Z][A-Z_]+)`", table))
    in_code = _codes_in_code()
    assert in_code - documented == set(), "codes raised but not in docs/api.md"
    assert documented - in_code == set(), "codes in docs/api.md that nothing raises"


def test_the_order_status_table_is_the_orders_state_machine() -> None:
    from atelier_orders.domain import TRANSITIONS

    text = _section("Purchases and money")
    documented: dict[str, set[str]] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`"):
            for source in re.findall(r"`([a-z_]+)`", cells[0]):
                documented[source] = set(re.findall(r"`([a-z_]+)`", cells[1]))
    assert documented == {str(s): {str(t) for t in targets} for s, targets in TRANSITIONS.items()}
