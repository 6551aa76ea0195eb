"""`RecordingBus`: the in-memory bus that also keeps every event published through it, for tests to
read back (`bus.published`). The runtime bus keeps nothing once delivered: a process that ran for
weeks would hold every event it ever published."""

from __future__ import annotations

from typing import Any

from atelier_common.events.envelope import Envelope
from atelier_common.events.memory import InMemoryBus


class RecordingBus(InMemoryBus):
    def __init__(self, **kwargs: Any) -> None:  # InMemoryBus's own keywords
        super().__init__(**kwargs)
        self.published: list[Envelope] = []

    def _accept(self, env: Envelope) -> None:
        self.published.append(env)
        super()._accept(env)
