"""The digital offers (credit packs, plans, print tiers, retry packs) as one price list."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_catalog.context import CatalogContext
from atelier_catalog.domain import PRICING_GROUPS, ProductKind, Visibility
from atelier_catalog.models import Product
from atelier_catalog.repository import ProductRepository
from atelier_common.service import UseCase


class PricingService(UseCase[CatalogContext]):
    def __init__(self, session: AsyncSession, context: CatalogContext) -> None:
        super().__init__(session, context)
        self.products = ProductRepository(session)

    async def price_list(self, visibility: Visibility) -> dict[str, list[Product]]:
        """The offers on sale that `visibility`'s storefront offers (staff: every storefront's,
        or the one they name)."""
        groups: dict[str, list[Product]] = {name: [] for name in PRICING_GROUPS.values()}
        for offer in await self.products.list_offers(replace(visibility, include_inactive=False)):
            groups[PRICING_GROUPS[ProductKind(offer.kind)]].append(offer)
        return groups
