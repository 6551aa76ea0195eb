"""`/api/v1/addresses`: the caller's addresses; anonymous visitors have them too (S0)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request

from atelier_common.auth import AnonPrincipal
from atelier_common.errors import ERROR_RESPONSES
from atelier_common.pagination import PageParamsDep, build_page
from atelier_identity.api.deps import AddressServiceDep
from atelier_identity.schemas import AddressCreate, AddressList, AddressRead, AddressUpdate

router = APIRouter(prefix="/api/v1/addresses", tags=["addresses"], responses=ERROR_RESPONSES)


@router.get("", summary="List my addresses", response_model=AddressList)
async def list_addresses(request: Request, principal: AnonPrincipal, addresses: AddressServiceDep,
                         params: PageParamsDep) -> dict[str, Any]:
    """The caller's saved addresses (a user's, or a guest's), the primary first."""
    count, results = await addresses.page(principal, limit=params.limit, offset=params.offset)
    page: dict[str, Any] = build_page(request, params, count, [AddressRead.model_validate(a) for a in results])
    return page


@router.post("", summary="Add an address", status_code=201, response_model=AddressRead)
async def create_address(body: AddressCreate, principal: AnonPrincipal, addresses: AddressServiceDep) -> AddressRead:
    """Save a shipping or billing address; the first one becomes primary."""
    return AddressRead.model_validate(await addresses.create(principal, body))


@router.get("/{address_id}", summary="Get an address", response_model=AddressRead)
async def get_address(address_id: uuid.UUID, principal: AnonPrincipal, addresses: AddressServiceDep) -> AddressRead:
    """One of the caller's addresses."""
    return AddressRead.model_validate(await addresses.get(principal, address_id))


@router.put("/{address_id}", summary="Replace an address", response_model=AddressRead)
async def replace_address(address_id: uuid.UUID, body: AddressUpdate, principal: AnonPrincipal, addresses: AddressServiceDep) -> AddressRead:
    """Change an address's fields (those sent)."""
    return AddressRead.model_validate(await addresses.update(principal, address_id, body))


@router.patch("/{address_id}", summary="Update an address", response_model=AddressRead)
async def update_address(address_id: uuid.UUID, body: AddressUpdate, principal: AnonPrincipal, addresses: AddressServiceDep) -> AddressRead:
    """Change some of an address's fields."""
    return AddressRead.model_validate(await addresses.update(principal, address_id, body))


@router.delete("/{address_id}", summary="Delete an address", status_code=204)
async def delete_address(address_id: uuid.UUID, principal: AnonPrincipal, addresses: AddressServiceDep) -> None:
    """Delete one of the caller's addresses."""
    await addresses.delete(principal, address_id)


# POST is the contract; PATCH is what S1's clients send.
@router.post("/{address_id}/set-primary", summary="Make an address primary", response_model=AddressRead)
@router.patch("/{address_id}/set-primary", response_model=AddressRead, name="set_primary_address_by_patch",
              summary="Make an address primary (PATCH)",
              description="The same as `POST …/set-primary`, for the clients that send PATCH.")
async def set_primary_address(address_id: uuid.UUID, principal: AnonPrincipal, addresses: AddressServiceDep) -> AddressRead:
    """Make this address the caller's primary one (the default at checkout)."""
    return AddressRead.model_validate(await addresses.set_primary(principal, address_id))
