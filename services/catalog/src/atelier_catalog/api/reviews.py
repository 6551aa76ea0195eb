"""/api/v1/products/{id or slug}/reviews and /wishlist, and /api/v1/wishlist."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status

from atelier_catalog.api.cache import CachedRoute
from atelier_catalog.api.deps import (
    NOT_FOUND,
    ReviewReaderDep,
    ReviewServiceDep,
    ShopperVisibilityDep,
    VisibilityDep,
    WishlistReaderDep,
    WishlistServiceDep,
)
from atelier_catalog.models import Review
from atelier_catalog.schemas import ReviewCreate, ReviewRead, WishlistItemRead, WishlistToggleRead
from atelier_catalog.service.reviews import ADDED, REMOVED
from atelier_common.auth import UserPrincipal
from atelier_common.pagination import Page, PageParamsDep, build_page
from atelier_common.responses import ErrorResponses

router = APIRouter(prefix="/api/v1", tags=["reviews"])
public = APIRouter(prefix="/api/v1", tags=["reviews"], route_class=CachedRoute)
USER: ErrorResponses = {401: {"description": "Authentication required"}, **NOT_FOUND}


@public.get("/products/{product_ref}/reviews", summary="List a product's reviews",
            response_model=Page[ReviewRead], responses=NOT_FOUND)
async def list_reviews(request: Request, product_ref: str, page: PageParamsDep, visibility: VisibilityDep,
                       reviews: ReviewReaderDep) -> dict[str, Any]:
    """The product's reviews, newest first."""
    count, results = await reviews.list(product_ref, visibility, limit=page.limit, offset=page.offset)
    return build_page(request, page, count, list(results))


@router.post("/products/{product_ref}/reviews", summary="Review a product",
             response_model=ReviewRead, status_code=status.HTTP_201_CREATED,
             responses={**USER, 400: {"description": "Validation error"},
                        409: {"description": "REVIEW_EXISTS: one review per user per product"}})
async def create_review(product_ref: str, data: ReviewCreate, user: UserPrincipal, visibility: ShopperVisibilityDep,
                        reviews: ReviewServiceDep) -> Review:
    """Rate (1–5) and review a product; one review per customer and product."""
    return await reviews.add(product_ref, data, visibility, user_id=user.owner_id, email=user.email)


@router.post("/products/{product_ref}/wishlist", summary="Toggle a product in the wishlist",
             response_model=WishlistToggleRead,
             responses={**USER, 201: {"model": WishlistToggleRead, "description": "Added to the wishlist"}})
async def toggle_wishlist(product_ref: str, user: UserPrincipal, visibility: ShopperVisibilityDep,
                          wishlists: WishlistServiceDep, response: Response) -> dict[str, Any]:
    """Add the product to the caller's wishlist (201), or remove it if it is there (200)."""
    added = await wishlists.toggle(product_ref, visibility, user_id=user.owner_id)
    response.status_code = status.HTTP_201_CREATED if added else status.HTTP_200_OK
    return {"message": ADDED if added else REMOVED, "in_wishlist": added}


@router.get("/wishlist", summary="List the wishlist", response_model=Page[WishlistItemRead], responses=USER)
async def list_wishlist(request: Request, page: PageParamsDep, user: UserPrincipal, visibility: ShopperVisibilityDep,
                        wishlists: WishlistReaderDep) -> dict[str, Any]:
    """The products in the caller's wishlist, the latest added first."""
    count, rows = await wishlists.list(visibility, user_id=user.owner_id, limit=page.limit, offset=page.offset)
    return build_page(request, page, count, [{"product": product, "added_at": item.created_at}
                                             for item, product in rows])
