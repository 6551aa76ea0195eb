"""The gateway hears `identity.token_revoked` and `identity.key_retired`: every instance keeps its
own denylist and JWKS cache."""

from __future__ import annotations

from atelier_common.auth import JwksCache
from atelier_common.denylist import Denylist, subscribe_revocations
from atelier_common.events import EventBus


def subscribe(bus: EventBus, denylist: Denylist, jwks: JwksCache) -> None:
    subscribe_revocations(bus, "gateway", denylist, jwks)
