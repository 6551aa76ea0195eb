"""/api/v1/pricing: every active digital offer, grouped by kind."""

from __future__ import annotations

from fastapi import APIRouter

from atelier_catalog.api.cache import CachedRoute
from atelier_catalog.api.deps import PricingReaderDep, VisibilityDep
from atelier_catalog.models import Product
from atelier_catalog.schemas import PricingRead

router = APIRouter(prefix="/api/v1", tags=["pricing"], route_class=CachedRoute)


@router.get("/pricing", summary="Get pricing", response_model=PricingRead)
async def get_pricing(visibility: VisibilityDep, pricing: PricingReaderDep) -> dict[str, list[Product]]:
    """What the request's storefront sells as credit packs and subscription plans, with their prices."""
    return await pricing.price_list(visibility)
