"""`/internal/...`: for other services only (service credential), never routed by the gateway."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from atelier_common.auth import require_service
from atelier_common.inputs import InputModel
from atelier_common.service import use_case
from atelier_identity.api.deps import AddressReaderDep, StorefrontReaderDep, UserReaderDep
from atelier_identity.errors import UserNotFound
from atelier_identity.schemas import InternalAddressRead, InternalStorefronts, UserAccessRead, UserLookup, UserRead
from atelier_identity.service.api_keys import ApiKeyExchange

router = APIRouter(prefix="/internal", tags=["internal"], dependencies=[require_service], include_in_schema=False)
ExchangeDep = Annotated[ApiKeyExchange, use_case(ApiKeyExchange)]
ExchangeReaderDep = Annotated[ApiKeyExchange, use_case(ApiKeyExchange, read_only=True)]


class ApiKeyPresented(InputModel):
    secret: str = Field(min_length=1, max_length=256)


class ApiKeyExchanged(BaseModel):
    access_token: str
    expires_at: datetime
    key_id: uuid.UUID


@router.get("/users/{user_id}", response_model=UserRead)
async def get_user(user_id: uuid.UUID, users: UserReaderDep) -> UserRead:
    return UserRead.model_validate(await users.get(user_id))


@router.get("/users/{user_id}/access", response_model=UserAccessRead)
async def get_user_access(user_id: uuid.UUID, users: UserReaderDep, keys: ExchangeReaderDep) -> UserAccessRead:
    """The account's roles and status now, not as a token issued earlier says (money-moving staff
    writes: `atelier_common.staff_access`); an API key's likewise (active: neither revoked nor
    expired); 404 `USER_NOT_FOUND` for an account gone."""
    try:
        return UserAccessRead.model_validate(await users.get(user_id))
    except UserNotFound:
        key = await keys.access(user_id)
        if key is None:
            raise
        return UserAccessRead(id=user_id, is_active=key[0], roles=key[1])


@router.post("/api-keys/exchange", response_model=ApiKeyExchanged)
async def exchange_api_key(data: ApiKeyPresented, keys: ExchangeDep) -> ApiKeyExchanged:
    """The gateway's: a live API key secret for a short-lived access token with the key's roles
    and storefront scope; 401 `INVALID_TOKEN` for any other (unknown, revoked, expired, retired).
    A POST: the secret stays out of URLs and access logs."""
    exchanged = await keys.exchange(data.secret)
    return ApiKeyExchanged(access_token=exchanged.token, expires_at=exchanged.expires_at, key_id=exchanged.key_id)


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
