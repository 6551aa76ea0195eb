"""The run's own timing table, printed at the end of every run (CI's log included): per worker,
what it ran (its lanes and how many single tests) and when, and per folder the time its tests took
and the CPU they made the machine spend. The suite's wall time is its longest lane
(docs/development.md#where-each-test-runs), and on two cores its CPU: this is where to look when it grows.

A test's CPU is what its worker process and every process below it spent from the test's start to
the end of its teardown (`tree_cpu`): its own work, the platforms it started, and whatever the
worker's session platforms did meanwhile (their idle share included). PostgreSQL, RabbitMQ and Redis
are not below the worker and are not counted.
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
CPU_PROPERTY = "cpu"
_TICKS = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found: list[int] = []
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found.extend(int(child) for child in f.read().split())
        except OSError:
            continue
    return found


def tree_cpu() -> float:
    """CPU seconds this process and every process below it have used: its own and its reaped
    children's (`os.times`), and each live descendant's, with what that one reaped (`/proc`).
    None of it where `/proc` has no children files (then only this process and its reaped children)."""
    own = os.times()
    total = own.user + own.system + own.children_user + own.children_system
    pending, seen = _children(os.getpid()), set()
    while pending:
        pid = pending.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, cutime, cstime: fields 14-17 of proc(5), 12-15 after the name
        total += sum(int(value) for value in fields[11:15]) / _TICKS
        pending.extend(_children(pid))
    return total


@dataclass
class _Worker:
    tests: int = 0
    busy: float = 0.0
    cpu: float = 0.0
    first: float = float("inf")
    last: float = 0.0
    lanes: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass
class _Table:
    started: float = field(default_factory=time.time)
    workers: dict[str, _Worker] = field(default_factory=lambda: defaultdict(_Worker))
    folders: dict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0, 0.0, 0.0]))
    lanes: dict[str, _Worker] = field(default_factory=lambda: defaultdict(_Worker))
    tests: dict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0.0, 0.0]))


def folder_of(nodeid: str) -> str:
    """`tests-e2e/<area>`, `services/<name>/<kind>`, `libs/<name>` or `gateway`: where a newcomer looks."""
    parts = PurePosixPath(nodeid.split("::", 1)[0]).parts
    if parts[0] == "gateway":
        return "gateway"
    if parts[0] == "services" and len(parts) > 3:
        return "/".join(parts[:2] + parts[3:4]) if parts[3] != parts[-1] else "/".join(parts[:2])
    return "/".join(parts[:2]) if len(parts) > 2 else parts[0]


_table = _Table()
_test_started_cpu = 0.0


def pytest_runtest_logstart(nodeid: str, location: object) -> None:
    global _test_started_cpu
    _test_started_cpu = tree_cpu()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """The test's CPU rides on its teardown's report (to the controller, under pytest-xdist)."""
    outcome = yield
    if call.when == "teardown":
        report = outcome.get_result()
        report.user_properties = [*report.user_properties, (CPU_PROPERTY, tree_cpu() - _test_started_cpu)]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    node = getattr(report, "node", None)  # set by pytest-xdist on the controller
    worker = _table.workers[node.gateway.id if node is not None else "main"]
    worker.busy += report.duration
    start, stop = getattr(report, "start", None), getattr(report, "stop", None)
    properties = dict(report.user_properties)
    lane_name = properties.get(LANE_PROPERTY)
    reported = properties.get(CPU_PROPERTY)
    cpu = reported if isinstance(reported, float) else 0.0
    lane = _table.lanes[str(lane_name)] if lane_name else None
    timed = [worker] if lane is None else [worker, lane]
    worker.cpu += cpu
    if lane is not None:
        lane.busy += report.duration
        lane.cpu += cpu
    if start is not None and stop is not None:
        for each in timed:
            each.first, each.last = min(each.first, start), max(each.last, stop)
    folder = _table.folders[folder_of(report.nodeid)]
    folder[1] += report.duration
    folder[2] += cpu
    test = _table.tests[report.nodeid]
    test[0] += report.duration
    test[1] += cpu
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
    write(f"{'worker':<8}{'tests':>7}{'busy s':>9}{'cpu s':>8}{'from s':>8}{'to s':>8}  lanes")
    for name, worker in sorted(_table.workers.items()):
        lanes = ", ".join(f"{lane} {count}" for lane, count in sorted(worker.lanes.items()))
        first = worker.first - _table.started if worker.first != float("inf") else 0.0
        last = worker.last - _table.started if worker.last else 0.0
        write(f"{name:<8}{worker.tests:>7}{worker.busy:>9.0f}{worker.cpu:>8.0f}{first:>8.0f}{last:>8.0f}  {lanes}")
    for name, lane in sorted(_table.lanes.items()):
        first, last = lane.first - _table.started, lane.last - _table.started
        write(f"lane {name}: {lane.tests} tests, busy {lane.busy:.0f} s, cpu {lane.cpu:.0f} s, "
              f"from {first:.0f} s to {last:.0f} s")
    write(f"{'folder':<40}{'tests':>7}{'s':>8}{'cpu s':>8}")
    for folder, (count, seconds, cpu) in sorted(_table.folders.items(), key=lambda kv: -kv[1][2]):
        write(f"{folder:<40}{count:>7.0f}{seconds:>8.0f}{cpu:>8.0f}")
    # Every test's seconds (setup, call and teardown) and CPU, for a closer look than the table's.
    path = os.environ.get("ATELIER_TEST_TIMINGS_FILE")
    if path:
        by_cpu = sorted(_table.tests.items(), key=lambda kv: -kv[1][1])
        with open(path, "w") as out:
            json.dump({nodeid: {"seconds": round(seconds, 3), "cpu": round(cpu, 3)} for nodeid, (seconds, cpu) in by_cpu},
                      out, indent=0)
