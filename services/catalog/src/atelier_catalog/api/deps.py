"""The dependencies routes list, named once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query

from atelier_catalog import domain
from atelier_catalog.domain import Visibility
from atelier_catalog.schemas import ProductQuery
from atelier_catalog.service import (CategoryService, ImageService, PricingService, ProductService, StockService,
                                     VariantService)
from atelier_common.auth import OptionalPrincipal
from atelier_common.db import SessionDep


async def _visibility(viewer: OptionalPrincipal, include_inactive: Annotated[bool, Query(
        description="Staff only: include inactive products and categories")] = False) -> Visibility:
    return domain.visibility_for(is_staff=viewer.is_staff, include_inactive=include_inactive)


def _service(cls: type[Any]) -> Any:
    async def build(session: SessionDep) -> Any:
        return cls(session)

    build.__name__ = f"get_{cls.__name__}"
    return Depends(build)


VisibilityDep = Annotated[Visibility, Depends(_visibility)]
ProductQueryDep = Annotated[ProductQuery, Query()]
CategoryServiceDep = Annotated[CategoryService, _service(CategoryService)]
ProductServiceDep = Annotated[ProductService, _service(ProductService)]
VariantServiceDep = Annotated[VariantService, _service(VariantService)]
ImageServiceDep = Annotated[ImageService, _service(ImageService)]
StockServiceDep = Annotated[StockService, _service(StockService)]
PricingServiceDep = Annotated[PricingService, _service(PricingService)]

# Declared on routes so the merged OpenAPI lists the error answers too.
NOT_FOUND = {404: {"description": "Not found (unknown, inactive or malformed id or slug)"}}
STAFF_ONLY = {401: {"description": "Authentication required"}, 403: {"description": "Staff only"},
              400: {"description": "Validation error"}}
CONFLICT = {409: {"description": "SKU_EXISTS, SLUG_EXISTS, INSUFFICIENT_STOCK or CATEGORY_CYCLE"}}
