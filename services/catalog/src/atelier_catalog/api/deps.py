"""The dependencies routes list, named once."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Response

from atelier_catalog import domain
from atelier_catalog.domain import Language, PriceGroup, Visibility
from atelier_catalog.schemas import ProductQuery
from atelier_catalog.service import (
    CategoryService,
    ImageService,
    LocationService,
    PriceListService,
    PricingService,
    ProductService,
    ProductTransferService,
    ReviewService,
    StockService,
    TranslationService,
    TranslationTransferService,
    VariantService,
    WishlistService,
)
from atelier_common import counting
from atelier_common.auth import OptionalPrincipal
from atelier_common.responses import ErrorResponses
from atelier_common.service import use_case
from atelier_common.state import app_state
from atelier_common.storefronts import CurrentStorefront, Storefront, StorefrontDirectory


async def _visibility(request: Request, viewer: OptionalPrincipal, storefront: CurrentStorefront,
                      include_inactive: Annotated[bool, Query(
                          description="Staff only: include inactive products and categories")] = False,
                      scope: Annotated[str | None, Query(
                          alias="storefront", max_length=64,
                          description="Staff only: what this storefront offers (default: every storefront)")] = None,
                      ) -> Visibility:
    """Customers read what the request's storefront offers; staff read everything, or what the
    storefront they name offers."""
    staff_storefront = None
    is_staff = domain.reads_as_staff(viewer)
    if is_staff and scope:
        staff_storefront = await app_state(request.app, "storefronts", StorefrontDirectory).get(scope)
    return domain.visibility_for(is_staff=is_staff, include_inactive=include_inactive, storefront=storefront,
                                 staff_storefront=staff_storefront)


async def _shopper_visibility(storefront: CurrentStorefront) -> Visibility:
    return domain.storefront_visibility(storefront)


async def _price_group(viewer: OptionalPrincipal, storefront: CurrentStorefront) -> PriceGroup | None:
    """Whose list prices a product read shows: the verified token's customer group, on the
    request's storefront; none for staff and for callers of no group."""
    return domain.price_group(storefront.slug, viewer.group_on(storefront.slug), is_staff=viewer.is_staff)


async def _language(request: Request, response: Response, storefront: CurrentStorefront,
                    locale: Annotated[str | None, Query(max_length=35, description=(
                        "The language to answer in, one of the storefront's `locales` (else `Accept-Language` "
                        "decides, else its `default_locale`)"))] = None) -> Language:
    """The caller's language on the request's storefront (`Storefront.locale_for`, as the gateway's
    cache key derives it); the answer says which (`Content-Language`)."""
    chosen = storefront.locale_for(locale, request.headers.get("accept-language"))
    response.headers["content-language"] = chosen
    if storefront.multilingual:  # the same URL answers in each of its languages
        response.headers["vary"] = "Accept-Language"
    return Language(chosen, storefront.default_locale)


# The language a public read answers in: `_language`.
LanguageDep = Annotated[Language, Depends(_language)]
# What a read shows: `_visibility` (products, categories, reviews, pricing).
VisibilityDep = Annotated[Visibility, Depends(_visibility)]
# Whose prices a product read shows (the cache keeps each group's answers apart: `audience_of`).
PriceGroupDep = Annotated[PriceGroup | None, Depends(_price_group)]
# What a customer acts on, staff or not (wishlists, writing a review): the request's storefront's.
ShopperVisibilityDep = Annotated[Visibility, Depends(_shopper_visibility)]
ProductQueryDep = Annotated[ProductQuery, Query()]
CategoryServiceDep = Annotated[CategoryService, use_case(CategoryService)]
ProductServiceDep = Annotated[ProductService, use_case(ProductService)]
ProductTransferServiceDep = Annotated[ProductTransferService, use_case(ProductTransferService)]
VariantServiceDep = Annotated[VariantService, use_case(VariantService)]
ImageServiceDep = Annotated[ImageService, use_case(ImageService)]
StockServiceDep = Annotated[StockService, use_case(StockService)]
StockReaderDep = Annotated[StockService, use_case(StockService, read_only=True)]
TranslationServiceDep = Annotated[TranslationService, use_case(TranslationService)]
TranslationReaderDep = Annotated[TranslationService, use_case(TranslationService, read_only=True)]
TranslationTransferServiceDep = Annotated[TranslationTransferService, use_case(TranslationTransferService)]
TranslationTransferReaderDep = Annotated[TranslationTransferService,
                                         use_case(TranslationTransferService, read_only=True)]


async def _staff_storefront(request: Request, storefront: CurrentStorefront, slug: Annotated[str | None, Query(
        alias="storefront", max_length=64, description="The storefront meant (default: the request's)")] = None,
                            ) -> Storefront:
    return await app_state(request.app, "storefronts", StorefrontDirectory).get(slug) if slug else storefront


# A staff read about one storefront: `?storefront=<slug>`, else the request's.
StaffStorefrontDep = Annotated[Storefront, Depends(_staff_storefront)]
PricingServiceDep = Annotated[PricingService, use_case(PricingService)]
LocationServiceDep = Annotated[LocationService, use_case(LocationService)]
LocationReaderDep = Annotated[LocationService, use_case(LocationService, read_only=True)]
PriceListServiceDep = Annotated[PriceListService, use_case(PriceListService)]
PriceListReaderDep = Annotated[PriceListService, use_case(PriceListService, read_only=True)]
ReviewServiceDep = Annotated[ReviewService, use_case(ReviewService)]
WishlistServiceDep = Annotated[WishlistService, use_case(WishlistService)]
# For routes that only read: no transaction around them (`Database.read_only`).
CategoryReaderDep = Annotated[CategoryService, use_case(CategoryService, read_only=True)]
ProductReaderDep = Annotated[ProductService, use_case(ProductService, read_only=True)]
PricingReaderDep = Annotated[PricingService, use_case(PricingService, read_only=True)]
ReviewReaderDep = Annotated[ReviewService, use_case(ReviewService, read_only=True)]
WishlistReaderDep = Annotated[WishlistService, use_case(WishlistService, read_only=True)]

# Declared on routes so the merged OpenAPI lists the error answers too.
NOT_FOUND: ErrorResponses = {404: {"description": "Not found (unknown, inactive or malformed id or slug)"}}
STAFF_ONLY: ErrorResponses = {401: {"description": "Authentication required"}, 403: {"description": "Staff only"},
              400: {"description": "Validation error"}}
# The export only reads: no transaction around it (`Database.read_only`).
ProductTransferReaderDep = Annotated[ProductTransferService, use_case(ProductTransferService, read_only=True)]
CONFLICT: ErrorResponses = {409: {"description": "SKU_EXISTS, SLUG_EXISTS, INSUFFICIENT_STOCK, CATEGORY_CYCLE or CATEGORY_NOT_EMPTY"}}
# Set on product pages whose `count` is PostgreSQL's estimate (more matches than
# `exact_count_limit`; `atelier_common.counting`): the page shape stays {count, next, previous, results}.
COUNT_ESTIMATED_HEADER = counting.COUNT_ESTIMATED_HEADER
