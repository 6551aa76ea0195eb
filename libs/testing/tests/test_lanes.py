"""The distributed lanes of `make test`: whole files, dealt out evenly, the same on every worker."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from atelier_testing.plugin import DISTRIBUTED_LANE, distributed_lanes


class _Item:
    """What `distributed_lanes` reads of a collected test."""

    def __init__(self, path: str, mode: str | None = None, fixtures: tuple[str, ...] = (),
                 marked: bool = False) -> None:
        self.path = Path(path)
        self.callspec = type("CallSpec", (), {"params": {"platform": mode}})() if mode else None
        self.fixturenames = fixtures
        self._lane = pytest.mark.distributed_lane.mark if marked else None

    def get_closest_marker(self, name: str) -> Any:
        return self._lane if name == "distributed_lane" else None


def test_whole_files_are_dealt_evenly_over_the_lanes_and_nothing_else_is() -> None:
    items = [*[_Item("tests-e2e/a/test_big.py", "distributed") for _ in range(6)],
             *[_Item("tests-e2e/b/test_mid.py", "distributed") for _ in range(4)],
             *[_Item("tests-e2e/c/test_small.py", fixtures=("postgres_server_url",)) for _ in range(2)],
             _Item("tests-e2e/d/test_failover.py", marked=True),
             _Item("tests-e2e/a/test_big.py", "embedded"),
             _Item("services/orders/tests/test_x.py", "distributed")]
    lanes = distributed_lanes(cast(list[pytest.Item], items), lanes=2)

    assert set(lanes) == {cast(pytest.Item, item) for item in items[:13]}
    by_file: dict[Path, set[str]] = {}
    for item, lane in lanes.items():
        by_file.setdefault(item.path, set()).add(lane)
    assert all(len(names) == 1 for names in by_file.values())  # a file never split
    sizes = {name: sum(1 for lane in lanes.values() if lane == name) for name in set(lanes.values())}
    assert sizes == {f"{DISTRIBUTED_LANE}-1": 7, f"{DISTRIBUTED_LANE}-2": 6}  # 6 + 1 and 4 + 2
    assert distributed_lanes(cast(list[pytest.Item], items[::-1]), lanes=2) == lanes  # any order, same lanes
