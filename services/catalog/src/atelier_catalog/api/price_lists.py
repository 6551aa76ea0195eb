"""/api/v1/staff/price-lists: customer groups' prices per storefront and currency, kept by
merchandisers (and admins); every write is audited, and an edit may name the version it was built
from (`If-Match` or `expected_version`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from atelier_catalog.api.deps import NOT_FOUND, STAFF_ONLY, PriceListReaderDep, PriceListServiceDep
from atelier_catalog.models import PriceList
from atelier_catalog.schemas import PriceListCreate, PriceListRead, PriceListsRead, PriceListUpdate
from atelier_common.auth import MerchandiserPrincipal, key_access
from atelier_common.responses import ErrorResponses
from atelier_common.storefronts import CurrentStorefront
from atelier_common.versions import IfMatchDep

router = APIRouter(prefix="/api/v1/staff/price-lists", tags=["price-lists"])
STAFF: ErrorResponses = {**STAFF_ONLY, **NOT_FOUND, 409: {"description": "STALE_VERSION"}}


@router.get("", summary="List price lists", response_model=PriceListsRead, responses=STAFF_ONLY)
@key_access()
async def list_price_lists(staff: MerchandiserPrincipal, price_lists: PriceListReaderDep,
                           storefront: Annotated[str | None, Query(max_length=64, description=(
                               "Only this storefront's lists"))] = None) -> dict[str, object]:
    """Every price list (or one storefront's) with its prices, by storefront and name."""
    results: Sequence[PriceList] = await price_lists.all(storefront, staff)
    return {"count": len(results), "results": results}


@router.post("", summary="Create a price list", response_model=PriceListRead, status_code=status.HTTP_201_CREATED,
             responses=STAFF_ONLY)
@key_access()
async def create_price_list(data: PriceListCreate, staff: MerchandiserPrincipal, storefront: CurrentStorefront,
                            price_lists: PriceListServiceDep) -> PriceList:
    """A customer group's prices on a storefront, in a currency it sells: the group's customers pay a listed price
    for a product (or a variant) of that currency instead of its own. Where two active lists price the same thing,
    the lower price applies."""
    return await price_lists.create(data, staff=staff, storefront=data.storefront or storefront.slug)


@router.get("/{price_list_id}", summary="Get a price list", response_model=PriceListRead, responses=STAFF)
@key_access()
async def get_price_list(price_list_id: uuid.UUID, staff: MerchandiserPrincipal,
                         price_lists: PriceListReaderDep) -> PriceList:
    """One list with its prices and its `version` (send it back with an edit)."""
    return await price_lists.get(price_list_id, staff)


@router.patch("/{price_list_id}", summary="Update a price list", response_model=PriceListRead, responses=STAFF)
@key_access()
async def update_price_list(price_list_id: uuid.UUID, data: PriceListUpdate, staff: MerchandiserPrincipal,
                            price_lists: PriceListServiceDep, if_match: IfMatchDep) -> PriceList:
    """Rename, activate or deactivate a list, or replace its prices (`prices`, the whole set). A form built from
    another version is refused (409 `STALE_VERSION`, with the current list)."""
    return await price_lists.update(price_list_id, data, staff=staff, if_match=if_match)


@router.delete("/{price_list_id}", summary="Delete a price list", status_code=status.HTTP_204_NO_CONTENT,
               responses=STAFF)
@key_access()
async def delete_price_list(price_list_id: uuid.UUID, staff: MerchandiserPrincipal, price_lists: PriceListServiceDep,
                            if_match: IfMatchDep) -> Response:
    """Remove a list and its prices; orders already placed keep what they were charged."""
    await price_lists.delete(price_list_id, staff=staff, if_match=if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
