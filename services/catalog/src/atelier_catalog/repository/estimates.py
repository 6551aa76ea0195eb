"""Estimated counts of broad product queries, kept for a while."""

from __future__ import annotations

import time
from collections.abc import Hashable


class CountEstimates:
    """Estimated counts of broad product queries, kept for `ttl` seconds: a million-row catalog's
    count need not be re-estimated on every page (it is marked as an estimate anyway)."""

    def __init__(self, *, ttl: float = 60.0, size: int = 1_000) -> None:
        self.ttl, self.size = ttl, size
        self._entries: dict[Hashable, tuple[float, int]] = {}

    def get(self, key: Hashable) -> int | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: Hashable, value: int) -> None:
        if len(self._entries) >= self.size:
            self._entries.clear()  # rare: a fresh start beats bookkeeping for an LRU
        self._entries[key] = (time.monotonic() + self.ttl, value)

