"""/internal/products: prices, kinds, attributes and stock for other services (never routed by
the gateway; the service credential is required)."""

from __future__ import annotations

from fastapi import APIRouter

from atelier_catalog.api.deps import NOT_FOUND, ProductServiceDep
from atelier_catalog.schemas import InternalProductRead, ProductLookup, ProductLookupRead
from atelier_common.auth import require_service

router = APIRouter(prefix="/internal", tags=["internal"], dependencies=[require_service], include_in_schema=False)


@router.get("/products/{product_ref}", response_model=InternalProductRead, responses=NOT_FOUND)
async def get_internal_product(product_ref: str, products: ProductServiceDep) -> InternalProductRead:
    return await products.get_for_service(product_ref)


@router.post("/products/lookup", response_model=ProductLookupRead)
async def lookup_products(data: ProductLookup, products: ProductServiceDep) -> dict[str, list[InternalProductRead]]:
    """Products by id and/or SKU, active or not; unknown ones are simply absent."""
    return {"results": await products.lookup(data)}
