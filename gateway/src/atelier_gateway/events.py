"""The gateway hears `identity.token_revoked`: every instance keeps its own denylist."""

from __future__ import annotations

from atelier_common.contracts.identity import TokenRevoked
from atelier_common.events import Envelope, EventBus
from atelier_gateway.auth import Denylist


def subscribe(bus: EventBus, denylist: Denylist) -> None:
    async def on_token_revoked(envelope: Envelope) -> None:
        # Idempotent by nature (a set insert), so no inbox is needed here.
        denylist.revoke(TokenRevoked.model_validate(envelope.data))

    bus.subscribe("gateway", [TokenRevoked.type], on_token_revoked, broadcast=True)
