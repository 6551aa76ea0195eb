"""Cart's context: built once at start (settings, the catalog client)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from atelier_cart.clients import CatalogClient
from atelier_cart.promotions import OrdersClient
from atelier_cart.settings import CartSettings
from atelier_common.service import Runtime
from atelier_common.storefronts import StorefrontDirectory


@dataclass(frozen=True)
class CartContext:
    """Long-lived collaborators of cart's use cases."""

    settings: CartSettings
    catalog: CatalogClient
    # Orders' promotion quote: what a cart's lines save.
    orders: OrdersClient
    # This process's copy of the storefronts: each one's line limit (`domain.line_limit`).
    storefronts: StorefrontDirectory | None = None


@asynccontextmanager
async def context(runtime: Runtime) -> AsyncIterator[CartContext]:
    yield CartContext(settings=CartSettings.of(runtime), catalog=CatalogClient(runtime.internal),
                      orders=OrdersClient(runtime.internal),
                      storefronts=runtime.storefronts)
