"""Storefronts: staff manage them (`/api/v1/storefronts`); anyone reads the one they are on
(`GET /api/v1/storefront`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from atelier_common.auth import AdminPrincipal, key_access
from atelier_common.cache import cached_route
from atelier_common.contracts.identity import Storefront
from atelier_common.errors import ERROR_RESPONSES
from atelier_common.pagination import PageParamsDep, build_page
from atelier_common.storefronts import CurrentStorefront
from atelier_identity.api.deps import ContextDep, StorefrontReaderDep, StorefrontServiceDep
from atelier_identity.schemas import (
    PublicStorefront,
    StorefrontCreate,
    StorefrontList,
    StorefrontRead,
    StorefrontUpdate,
)
from atelier_identity.storefronts import auth_methods

router = APIRouter(prefix="/api/v1", tags=["storefronts"], responses=ERROR_RESPONSES)
# The request's storefront, from this process's copy: public, tagged `storefront-<slug>` (every
# public answer of that storefront is) and purged with it when staff change it (`app.cache_keys`).
public = APIRouter(prefix="/api/v1", tags=["storefronts"], responses=ERROR_RESPONSES,
                   route_class=cached_route(stored=False))

_CONFLICTS: dict[int | str, dict[str, Any]] = {409: {"description": "Conflicts with another storefront or orders"}}


@public.get("/storefront", summary="Get this storefront", response_model=PublicStorefront)
async def get_current_storefront(storefront: CurrentStorefront, context: ContextDep) -> PublicStorefront:
    """The storefront of this request (from its origin or the `X-Atelier-Storefront` header): its name, currency,
    the sign-in methods it offers and whether a guest's checkout offers an account (`guest_accounts`)."""
    shown = storefront.model_dump(include={"slug", "name", "currency", "tax", "sells", "guest_accounts",
                                           "default_locale"})
    return PublicStorefront.model_validate({**shown, "locales": storefront.languages,
                                            "auth_methods": auth_methods(storefront, context.settings)})


@router.get("/storefronts", summary="List storefronts", response_model=StorefrontList)
@key_access()
async def list_storefronts(request: Request, staff: AdminPrincipal, storefronts: StorefrontReaderDep,
                           params: PageParamsDep) -> dict[str, Any]:
    """Every storefront (brand) the platform serves."""
    count, results = await storefronts.page(limit=params.limit, offset=params.offset, staff=staff)
    page: dict[str, Any] = build_page(request, params, count, results)
    return page


@router.post("/storefronts", summary="Create a storefront",
             status_code=201, response_model=StorefrontRead, responses=_CONFLICTS)
async def create_storefront(body: StorefrontCreate, staff: AdminPrincipal, storefronts: StorefrontServiceDep) -> Storefront:
    """A new storefront: its origins, frontend links, currency, tax and what it sells."""
    return await storefronts.create(body, staff=staff)


@router.get("/storefronts/{slug}", summary="Get a storefront", response_model=StorefrontRead)
@key_access()
async def get_storefront(slug: str, staff: AdminPrincipal, storefronts: StorefrontReaderDep) -> Storefront:
    """One storefront by slug, with all its settings."""
    return await storefronts.get(slug, staff)


@router.patch("/storefronts/{slug}", summary="Update a storefront", response_model=StorefrontRead, responses=_CONFLICTS)
@key_access()
async def update_storefront(slug: str, body: StorefrontUpdate, staff: AdminPrincipal,
                            storefronts: StorefrontServiceDep) -> Storefront:
    """Change a storefront's settings; its currency cannot change while it has unpaid orders."""
    return await storefronts.update(slug, body, staff=staff)


@router.delete("/storefronts/{slug}", summary="Delete a storefront", status_code=204, responses=_CONFLICTS)
@key_access()
async def delete_storefront(slug: str, staff: AdminPrincipal, storefronts: StorefrontServiceDep) -> None:
    """Delete a storefront that has no orders (the default one cannot be deleted)."""
    await storefronts.delete(slug, staff=staff)
