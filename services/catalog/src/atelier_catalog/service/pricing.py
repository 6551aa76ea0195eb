"""The digital offers (credit packs, plans, print tiers, retry packs) as one price list."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_catalog.context import CatalogContext
from atelier_catalog.domain import PRICING_GROUPS, ProductKind
from atelier_catalog.models import Product
from atelier_catalog.repository import ProductRepository
from atelier_common.service import UseCase


class PricingService(UseCase[CatalogContext]):
    def __init__(self, session: AsyncSession, context: CatalogContext) -> None:
        super().__init__(session, context)
        self.products = ProductRepository(session)

    async def price_list(self) -> dict[str, list[Product]]:
        groups: dict[str, list[Product]] = {name: [] for name in PRICING_GROUPS.values()}
        for offer in await self.products.list_offers():
            groups[PRICING_GROUPS[ProductKind(offer.kind)]].append(offer)
        return groups
