"""docs/architecture.md's event table is the code's: every contract in `atelier_common.contracts`
appears once, under the module that produces it, with exactly the consumers whose `SUBSCRIPTIONS`
(or `WORKER_SUBSCRIPTIONS`, as `<service>-worker`) name it, in bold."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import atelier_common.contracts as contracts
from atelier_common.events.envelope import IntegrationEvent
from atelier_gateway.settings import SERVICES

DOC = Path(__file__).resolve().parents[3] / "docs" / "architecture.md"
# contracts/staff.py: written by every service through `atelier_common.audit`.
PRODUCERS = {"staff": "every service"}


def _producers() -> dict[str, str]:
    out = {}
    for module in pkgutil.iter_modules(contracts.__path__):
        loaded = importlib.import_module(f"{contracts.__name__}.{module.name}")
        for cls in vars(loaded).values():
            if (inspect.isclass(cls) and issubclass(cls, IntegrationEvent) and cls.__module__ == loaded.__name__
                    and "type" in vars(cls)):  # an event, not a base of events (`StorefrontEvent`)
                out[cls.type] = PRODUCERS.get(module.name, module.name)
    return out


def _consumers() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for service in SERVICES:
        events = importlib.import_module(f"atelier_{service}.events")
        for cls in getattr(events, "SUBSCRIPTIONS", {}):
            out.setdefault(cls.type, set()).add(service)
        for cls in getattr(events, "WORKER_SUBSCRIPTIONS", {}):
            out.setdefault(cls.type, set()).add(f"{service}-worker")
    return out


def _table() -> dict[str, tuple[str, set[str]]]:
    """event type → (producer cell, bold consumers), from the rows under "## Events"."""
    text = DOC.read_text().split("\n## Events\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, set[str]]] = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        for event in re.findall(r"`([a-z_.]+)`", cells[0]):
            assert event not in rows, f"{event} appears twice"
            rows[event] = (cells[1], set(re.findall(r"\*\*([a-z-]+)\*\*", cells[2])))
    return rows


def test_every_event_is_in_the_table_with_its_producer_and_its_consumers() -> None:
    table, producers, consumers = _table(), _producers(), _consumers()
    assert set(table) == set(producers), "docs/architecture.md's event table and the contracts differ"
    for event, (producer, listed) in table.items():
        assert producer.startswith(producers[event]), (event, producer, producers[event])
        assert listed == consumers.get(event, set()), (event, listed, consumers.get(event, set()))
