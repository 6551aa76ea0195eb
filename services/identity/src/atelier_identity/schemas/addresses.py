"""The address book; S1's fields, with S3's names accepted as aliases."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from atelier_identity import domain
from atelier_identity.schemas._shared import CompanyName, Name, Phone, Request, _blank_to_none

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
ShortLine = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
OptionalText = Annotated[Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)] | None,
                         BeforeValidator(_blank_to_none)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
AddressType = Literal["shipping", "billing", "other"]
State = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)]
PostalCode = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)]
FullName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=301)]
OptionalEmail = Annotated[EmailStr | None, BeforeValidator(_blank_to_none)]


class _AddressFields(Request):
    """S1's fields, S3's names accepted as aliases, plus `type` and `email`."""

    label: Label | None = None
    type: AddressType | None = Field(default=None, validation_alias=AliasChoices("type", "address_type"))
    first_name: Name | None = None
    last_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=150)] | None = None
    # S3 sends one name; it is split into first and last.
    full_name: FullName | None = None
    company: CompanyName = Field(default=None, validation_alias=AliasChoices("company", "company_name"))
    address_line_1: Line | None = Field(default=None, validation_alias=AliasChoices("address_line_1",
                                                                                    "street_address"))
    address_line_2: OptionalText = Field(default=None, validation_alias=AliasChoices("address_line_2",
                                                                                     "apartment"))
    city: ShortLine | None = None
    state: State | None = None
    postal_code: PostalCode | None = Field(default=None, validation_alias=AliasChoices("postal_code", "zip_code"))
    country: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100)] | None = None
    phone: Phone = Field(default=None, validation_alias=AliasChoices("phone", "phone_number"))
    email: OptionalEmail = Field(default=None, max_length=320)
    is_primary: bool | None = Field(default=None, validation_alias=AliasChoices("is_primary", "is_default"))


class AddressCreate(_AddressFields):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"label": "Home", "type": "shipping", "first_name": "Ada", "last_name": "Lovelace",
         "address_line_1": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4JH", "country": "GB",
         "phone": "+442079460000", "email": "ada.lovelace@example.com"}]})

    first_name: Name
    address_line_1: Line = Field(validation_alias=AliasChoices("address_line_1", "street_address"))
    city: ShortLine
    country: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100)]

    @model_validator(mode="before")
    @classmethod
    def _names_from_full_name(cls, value: Any) -> Any:
        if isinstance(value, dict) and not value.get("first_name") and isinstance(value.get("full_name"), str):
            first, last = domain.split_full_name(value["full_name"])
            value = {**value, "first_name": first, "last_name": value.get("last_name") or last}
        return value


class AddressUpdate(_AddressFields):
    """Every field optional (PUT and PATCH both change only what is sent); some cannot be cleared."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"label": "Home", "phone": "+442079460001"}]})

    @field_validator("label", "type", "first_name", "full_name", "address_line_1", "city", "state", "postal_code",
                     "country", "is_primary")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("This field cannot be null")
        return value


class AddressRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "4d4443b5-fdbf-46a2-84d9-5d631e7f9619", "label": "Home", "type": "shipping", "first_name": "Ada",
         "last_name": "Lovelace", "full_name": "Ada Lovelace", "company": None,
         "address_line_1": "12 St James's Square", "address_line_2": None, "city": "London", "state": "",
         "postal_code": "SW1Y 4JH", "country": "GB", "phone": "+442079460000", "email": "ada.lovelace@example.com",
         "is_primary": True, "created_at": "2026-11-26T02:15:23.946854Z",
         "updated_at": "2026-11-26T02:15:23.946854Z"}]})

    id: uuid.UUID
    label: str
    type: str
    first_name: str
    last_name: str
    full_name: str
    company: str | None
    address_line_1: str
    address_line_2: str | None
    city: str
    state: str
    postal_code: str
    country: str
    phone: str | None
    email: str | None
    is_primary: bool
    created_at: datetime
    updated_at: datetime


class InternalAddressRead(AddressRead):
    """For orders' snapshots: S3's names too, and the owner's tax number for the invoice."""

    street_address: str
    apartment: str | None
    owner_tax_number: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _s3_names(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            value = {name: getattr(value, name) for name in AddressRead.model_fields}
        return {**value, "street_address": value["address_line_1"], "apartment": value["address_line_2"]}


class AddressList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"count": 1, "next": None, "previous": None,
         "results": [{"id": "4d4443b5-fdbf-46a2-84d9-5d631e7f9619", "label": "Home", "type": "shipping",
           "first_name": "Ada", "last_name": "Lovelace", "full_name": "Ada Lovelace", "company": None,
           "address_line_1": "12 St James's Square", "address_line_2": None, "city": "London", "state": "",
           "postal_code": "SW1Y 4JH", "country": "GB", "phone": "+442079460000",
           "email": "ada.lovelace@example.com", "is_primary": True, "created_at": "2026-11-26T02:15:23.946854Z",
           "updated_at": "2026-11-26T02:15:23.946854Z"}]}]})

    count: int
    next: str | None = None
    previous: str | None = None
    results: list[AddressRead]
