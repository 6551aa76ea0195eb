"""Passkeys: registering one, signing up and in with it, the account's list."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from atelier_identity.schemas._shared import Request
from atelier_identity.schemas.auth import TokenPair
from atelier_identity.schemas.users import UserRead

DeviceName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class PasskeyRegisterBegin(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "MacBook Touch ID"}]})

    name: DeviceName | None = Field(default=None, validation_alias=AliasChoices("name", "device_name"))


class PasskeySignupBegin(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper"}]})

    email: EmailStr = Field(max_length=320)
    first_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=150)] = ""
    last_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=150)] = ""
    name: DeviceName | None = Field(default=None, validation_alias=AliasChoices("name", "device_name"))


class PasskeyRegisterComplete(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"registration_id": "BFyPY8ge1s_g9LDBMAJRtRXp_EG798kp5fxNPnOGYdc",
         "credential": {"id": "hVd2Qm5tQ3ZrT0xwN3pKcg", "rawId": "hVd2Qm5tQ3ZrT0xwN3pKcg", "type": "public-key",
          "response": {"clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoi…",
           "attestationObject": "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVjF…", "transports": ["internal"]},
          "clientExtensionResults": {}}, "name": "MacBook Touch ID"}]})

    registration_id: str = Field(min_length=1, max_length=200)
    credential: dict[str, Any]
    name: DeviceName | None = Field(default=None, validation_alias=AliasChoices("name", "device_name"))


class PasskeyLoginBegin(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"email": "ada.lovelace@example.com"}]})

    email: EmailStr | None = Field(default=None, max_length=320)


class PasskeyLoginComplete(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"authentication_id": "Xw2T9kq4mVt8bR1nLc6pY3zJ0hF5dA7sE",
         "credential": {"id": "hVd2Qm5tQ3ZrT0xwN3pKcg", "rawId": "hVd2Qm5tQ3ZrT0xwN3pKcg", "type": "public-key",
          "response": {"clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoi…",
           "authenticatorData": "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAAQ", "signature": "MEUCIQDx…",
           "userHandle": "99_IoobZRzqlqlOdzFczCg"}, "clientExtensionResults": {}}}]})

    authentication_id: str = Field(min_length=1, max_length=200)
    credential: dict[str, Any]


class PasskeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    aaguid: str | None
    created_at: datetime
    last_used_at: datetime | None


# The passkeys' examples (the OpenAPI document's).
_PASSKEY_EXAMPLE: dict[str, Any] = {
    "id": "5b0f3c9e-7a41-4d2b-9c8e-2f6a1d3e4b50", "name": "MacBook Touch ID",
    "aaguid": "adce0002-35bc-c60a-648b-0b25f1f05503", "created_at": "2026-11-26T02:16:03.120000Z", "last_used_at": None}


class PasskeyRegistered(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"message": "Passkey registered successfully", "device_name": "MacBook Touch ID",
         "passkey": _PASSKEY_EXAMPLE}]})

    message: str
    device_name: str
    passkey: PasskeyRead


class PasskeySignedUp(PasskeyRegistered):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"message": "Passkey registered successfully", "device_name": "MacBook Touch ID",
         "passkey": _PASSKEY_EXAMPLE,
         "user": {"id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "email": "grace@example.com", "username": None,
          "display_name": None, "first_name": "Grace", "last_name": "Hopper", "phone": None, "company_name": None,
          "is_business_customer": False, "is_verified": False, "has_password": False, "roles": ["customer"],
          "signup_storefront": "default", "created_at": "2026-11-26T02:15:22.404442Z"}}]})

    user: UserRead


class PasskeySignedUpWithTokens(PasskeySignedUp, TokenPair):
    """When `require_verified_email` is off, the new account is signed in at once."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"access": "eyJhbGciOiJFZERTQSIsImtpZCI6IjJjMWM5YmUw…",
         "refresh": "Qm9vbGVhbi1yZWZyZXNoLXRva2VuLWV4YW1wbGUtMDI", "token_type": "Bearer", "expires_in": 900,
         "message": "Passkey registered successfully", "device_name": "MacBook Touch ID",
         "passkey": _PASSKEY_EXAMPLE,
         "user": {"id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "email": "grace@example.com", "username": None,
          "display_name": None, "first_name": "Grace", "last_name": "Hopper", "phone": None, "company_name": None,
          "is_business_customer": False, "is_verified": True, "has_password": False, "roles": ["customer"],
          "signup_storefront": "default", "created_at": "2026-11-26T02:15:22.404442Z"}}]})


class PasskeyList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"count": 1, "next": None, "previous": None,
         "results": [_PASSKEY_EXAMPLE]}]})

    count: int
    next: str | None = None
    previous: str | None = None
    results: list[PasskeyRead]
