"""The gateway hears `identity.token_revoked`: every instance keeps its own denylist."""

from __future__ import annotations

from atelier_common.denylist import Denylist, subscribe_denylist
from atelier_common.events import EventBus


def subscribe(bus: EventBus, denylist: Denylist) -> None:
    subscribe_denylist(bus, "gateway", denylist)
