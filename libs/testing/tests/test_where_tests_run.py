"""Where a test runs: the `modes` and `databases` markers read by the plugin, and the timing table's
folders."""

from __future__ import annotations

import subprocess
import sys
from typing import cast

import pytest

from atelier_testing.plugin import CHOICES, EVERY_MODE_ENV, long_tail_first, runs_in
from atelier_testing.timings import folder_of, tree_cpu


class _Definition:
    """What `runs_in` reads of a collected test."""

    def __init__(self, mark: pytest.MarkDecorator | None) -> None:
        self.nodeid = "tests-e2e/x/test_y.py::test_z"
        self._mark = mark.mark if mark is not None else None

    def get_closest_marker(self, name: str) -> pytest.Mark | None:
        return self._mark if self._mark is not None and self._mark.name == name else None


def _runs(mark: pytest.MarkDecorator | None, fixture: str = "mode") -> list[str]:
    marker, known, default = CHOICES[fixture]
    return runs_in(_Definition(mark), marker, known, default)


def test_without_a_marker_an_end_to_end_test_is_distributed_and_a_service_test_on_sqlite(monkeypatch) -> None:
    monkeypatch.delenv(EVERY_MODE_ENV, raising=False)
    assert _runs(None) == ["distributed"]
    assert _runs(None, "db_backend") == ["sqlite"]


def test_a_marker_names_where_and_why(monkeypatch) -> None:
    monkeypatch.delenv(EVERY_MODE_ENV, raising=False)
    assert _runs(pytest.mark.modes("embedded", "distributed", why="locks")) == ["embedded", "distributed"]
    assert _runs(pytest.mark.databases("postgres", why="row locks"), "db_backend") == ["postgres"]


@pytest.mark.parametrize("mark", [pytest.mark.modes("embedded", "distributed"),  # no why
                                  pytest.mark.modes("embedded", "kubernetes", why="x"),  # not a mode
                                  pytest.mark.modes(why="x")])  # none named
def test_a_marker_without_a_known_name_or_a_why_stops_the_run(mark: pytest.MarkDecorator, monkeypatch) -> None:
    monkeypatch.delenv(EVERY_MODE_ENV, raising=False)
    with pytest.raises(pytest.UsageError, match="says why"):
        _runs(mark)


def test_every_mode_runs_each_unmarked_test_everywhere_and_a_marked_one_where_it_says(monkeypatch) -> None:
    monkeypatch.setenv(EVERY_MODE_ENV, "1")
    assert _runs(None) == ["embedded", "distributed"]
    assert _runs(None, "db_backend") == ["sqlite", "postgres"]
    assert _runs(pytest.mark.databases("postgres", why="row locks"), "db_backend") == ["postgres"]


@pytest.mark.parametrize(("nodeid", "folder"), [
    ("tests-e2e/cart/test_guest_cart.py::test_x[distributed]", "tests-e2e/cart"),
    ("services/orders/tests/api/test_returns.py::TestX::test_y[sqlite]", "services/orders/api"),
    ("services/orders/tests/test_top.py::test_y", "services/orders"),
    ("libs/common/tests/test_messaging.py::test_y[postgres]", "libs/common"),
    ("gateway/tests/test_upstream.py::test_y", "gateway"),
])
def test_the_timing_table_groups_tests_by_the_folder_a_newcomer_looks_in(nodeid: str, folder: str) -> None:
    assert folder_of(nodeid) == folder


class _Item:
    def __init__(self, name: str, long: bool) -> None:
        self.name = name
        self._long = pytest.mark.long_tail(why="minutes").mark if long else None

    def get_closest_marker(self, name: str) -> pytest.Mark | None:
        return self._long if name == "long_tail" else None


def test_long_tests_go_first_and_the_rest_keep_their_order() -> None:
    items = [_Item("a", False), _Item("fuzz", True), _Item("b", False), _Item("failover", True), _Item("c", False)]
    long_tail_first(cast(list[pytest.Item], items))
    assert [item.name for item in items] == ["fuzz", "failover", "a", "b", "c"]


def test_a_tests_cpu_counts_the_processes_below_the_worker_alive_and_ended() -> None:
    """What a platform the test started spends is the test's: a child burning CPU counts while it
    runs (`/proc`) and once it has ended (its parent's reaped children)."""
    burn = "import time\nend = time.process_time() + 0.5\nwhile time.process_time() < end: pass\nprint(1, flush=True)\ninput()"
    before = tree_cpu()
    child = subprocess.Popen([sys.executable, "-c", burn], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "1"  # burnt, still alive
        alive = tree_cpu()
    finally:
        child.communicate("\n", timeout=60)
    ended = tree_cpu()
    assert alive - before >= 0.5
    assert ended >= alive - 0.05  # nothing lost when it is reaped (ticks round)
