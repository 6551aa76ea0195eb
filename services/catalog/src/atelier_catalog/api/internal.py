"""/internal/products: prices, kinds, attributes and stock for other services (never routed by
the gateway; the service credential is required)."""

from __future__ import annotations

from fastapi import APIRouter

from atelier_catalog.api.deps import NOT_FOUND, ProductReaderDep
from atelier_catalog.schemas import ProductLookup
from atelier_common.auth import require_service
from atelier_common.contracts.catalog import ProductSnapshot, ProductSnapshots

router = APIRouter(prefix="/internal", tags=["internal"], dependencies=[require_service], include_in_schema=False)


@router.get("/products/{product_ref}", response_model=ProductSnapshot, responses=NOT_FOUND)
async def get_internal_product(product_ref: str, products: ProductReaderDep) -> ProductSnapshot:
    return await products.get_for_service(product_ref)


@router.post("/products/lookup", response_model=ProductSnapshots)
async def lookup_products(data: ProductLookup, products: ProductReaderDep) -> ProductSnapshots:
    """Products by id and/or SKU, active or not; unknown ones are simply absent. With `storefront` and
    `customer_group`, priced at what that group pays there (cart's frozen price, orders' charge)."""
    return ProductSnapshots(results=await products.lookup(data))
