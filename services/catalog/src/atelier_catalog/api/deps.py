"""The dependencies routes list, named once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request

from atelier_catalog import domain
from atelier_catalog.domain import Visibility
from atelier_catalog.schemas import ProductQuery
from atelier_catalog.service import (
    CategoryService,
    ImageService,
    PricingService,
    ProductService,
    ReviewService,
    StockService,
    VariantService,
    WishlistService,
)
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


async def _product_service(request: Request, session: SessionDep) -> ProductService:
    state = request.app.state
    return ProductService(session, exact_count_limit=state.settings.exact_count_limit,
                          estimates=state.count_estimates)


VisibilityDep = Annotated[Visibility, Depends(_visibility)]
ProductQueryDep = Annotated[ProductQuery, Query()]
CategoryServiceDep = Annotated[CategoryService, _service(CategoryService)]
ProductServiceDep = Annotated[ProductService, Depends(_product_service)]
VariantServiceDep = Annotated[VariantService, _service(VariantService)]
ImageServiceDep = Annotated[ImageService, _service(ImageService)]
StockServiceDep = Annotated[StockService, _service(StockService)]
PricingServiceDep = Annotated[PricingService, _service(PricingService)]
ReviewServiceDep = Annotated[ReviewService, _service(ReviewService)]
WishlistServiceDep = Annotated[WishlistService, _service(WishlistService)]

# Declared on routes so the merged OpenAPI lists the error answers too.
NOT_FOUND = {404: {"description": "Not found (unknown, inactive or malformed id or slug)"}}
STAFF_ONLY = {401: {"description": "Authentication required"}, 403: {"description": "Staff only"},
              400: {"description": "Validation error"}}
CONFLICT = {409: {"description": "SKU_EXISTS, SLUG_EXISTS, INSUFFICIENT_STOCK or CATEGORY_CYCLE"}}
# Set on product pages whose `count` is PostgreSQL's estimate (more matches than
# `exact_count_limit`): the page shape stays {count, next, previous, results}.
COUNT_ESTIMATED_HEADER = "X-Count-Estimated"
