"""`/internal/...`: for other services only (service credential), never routed by the gateway."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter

from atelier_common.auth import require_service
from atelier_identity.api.deps import AddressReaderDep, StorefrontReaderDep, UserReaderDep
from atelier_identity.schemas import InternalAddressRead, InternalStorefronts, UserAccessRead, UserLookup, UserRead

router = APIRouter(prefix="/internal", tags=["internal"], dependencies=[require_service], include_in_schema=False)


@router.get("/users/{user_id}", response_model=UserRead)
async def get_user(user_id: uuid.UUID, users: UserReaderDep) -> UserRead:
    return UserRead.model_validate(await users.get(user_id))


@router.get("/users/{user_id}/access", response_model=UserAccessRead)
async def get_user_access(user_id: uuid.UUID, users: UserReaderDep) -> UserAccessRead:
    """The account's roles and status now, not as a token issued earlier says (money-moving staff
    writes: `atelier_common.staff_access`); 404 `USER_NOT_FOUND` for an account gone."""
    return UserAccessRead.model_validate(await users.get(user_id))


@router.post("/users/lookup", response_model=UserRead)
async def find_user(data: UserLookup, users: UserReaderDep) -> UserRead:
    """The account of an email address; 404 without one (payments' dev route names a user by email).
    A POST: the address stays out of URLs and access logs."""
    return UserRead.model_validate(await users.by_email(data.email))


@router.get("/addresses/{address_id}", response_model=InternalAddressRead)
async def get_owned_address(address_id: uuid.UUID, owner_id: uuid.UUID, addresses: AddressReaderDep) -> InternalAddressRead:
    """The address when `owner_id` (a user or anonymous id) owns it, with the owner's tax number; 404
    otherwise (orders' snapshots)."""
    address, tax_number = await addresses.get_for_owner(address_id, owner_id)
    return InternalAddressRead.model_validate(address).model_copy(update={"owner_tax_number": tax_number})


@router.get("/storefronts", response_model=InternalStorefronts)
async def list_all_storefronts(storefronts: StorefrontReaderDep) -> dict[str, Any]:
    """Every storefront's whole record, the default included (every process's copy loads this)."""
    return {"storefronts": await storefronts.list_all()}
