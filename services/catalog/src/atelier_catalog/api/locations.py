"""/api/v1/staff/locations: stock locations, kept by merchandisers (and admins); a product's units
per location; transfers between locations. Every write is audited."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from atelier_catalog.api.deps import NOT_FOUND, STAFF_ONLY, LocationReaderDep, LocationServiceDep
from atelier_catalog.models import StockLocation
from atelier_catalog.schemas import (
    LocationCreate,
    LocationRead,
    LocationsRead,
    LocationUpdate,
    ProductLocationsRead,
    StockTransferCreate,
    StockTransferRead,
)
from atelier_common.auth import MerchandiserPrincipal
from atelier_common.responses import ErrorResponses
from atelier_common.storefronts import CurrentStorefront

router = APIRouter(prefix="/api/v1/staff", tags=["locations"])
STAFF: ErrorResponses = {**STAFF_ONLY, **NOT_FOUND}


@router.get("/locations", summary="List stock locations", response_model=LocationsRead, responses=STAFF_ONLY)
async def list_locations(_staff: MerchandiserPrincipal, locations: LocationReaderDep,
                         storefront: Annotated[str | None, Query(max_length=64, description=(
                             "Only the locations serving this storefront (its own and every storefront's)"))] = None,
                         ) -> dict[str, object]:
    """Every location (or those serving one storefront), lowest priority first."""
    results: Sequence[StockLocation] = await locations.all(storefront)
    return {"count": len(results), "results": results}


@router.post("/locations", summary="Create a stock location", response_model=LocationRead,
             status_code=status.HTTP_201_CREATED, responses=STAFF_ONLY)
async def create_location(data: LocationCreate, staff: MerchandiserPrincipal, storefront: CurrentStorefront,
                          locations: LocationServiceDep) -> StockLocation:
    """A warehouse, shop or drop-shipper whose stock the storefront's orders may take, where it ships to."""
    return await locations.create(data, staff=staff,
                                  storefront=storefront.slug if data.storefront is None else data.storefront)


@router.get("/locations/{location_id}", summary="Get a stock location", response_model=LocationRead, responses=STAFF)
async def get_location(location_id: uuid.UUID, _staff: MerchandiserPrincipal,
                       locations: LocationReaderDep) -> StockLocation:
    """One location: its storefront, where it ships, its priority, whether orders take from it."""
    return await locations.get(location_id)


@router.patch("/locations/{location_id}", summary="Update a stock location", response_model=LocationRead,
              responses=STAFF)
async def update_location(location_id: uuid.UUID, data: LocationUpdate, staff: MerchandiserPrincipal,
                          locations: LocationServiceDep) -> StockLocation:
    """Rename it, change where it ships (`ships_to`) and its `priority`, or deactivate it (orders stop taking
    from it; its units stay)."""
    return await locations.update(location_id, data, staff=staff)


@router.delete("/locations/{location_id}", summary="Delete a stock location", status_code=status.HTTP_204_NO_CONTENT,
               responses={**STAFF, 409: {"description": "LOCATION_NOT_EMPTY"}})
async def delete_location(location_id: uuid.UUID, staff: MerchandiserPrincipal,
                          locations: LocationServiceDep) -> Response:
    """An empty location other than the default one."""
    await locations.delete(location_id, staff=staff)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/locations/stock/{product_ref}", summary="A product's stock per location",
            response_model=ProductLocationsRead, responses=STAFF)
async def product_locations(product_ref: str, _staff: MerchandiserPrincipal,
                            locations: LocationReaderDep) -> ProductLocationsRead:
    """The product's units (and each variant's) at each location; `stock_quantity` is their sum."""
    return await locations.product_stock(product_ref)


@router.post("/stock-transfers", summary="Move stock between locations", response_model=StockTransferRead,
             status_code=status.HTTP_201_CREATED,
             responses={**STAFF, 409: {"description": "INSUFFICIENT_STOCK at the source"}})
async def transfer_stock(data: StockTransferCreate, staff: MerchandiserPrincipal,
                         locations: LocationServiceDep) -> StockTransferRead:
    """Units of a product (or variant) from one location to another; the total is unchanged."""
    return await locations.transfer(data, staff=staff)
