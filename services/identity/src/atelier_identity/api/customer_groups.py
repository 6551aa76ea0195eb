"""Customer groups, staff-managed: admins keep the groups, support puts customers in them,
merchandisers read them (their price lists name the codes)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status

from atelier_common.auth import (
    ROLE_MERCHANDISER,
    ROLE_SUPPORT,
    AdminPrincipal,
    Principal,
    RequireRole,
    SupportPrincipal,
    key_access,
)
from atelier_common.errors import ERROR_RESPONSES
from atelier_common.pagination import Page, PageParamsDep, build_page
from atelier_common.service import use_case
from atelier_common.storefronts import CurrentStorefront
from atelier_identity.schemas.groups import (
    CustomerGroupCreate,
    CustomerGroupList,
    CustomerGroupRead,
    CustomerGroupUpdate,
    MemberChangeRead,
    MemberRead,
    MembersChange,
    MembersChangeRead,
)
from atelier_identity.service.customer_groups import CustomerGroupService, GroupView
from atelier_identity.service.customer_groups import MembersChange as Change

router = APIRouter(prefix="/api/v1/staff/customer-groups", tags=["staff"], responses=ERROR_RESPONSES)

GroupsDep = Annotated[CustomerGroupService, use_case(CustomerGroupService)]
GroupsReaderDep = Annotated[CustomerGroupService, use_case(CustomerGroupService, read_only=True)]
# Support assigns; merchandisers name the codes in price lists: both read.
GroupReader = Annotated[Principal, Depends(RequireRole(ROLE_SUPPORT, ROLE_MERCHANDISER))]

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "CUSTOMER_GROUP_NOT_FOUND"}}
CHANGE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "VALIDATION_ERROR: also a staff account named (staff join no group)"},
    404: {"description": "CUSTOMER_GROUP_NOT_FOUND, or CUSTOMERS_NOT_FOUND: `details.not_found` lists the ids and "
                         "e-mails no account has; nothing changed"}}


def _read(view: GroupView) -> dict[str, Any]:
    group = view.group
    return {"id": group.id, "storefront": group.storefront, "code": group.code, "name": group.name,
            "members": view.members, "created_at": group.created_at, "updated_at": group.updated_at}


def _change(change: Change) -> MembersChangeRead:
    def one(item: Any) -> MemberChangeRead:
        return MemberChangeRead(id=item.user.id, email=item.user.email, previous_group=item.previous_group)
    return MembersChangeRead(changed=[one(c) for c in change.changed], unchanged=[one(c) for c in change.unchanged])


@router.get("", summary="List customer groups", response_model=CustomerGroupList)
@key_access()
async def list_customer_groups(staff: GroupReader, groups: GroupsReaderDep, storefront: str | None = None) -> Any:
    """Every storefront's groups (or one's: `storefront`), with their member counts."""
    return {"results": [_read(view) for view in await groups.all(storefront, staff)]}


@router.post("", summary="Create a customer group", response_model=CustomerGroupRead,
             status_code=status.HTTP_201_CREATED,
             responses={409: {"description": "CUSTOMER_GROUP_EXISTS: the storefront has a group of this code"}})
@key_access()
async def create_customer_group(data: CustomerGroupCreate, staff: AdminPrincipal, storefront: CurrentStorefront,
                                groups: GroupsDep) -> Any:
    """A group on `storefront` (none: the request's), empty. Price lists may name its `code` once catalog heard of
    it (`customer_group.changed`, within moments)."""
    return _read(await groups.create(data, staff, storefront))


@router.get("/{group_id}", summary="Get a customer group", response_model=CustomerGroupRead, responses=NOT_FOUND)
@key_access()
async def get_customer_group(group_id: uuid.UUID, staff: GroupReader, groups: GroupsReaderDep) -> Any:
    """One group (any storefront's) with its member count."""
    return _read(await groups.get(group_id, staff))


@router.patch("/{group_id}", summary="Rename a customer group", response_model=CustomerGroupRead,
              responses=NOT_FOUND)
@key_access()
async def update_customer_group(group_id: uuid.UUID, data: CustomerGroupUpdate, staff: AdminPrincipal,
                                groups: GroupsDep) -> Any:
    """A new `name`; the `code` stays (price lists and tokens name it)."""
    return _read(await groups.rename(group_id, data, staff))


@router.delete("/{group_id}", summary="Delete a customer group", status_code=status.HTTP_204_NO_CONTENT,
               responses=NOT_FOUND)
@key_access()
async def delete_customer_group(group_id: uuid.UUID, staff: AdminPrincipal, groups: GroupsDep) -> None:
    """The group and its memberships go, even when price lists name it: those lists then price nobody (until a
    group of that code exists again). Its members pay the public prices from their next access token."""
    await groups.delete(group_id, staff)


@router.get("/{group_id}/members", summary="List a customer group's members", response_model=Page[MemberRead],
            responses=NOT_FOUND)
@key_access()
async def list_customer_group_members(request: Request, group_id: uuid.UUID, staff: GroupReader,
                                      groups: GroupsReaderDep, params: PageParamsDep) -> dict[str, Any]:
    """The members, the latest to join first."""
    count, rows = await groups.members(group_id, staff, limit=params.limit, offset=params.offset)
    page: dict[str, Any] = build_page(request, params, count, list(rows))
    return page


@router.post("/{group_id}/members", summary="Add customers to a customer group", response_model=MembersChangeRead,
             responses=CHANGE_ERRORS)
@key_access()
async def add_customer_group_members(group_id: uuid.UUID, data: MembersChange, staff: SupportPrincipal,
                                     groups: GroupsDep) -> Any:
    """One customer or up to 1,000, by id or e-mail, all or nothing. A customer is in one group per storefront:
    one in another group of the storefront leaves it (`previous_group`). Each one's access tokens signed before are
    refused: its next refresh carries the group, and its prices."""
    return _change(await groups.assign(group_id, data.customers, staff))


@router.post("/{group_id}/members/remove", summary="Remove customers from a customer group",
             response_model=MembersChangeRead, responses=CHANGE_ERRORS)
@key_access()
async def remove_customer_group_members(group_id: uuid.UUID, data: MembersChange, staff: SupportPrincipal,
                                        groups: GroupsDep) -> Any:
    """Take customers (by id or e-mail) out of the group, all or nothing; `unchanged`: those not in it."""
    return _change(await groups.unassign(group_id, data.customers, staff))


@router.delete("/{group_id}/members/{user_id}", summary="Remove a customer from a customer group",
               response_model=MembersChangeRead, responses=CHANGE_ERRORS)
@key_access()
async def remove_customer_group_member(group_id: uuid.UUID, user_id: uuid.UUID, staff: SupportPrincipal,
                                       groups: GroupsDep) -> Any:
    """Take one customer out of the group (`unchanged`: it was not in it); its older access tokens are refused."""
    return _change(await groups.unassign_one(group_id, user_id, staff))
