"""Orders' context: built once at start (settings, the clients of the services orders asks)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from atelier_common.service import Runtime
from atelier_common.storefronts import StorefrontDirectory
from atelier_orders.clients import ServiceClients
from atelier_orders.settings import OrdersSettings


@dataclass(frozen=True)
class OrdersContext:
    """Long-lived collaborators of orders' use cases."""

    settings: OrdersSettings
    clients: ServiceClients
    # This process's copy of the storefronts (identity owns them; `atelier_common.storefronts`).
    storefronts: StorefrontDirectory


@asynccontextmanager
async def context(runtime: Runtime) -> AsyncIterator[OrdersContext]:
    yield OrdersContext(settings=OrdersSettings.of(runtime), clients=ServiceClients(runtime.internal),
                        storefronts=runtime.storefronts)
