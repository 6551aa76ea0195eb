"""Customer groups and their members, as staff keep them (`/api/v1/staff/customer-groups`,
docs/api.md#customer-groups)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from atelier_common.contracts.identity import CUSTOMER_GROUP_PATTERN
from atelier_identity import storefronts
from atelier_identity.schemas._shared import Request

# The most accounts one bulk assignment names.
MAX_BULK_CUSTOMERS = 1000

GroupCode = Annotated[str, StringConstraints(pattern=CUSTOMER_GROUP_PATTERN)]
GroupName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
CustomerEntry = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320)]


class CustomerGroupCreate(Request):
    """A group on `storefront` (none: the request's). Its `code` is what price lists name and the
    token carries: lower case, digits, `-` and `_`, fixed once created."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"storefront": "marbelle", "code": "wholesale", "name": "Wholesale"}]})

    storefront: Annotated[str | None, StringConstraints(pattern=storefronts.SLUG_PATTERN)] = None
    code: GroupCode
    name: GroupName


class CustomerGroupUpdate(Request):
    """A new name (the code stays: price lists name it)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Trade customers"}]})

    name: GroupName


class CustomerGroupRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "2f0e3b9e-5a51-4c1b-9d51-0f6a3c1d2b7e", "storefront": "marbelle", "code": "wholesale",
         "name": "Wholesale", "members": 12, "created_at": "2026-11-30T10:00:00Z",
         "updated_at": "2026-11-30T10:00:00Z"}]})

    id: uuid.UUID
    storefront: str
    code: str
    name: str
    members: int
    created_at: datetime
    updated_at: datetime


class CustomerGroupList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"results": [
        {"id": "2f0e3b9e-5a51-4c1b-9d51-0f6a3c1d2b7e", "storefront": "marbelle", "code": "wholesale",
         "name": "Wholesale", "members": 12, "created_at": "2026-11-30T10:00:00Z",
         "updated_at": "2026-11-30T10:00:00Z"}]}]})

    results: list[CustomerGroupRead]


class MembersChange(Request):
    """Accounts by id or e-mail (one or up to 1,000 at once). All or nothing: one that no account
    has refuses the whole change (404 `CUSTOMERS_NOT_FOUND`, `details.not_found`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"customers": ["ada.lovelace@example.com", "f7dfc8a2-86d9-473a-a5aa-539dcc57330a"]}]})

    customers: list[CustomerEntry] = Field(min_length=1, max_length=MAX_BULK_CUSTOMERS)


class MemberRead(BaseModel):
    """A member as staff list them."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "email": "ada.lovelace@example.com", "first_name": "Ada",
         "last_name": "Lovelace", "company_name": "Analytical Engines Ltd"}]})

    id: uuid.UUID
    email: str | None
    first_name: str
    last_name: str
    company_name: str | None


class MemberChangeRead(BaseModel):
    """One account of a change: `previous_group`, the code of the storefront's group it left to
    join this one (a customer is in one group per storefront)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "email": "ada.lovelace@example.com", "previous_group": "trade"}]})

    id: uuid.UUID
    email: str | None
    previous_group: str | None = None


class MembersChangeRead(BaseModel):
    """What a change did: who joined (or left) the group, and who already was (or was not) in it."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"changed": [{"id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "email": "ada.lovelace@example.com",
                      "previous_group": None}], "unchanged": []}]})

    changed: list[MemberChangeRead]
    unchanged: list[MemberChangeRead]
