"""/api/v1/categories: the tree for everyone, administration for staff (deleting deactivates; `permanently`
removes an empty category)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from atelier_catalog.api.cache import CachedRoute
from atelier_catalog.api.deps import (
    CONFLICT,
    COUNT_ESTIMATED_HEADER,
    NOT_FOUND,
    STAFF_ONLY,
    CategoryReaderDep,
    CategoryServiceDep,
    LanguageDep,
    PriceGroupDep,
    ProductQueryDep,
    ProductReaderDep,
    VisibilityDep,
)
from atelier_catalog.domain import CategoryNode
from atelier_catalog.models import Category
from atelier_catalog.schemas import CategoryCreate, CategoryRead, CategoryTreeRead, CategoryUpdate, ProductRead
from atelier_common.auth import MerchandiserPrincipal
from atelier_common.pagination import Page, PageParamsDep, build_page
from atelier_common.responses import ErrorResponses

router = APIRouter(prefix="/api/v1", tags=["categories"])
public = APIRouter(prefix="/api/v1", tags=["categories"], route_class=CachedRoute)
STAFF: ErrorResponses = {**STAFF_ONLY, **NOT_FOUND, **CONFLICT}


@public.get("/categories", summary="List categories", response_model=Page[CategoryTreeRead])
async def list_categories(visibility: VisibilityDep, language: LanguageDep,
                          categories: CategoryReaderDep) -> dict[str, Any]:
    """The active category tree (top-level categories with their children) offered on the request's storefront,
    in the caller's language."""
    # The whole tree in one answer: `results` are the roots, `count` how many there are.
    roots = await categories.tree(visibility, language)
    return {"count": len(roots), "next": None, "previous": None, "results": roots}


@public.get("/categories/{category_ref}", summary="Get a category",
            response_model=CategoryTreeRead, responses=NOT_FOUND)
async def get_category(category_ref: str, visibility: VisibilityDep, language: LanguageDep,
                       categories: CategoryReaderDep) -> CategoryNode:
    """One category by id or slug, with its children, in the caller's language."""
    return await categories.get(category_ref, visibility, language)


@public.get("/categories/{category_ref}/products", summary="List a category's products",
            response_model=Page[ProductRead], responses=NOT_FOUND)
async def list_category_products(request: Request, category_ref: str, query: ProductQueryDep, page: PageParamsDep,
                                 visibility: VisibilityDep, group: PriceGroupDep, language: LanguageDep,
                                 products: ProductReaderDep, response: Response) -> dict[str, Any]:
    """The products of a category and its subcategories, with the same filters and ordering as `GET
    /api/v1/products`."""
    count, estimated, results = await products.list_in_category(category_ref, query, visibility,
                                                                limit=page.limit, offset=page.offset, group=group,
                                                                language=language)
    if estimated:
        response.headers[COUNT_ESTIMATED_HEADER] = "true"
    return build_page(request, page, count, list(results))


@router.post("/categories", summary="Create a category",
             response_model=CategoryRead, status_code=status.HTTP_201_CREATED, responses=STAFF)
async def create_category(data: CategoryCreate, staff: MerchandiserPrincipal, categories: CategoryServiceDep) -> Category:
    """A new category; `slug` is made from the name unless given, `parent_id` nests it."""
    return await categories.create(data)


@router.put("/categories/{category_ref}", summary="Replace a category", response_model=CategoryRead, responses=STAFF)
async def replace_category(category_ref: str, data: CategoryUpdate, staff: MerchandiserPrincipal,
                           categories: CategoryServiceDep) -> Category:
    """Change a category's fields (those sent; a parent that would make a cycle is refused)."""
    return await categories.update(category_ref, data)


@router.patch("/categories/{category_ref}", summary="Update a category", response_model=CategoryRead, responses=STAFF)
async def update_category(category_ref: str, data: CategoryUpdate, staff: MerchandiserPrincipal,
                          categories: CategoryServiceDep) -> Category:
    """Change some of a category's fields (a parent that would make a cycle is refused)."""
    return await categories.update(category_ref, data)


@router.delete("/categories/{category_ref}", summary="Deactivate or delete a category",
               status_code=status.HTTP_204_NO_CONTENT, responses=STAFF)
async def deactivate_category(category_ref: str, staff: MerchandiserPrincipal, categories: CategoryServiceDep,
                              permanently: Annotated[bool, Query(
                                  description="Delete it for good: only an empty category (no product, no child)")]
                              = False) -> Response:
    """Hide a category from shoppers (it is kept, inactive); with `permanently`, remove an empty one
    (409 `CATEGORY_NOT_EMPTY` otherwise)."""
    if permanently:
        await categories.delete(category_ref)
    else:
        await categories.deactivate(category_ref)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
