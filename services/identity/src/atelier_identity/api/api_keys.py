"""API keys for machine callers, admin only (docs/security.md, "API keys")."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from atelier_common.auth import KEY_SCOPES, STAFF_ROLES, AdminPrincipal
from atelier_common.errors import ERROR_RESPONSES
from atelier_common.inputs import InputModel
from atelier_common.pagination import Page, PageParamsDep, build_page
from atelier_common.service import use_case
from atelier_identity.service.api_keys import DEFAULT_ROTATION_GRACE, MAX_ROTATION_GRACE, ApiKeys

router = APIRouter(prefix="/api/v1/staff/api-keys", tags=["staff"], responses=ERROR_RESPONSES)
ApiKeysDep = Annotated[ApiKeys, use_case(ApiKeys)]
ApiKeysReaderDep = Annotated[ApiKeys, use_case(ApiKeys, read_only=True)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "API_KEY_NOT_FOUND"}}
EXAMPLE: dict[str, Any] = {"id": "5b0e5f0c-3f7e-4f43-9a53-0e4c1f8f51a2", "name": "ERP sync", "roles": ["support"],
           "scopes": [], "storefronts": ["default"], "expires_at": None, "created_by": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a",
           "created_at": "2026-11-30T10:00:00Z", "revoked_at": None, "last_used_at": "2026-11-30T10:05:00Z",
           "use_count": 3, "secrets": [{"hint": "atk_live_Q2x9", "created_at": "2026-11-30T10:00:00Z",
                                        "expires_at": None}]}


class ApiKeyCreate(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "ERP sync", "roles": ["support"], "storefronts": ["default"]},
        {"name": "Accounting", "scopes": ["invoices:read"], "storefronts": ["default"]}]})

    name: str = Field(min_length=1, max_length=100)
    # Roles and/or narrow scopes: at least one of either (400 VALIDATION_ERROR otherwise).
    roles: list[str] = Field(default_factory=list, max_length=len(STAFF_ROLES),
                             description=f"staff roles: {', '.join(STAFF_ROLES)}")
    scopes: list[str] = Field(default_factory=list, max_length=len(KEY_SCOPES),
                              description=f"narrow scopes, each naming a few staff routes: {', '.join(KEY_SCOPES)}")
    storefronts: list[str] = Field(min_length=1, max_length=100,
                                   description="storefront slugs the key may touch, or [\"*\"] for every one")
    # With its offset (`Z` for UTC); in the future.
    expires_at: AwareDatetime | None = None


class ApiKeyRotate(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"old_secret_expires_in_seconds": 86400}]})

    # 0: the old secret stops now.
    old_secret_expires_in_seconds: int = Field(default=int(DEFAULT_ROTATION_GRACE.total_seconds()), ge=0,
                                               le=int(MAX_ROTATION_GRACE.total_seconds()))


class ApiKeySecretRead(BaseModel):
    hint: str
    created_at: datetime
    expires_at: datetime | None


class ApiKeyRead(BaseModel):
    """A key without its secrets: each live one's first characters (`hint`) and retirement."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})

    id: uuid.UUID
    name: str
    roles: list[str]
    scopes: list[str]
    storefronts: list[str]
    expires_at: datetime | None
    created_by: uuid.UUID | None
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    use_count: int
    secrets: list[ApiKeySecretRead]


class ApiKeyWithSecret(ApiKeyRead):
    """The answer of a create or a rotation: `secret` is shown here only, never again."""

    model_config = ConfigDict(json_schema_extra={"examples": [{**EXAMPLE, "secret": "atk_live_Q2x9…"}]})

    secret: str


@router.post("", summary="Create an API key", response_model=ApiKeyWithSecret, status_code=201,
             responses={400: {"description": "VALIDATION_ERROR: an unknown role, scope or storefront, or "
                                             "neither a role nor a scope"}})
async def create_api_key(body: ApiKeyCreate, staff: AdminPrincipal, keys: ApiKeysDep) -> Any:
    """A key for a machine caller, with its roles and/or narrow scopes and the storefronts it may touch; the answer's
    `secret` (`atk_live_…`) is shown here only: send it as `Authorization: Bearer atk_live_…`."""
    view, secret = await keys.create(name=body.name, roles=body.roles, scopes=body.scopes,
                                     storefronts=body.storefronts, expires_at=body.expires_at, staff=staff)
    return {**view.read(), "secret": secret}


@router.get("", summary="List API keys", response_model=Page[ApiKeyRead])
async def list_api_keys(request: Request, _: AdminPrincipal, keys: ApiKeysReaderDep,
                        params: PageParamsDep) -> dict[str, Any]:
    """Every key, the newest first, revoked ones included; never a secret."""
    count, views = await keys.page(limit=params.limit, offset=params.offset)
    page: dict[str, Any] = build_page(request, params, count, [v.read() for v in views])
    return page


@router.get("/{key_id}", summary="Get an API key", response_model=ApiKeyRead, responses=NOT_FOUND)
async def get_api_key(key_id: uuid.UUID, _: AdminPrincipal, keys: ApiKeysReaderDep) -> Any:
    """One key: roles, storefronts, expiry, when it was last exchanged and how often, its live
    secrets' hints (two while a rotation's old one retires); never a secret."""
    return (await keys.get(key_id)).read()


@router.post("/{key_id}/rotate", summary="Rotate an API key's secret", response_model=ApiKeyWithSecret,
             responses=NOT_FOUND)
async def rotate_api_key(key_id: uuid.UUID, staff: AdminPrincipal, keys: ApiKeysDep,
                         body: ApiKeyRotate | None = None) -> Any:
    """A new secret, shown here only; the current one keeps working for
    `old_secret_expires_in_seconds` (24 h unless given; 0: stops now). Two secrets live at most: one
    still retiring from an earlier rotation stops now. 404 for a revoked or expired key."""
    grace = timedelta(seconds=(body or ApiKeyRotate()).old_secret_expires_in_seconds)
    view, secret = await keys.rotate(key_id, grace=grace, staff=staff)
    return {**view.read(), "secret": secret}


@router.post("/{key_id}/revoke", summary="Revoke an API key", response_model=ApiKeyRead, responses=NOT_FOUND)
async def revoke_api_key(key_id: uuid.UUID, staff: AdminPrincipal, keys: ApiKeysDep) -> Any:
    """Stops the key at once (every secret, every token exchanged for it); it stays listed."""
    return (await keys.revoke(key_id, staff=staff)).read()
