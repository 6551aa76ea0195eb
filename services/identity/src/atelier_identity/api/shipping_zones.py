"""Shipping zones and their methods, staff-managed (merchandiser and admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, status

from atelier_common.auth import MerchandiserPrincipal, key_access
from atelier_common.errors import ERROR_RESPONSES
from atelier_common.service import use_case
from atelier_common.storefronts import CurrentStorefront
from atelier_identity.schemas import (
    ShippingMethodCreate,
    ShippingMethodRead,
    ShippingMethodWrite,
    ShippingZoneCreate,
    ShippingZoneList,
    ShippingZoneRead,
    ShippingZoneWrite,
)
from atelier_identity.service.shipping_zones import ShippingZoneService, method_read, zone_read

router = APIRouter(prefix="/api/v1/staff/shipping-zones", tags=["staff"], responses=ERROR_RESPONSES)

ZonesDep = Annotated[ShippingZoneService, use_case(ShippingZoneService)]
ZonesReaderDep = Annotated[ShippingZoneService, use_case(ShippingZoneService, read_only=True)]


@router.get("", summary="List shipping zones", response_model=ShippingZoneList)
@key_access()
async def list_shipping_zones(staff: MerchandiserPrincipal, zones: ZonesReaderDep,
                              storefront: str | None = None) -> dict[str, Any]:
    """Every storefront's zones (or one's: `storefront`), with their methods."""
    return {"results": [zone_read(record, zone) for record, zone in await zones.zones(storefront, staff)]}


@router.post("", summary="Create a shipping zone", response_model=ShippingZoneRead, status_code=status.HTTP_201_CREATED)
@key_access()
async def create_shipping_zone(data: ShippingZoneCreate, staff: MerchandiserPrincipal, storefront: CurrentStorefront,
                               zones: ZonesDep) -> dict[str, Any]:
    """A zone on `storefront` (none: the request's): its countries (and regions), tax rate and
    optionally its own `tax_inclusive`. A place is in one zone of a storefront at most (400)."""
    return zone_read(*await zones.create_zone(data, staff, storefront))


@router.get("/{zone_id}", summary="Get a shipping zone", response_model=ShippingZoneRead)
@key_access()
async def get_shipping_zone(zone_id: str, staff: MerchandiserPrincipal, zones: ZonesReaderDep) -> dict[str, Any]:
    """One zone (any storefront's) with its methods."""
    return zone_read(*await zones.zone(zone_id, staff))


@router.patch("/{zone_id}", summary="Edit a shipping zone", response_model=ShippingZoneRead)
@key_access()
async def update_shipping_zone(zone_id: str, data: ShippingZoneWrite, staff: MerchandiserPrincipal,
                               zones: ZonesDep) -> dict[str, Any]:
    """Change what is sent (`name`, `countries`, `regions`, `tax_rate`, `tax_inclusive`); the methods stay."""
    return zone_read(*await zones.update_zone(zone_id, data, staff))


@router.delete("/{zone_id}", summary="Delete a shipping zone", status_code=status.HTTP_204_NO_CONTENT)
@key_access()
async def delete_shipping_zone(zone_id: str, staff: MerchandiserPrincipal, zones: ZonesDep) -> None:
    """The zone and its methods leave the storefront: its addresses are no longer shipped to."""
    await zones.delete_zone(zone_id, staff)


@router.post("/{zone_id}/methods", summary="Add a shipping method", response_model=ShippingMethodRead,
             status_code=status.HTTP_201_CREATED)
@key_access()
async def create_shipping_method(zone_id: str, data: ShippingMethodCreate, staff: MerchandiserPrincipal,
                                 zones: ZonesDep) -> dict[str, Any]:
    """`{name, kind: flat|weight|subtotal, price, free_over?, rates?}`; `rates` `[{min, amount}]` from 0 up."""
    return method_read(await zones.create_method(zone_id, data, staff))


@router.patch("/{zone_id}/methods/{method_id}", summary="Edit a shipping method", response_model=ShippingMethodRead)
@key_access()
async def update_shipping_method(zone_id: str, method_id: str, data: ShippingMethodWrite, staff: MerchandiserPrincipal,
                                 zones: ZonesDep) -> dict[str, Any]:
    """Change what is sent; the method keeps its id."""
    return method_read(await zones.update_method(zone_id, method_id, data, staff))


@router.delete("/{zone_id}/methods/{method_id}", summary="Delete a shipping method",
               status_code=status.HTTP_204_NO_CONTENT)
@key_access()
async def delete_shipping_method(zone_id: str, method_id: str, staff: MerchandiserPrincipal, zones: ZonesDep) -> None:
    """The zone no longer offers the method."""
    await zones.delete_method(zone_id, method_id, staff)
