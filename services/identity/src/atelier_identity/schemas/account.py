"""Passwords (reset and change) and the email change."""

from __future__ import annotations

from pydantic import AliasChoices, BaseModel, ConfigDict, EmailStr, Field, ValidationInfo, field_validator

from atelier_identity.schemas._shared import Password, Request
from atelier_identity.schemas.auth import TokenPair
from atelier_identity.schemas.users import UserRead


class _NewPassword(Request):
    new_password: Password
    new_password_confirm: str

    @field_validator("new_password_confirm")
    @classmethod
    def _confirm_matches(cls, value: str, info: ValidationInfo) -> str:
        if "new_password" in info.data and value != info.data["new_password"]:
            raise ValueError("Passwords do not match")
        return value


class PasswordResetConfirm(_NewPassword):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"token": "GM7iTPHJLhQsgW44MDtU7AyNNiT18nHVM7vapuZaiVc", "new_password": "a-new-long-passphrase",
         "new_password_confirm": "a-new-long-passphrase"}]})

    token: str = Field(min_length=1, max_length=200)
    # S1 clients may send `password` / `password_confirm`.
    new_password: Password = Field(validation_alias=AliasChoices("new_password", "password"))
    new_password_confirm: str = Field(validation_alias=AliasChoices("new_password_confirm", "password_confirm"))


class ChangePasswordRequest(_NewPassword):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"current_password": "correct horse battery staple", "new_password": "a-new-long-passphrase",
         "new_password_confirm": "a-new-long-passphrase"}]})

    current_password: Password = Field(validation_alias=AliasChoices("current_password", "old_password"))


class EmailChangeRequest(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"current_password": "correct horse battery staple", "new_email": "ada@lovelace.example"}]})

    current_password: Password = Field(validation_alias=AliasChoices("current_password", "password"))
    new_email: EmailStr = Field(max_length=320, validation_alias=AliasChoices("new_email", "email"))


class EmailChangeConfirmResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"message": "Email address changed. Use it to sign in from now on.",
         "user": {"id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "email": "ada@lovelace.example", "username": None,
          "display_name": None, "first_name": "Ada", "last_name": "Lovelace", "phone": None, "company_name": None,
          "is_business_customer": False, "is_verified": True, "has_password": True, "roles": ["customer"],
          "signup_storefront": "default", "created_at": "2026-11-26T02:15:22.404442Z"}}]})

    message: str
    user: UserRead


class PasswordChangedResponse(TokenPair):
    """Every session ended; the caller gets a fresh one."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"access": "eyJhbGciOiJFZERTQSIsImtpZCI6IjJjMWM5YmUw…",
         "refresh": "Qm9vbGVhbi1yZWZyZXNoLXRva2VuLWV4YW1wbGUtMDE", "token_type": "Bearer", "expires_in": 900,
         "message": "Password changed; every other session has ended."}]})

    message: str
