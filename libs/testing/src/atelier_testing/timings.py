"""The run's own timing table, printed at the end of every run (CI's log included): per worker,
what it ran (its lanes and how many single tests) and when, and per folder the time its tests took.
The suite's wall time is its longest lane (docs/development.md#where-each-test-runs): this is
where to look when it grows.
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import pytest

LANE_PROPERTY = "lane"


@dataclass
class _Worker:
    tests: int = 0
    busy: float = 0.0
    first: float = float("inf")
    last: float = 0.0
    lanes: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass
class _Table:
    started: float = field(default_factory=time.time)
    workers: dict[str, _Worker] = field(default_factory=lambda: defaultdict(_Worker))
    folders: dict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0, 0.0]))
    lanes: dict[str, _Worker] = field(default_factory=lambda: defaultdict(_Worker))
    tests: dict[str, float] = field(default_factory=lambda: defaultdict(float))


def folder_of(nodeid: str) -> str:
    """`tests-e2e/<area>`, `services/<name>/<kind>`, `libs/<name>` or `gateway`: where a newcomer looks."""
    parts = PurePosixPath(nodeid.split("::", 1)[0]).parts
    if parts[0] == "gateway":
        return "gateway"
    if parts[0] == "services" and len(parts) > 3:
        return "/".join(parts[:2] + parts[3:4]) if parts[3] != parts[-1] else "/".join(parts[:2])
    return "/".join(parts[:2]) if len(parts) > 2 else parts[0]


_table = _Table()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    node = getattr(report, "node", None)  # set by pytest-xdist on the controller
    worker = _table.workers[node.gateway.id if node is not None else "main"]
    worker.busy += report.duration
    start, stop = getattr(report, "start", None), getattr(report, "stop", None)
    lane_name = dict(report.user_properties).get(LANE_PROPERTY)
    lane = _table.lanes[str(lane_name)] if lane_name else None
    timed = [worker] if lane is None else [worker, lane]
    if lane is not None:
        lane.busy += report.duration
    if start is not None and stop is not None:
        for each in timed:
            each.first, each.last = min(each.first, start), max(each.last, stop)
    folder = _table.folders[folder_of(report.nodeid)]
    folder[1] += report.duration
    _table.tests[report.nodeid] += report.duration
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        worker.tests += 1
        folder[0] += 1
        worker.lanes[str(lane_name) if lane_name else "single tests"] += 1
        for each in timed[1:]:
            each.tests += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _table.workers:
        return
    wall = time.time() - _table.started
    write = terminalreporter.write_line
    terminalreporter.section(f"where the time went (wall {wall / 60:.1f} min)", sep="-")
    write(f"{'worker':<8}{'tests':>7}{'busy s':>9}{'from s':>8}{'to s':>8}  lanes")
    for name, worker in sorted(_table.workers.items()):
        lanes = ", ".join(f"{lane} {count}" for lane, count in sorted(worker.lanes.items()))
        first = worker.first - _table.started if worker.first != float("inf") else 0.0
        last = worker.last - _table.started if worker.last else 0.0
        write(f"{name:<8}{worker.tests:>7}{worker.busy:>9.0f}{first:>8.0f}{last:>8.0f}  {lanes}")
    for name, lane in sorted(_table.lanes.items()):
        first, last = lane.first - _table.started, lane.last - _table.started
        write(f"lane {name}: {lane.tests} tests, busy {lane.busy:.0f} s, from {first:.0f} s to {last:.0f} s")
    write(f"{'folder':<40}{'tests':>7}{'s':>8}")
    for folder, (count, seconds) in sorted(_table.folders.items(), key=lambda kv: -kv[1][1]):
        write(f"{folder:<40}{count:>7}{seconds:>8.0f}")
    # Every test's seconds (setup, call and teardown), for a closer look than the table's.
    path = os.environ.get("ATELIER_TEST_TIMINGS_FILE")
    if path:
        with open(path, "w") as out:
            json.dump(dict(sorted(_table.tests.items(), key=lambda kv: -kv[1])), out, indent=0)
