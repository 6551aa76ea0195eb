"""Request and response models of the identity API. Unknown request fields are ignored."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from email.utils import parseaddr
from itertools import pairwise
from typing import Annotated, Any, Literal

import email_validator
from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from atelier_common.contracts.catalog import TAX_CLASSES, TaxClass
from atelier_common.contracts.identity import (
    ALL_KINDS,
    DEFAULT_GUEST_ACCOUNTS,
    EVERY_COUNTRY,
    TAX_NUMBER_MAX_LENGTH,
    TAX_NUMBER_PATTERN,
    GuestAccounts,
    Storefront,
)
from atelier_common.inputs import InputModel
from atelier_identity import domain, storefronts
from atelier_identity.currencies import ISO_4217_CURRENCIES
from atelier_identity.domain import PASSWORD_MAX_LENGTH, PHONE_PATTERN


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)]
_PhoneText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32,
                                              pattern=f"^{PHONE_PATTERN.pattern}$")]
Phone = Annotated[_PhoneText | None, BeforeValidator(_blank_to_none)]
CompanyName = Annotated[Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None,
                        BeforeValidator(_blank_to_none)]
Password = Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)]
# S4: 3-30 letters, digits, `_`, `.`, `-` (never an `@`: a login name without one is a username).
Username = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_.\-]{3,30}$")] | None
DisplayName = Annotated[Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None,
                        BeforeValidator(_blank_to_none)]


class Request(InputModel):
    # Strict: a number where a string belongs is a 400, not silently converted.
    model_config = ConfigDict(strict=True, extra="ignore")


class UserLookup(Request):
    """Internal: an account by its email address."""

    email: str = Field(min_length=1, max_length=320)


class RegisterRequest(Request):
    """`email`, `first_name` and `last_name` are required, except on a storefront with
    `email_optional` (S0): there a `username` and a password make an account (`AuthService.register`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "email": "ada@example.com", "password": "correct horse battery staple",
        "password_confirm": "correct horse battery staple", "first_name": "Ada", "last_name": "Lovelace"}, {
        "username": "ada_l", "password": "correct horse battery staple",
        "password_confirm": "correct horse battery staple"}]})

    email: Annotated[EmailStr | None, BeforeValidator(_blank_to_none)] = Field(default=None, max_length=320)
    password: Password
    password_confirm: str
    first_name: Annotated[Name | None, BeforeValidator(_blank_to_none)] = None
    last_name: Annotated[Name | None, BeforeValidator(_blank_to_none)] = None
    phone: Phone = None
    company_name: CompanyName = None
    username: Username = None
    display_name: DisplayName = None

    @field_validator("password_confirm")
    @classmethod
    def _confirm_matches(cls, value: str, info: ValidationInfo) -> str:
        if "password" in info.data and value != info.data["password"]:
            raise ValueError("Passwords do not match")
        return value


class LoginRequest(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"email": "ada@example.com", "password": "correct horse battery staple"}]})

    # The email or the username (S4); S3 clients send the email as `username`.
    email: str = Field(min_length=1, max_length=320, validation_alias=AliasChoices("email", "username"))
    password: Password


class RefreshRequest(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"refresh": "PVEJQtEadTfdc_wy0YTvgixftSAvsT6qyk0lUyXDUVY"}]})

    refresh: str | None = Field(default=None, max_length=200)


class TokenRequest(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"token": "GM7iTPHJLhQsgW44MDtU7AyNNiT18nHVM7vapuZaiVc"}]})

    token: str = Field(min_length=1, max_length=200)


class EmailRequest(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"email": "ada.lovelace@example.com"}]})

    email: EmailStr = Field(max_length=320)


class UserUpdate(Request):
    """Profile fields; all optional (PUT and PATCH both update what is sent).

    `email` is not a field here: a changed address must be proven through the email-change flow,
    so an `email` in the body is ignored like any unknown field (S1 ignores it too).
    """

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"first_name": "Ada", "last_name": "Lovelace", "display_name": "Ada"}]})

    first_name: Name | None = None
    last_name: Name | None = None
    phone: Phone = None
    company_name: CompanyName = None
    username: Username = None
    display_name: DisplayName = None

    @field_validator("first_name", "last_name")
    @classmethod
    def _not_null(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("This field cannot be null")
        return value


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "email": "ada.lovelace@example.com", "username": None,
         "display_name": "Ada", "first_name": "Ada", "last_name": "Lovelace", "phone": "+442079460000",
         "company_name": None, "is_business_customer": False, "is_verified": True, "has_password": True,
         "roles": ["customer"], "signup_storefront": "default", "created_at": "2026-11-26T02:15:22.404442Z"}]})

    id: uuid.UUID
    # None: an account registered by username alone (`Storefront.email_optional`) until it adds one.
    email: str | None
    # S4's profile fields, None until chosen.
    username: str | None
    display_name: str | None
    first_name: str
    last_name: str
    phone: str | None
    company_name: str | None
    is_business_customer: bool
    is_verified: bool
    # False for accounts that sign in by passkey, provider or magic link only.
    has_password: bool
    roles: list[str]
    # The storefront the account was created on (read-only: accounts are platform-wide).
    signup_storefront: str
    created_at: datetime


class UserAccessRead(BaseModel):
    """What an account may do now (`/internal/users/{id}/access`): the roles its next token would
    carry and whether it may sign in. A money-moving staff write asks it at the moment it acts."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    is_active: bool
    roles: list[str]


class SubscriptionRead(BaseModel):
    """The user's plan as payments reports it (`GET /subscriptions/current` without its quota)."""

    plan_id: str | None
    tier: str
    status: str | None
    current_period_start: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool


class QuotaRead(BaseModel):
    monthly: int | None
    used: int
    remaining: int | None


class UserProfile(UserRead):
    """`GET /users/me`: the profile with the subscription and quota; both null when payments cannot
    tell them right now."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "email": "ada.lovelace@example.com", "username": None,
         "display_name": None, "first_name": "Ada", "last_name": "Lovelace", "phone": None, "company_name": None,
         "is_business_customer": False, "is_verified": True, "has_password": True, "roles": ["customer"],
         "signup_storefront": "default", "created_at": "2026-11-26T02:15:22.404442Z",
         "subscription": {"plan_id": None, "tier": "free", "status": None, "current_period_start": None,
          "current_period_end": None, "cancel_at_period_end": False},
         "quota": {"monthly": 0, "used": 0, "remaining": 0}}]})

    subscription: SubscriptionRead | None
    quota: QuotaRead | None


class TokenPair(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"access": "eyJhbGciOiJFZERTQSIsImtpZCI6IjJjMWM5YmUw…",
         "refresh": "-sMRvldTPWIyIhGg0NnuWEivgsXhHbnzTYeJ32r5yFM", "token_type": "Bearer", "expires_in": 900}]})

    access: str
    refresh: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Lifetime of the access token in seconds")


class LoginResponse(TokenPair):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"access": "eyJhbGciOiJFZERTQSIsImtpZCI6IjJjMWM5YmUw…",
         "refresh": "PVEJQtEadTfdc_wy0YTvgixftSAvsT6qyk0lUyXDUVY", "token_type": "Bearer", "expires_in": 900,
         "user": {"id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "email": "ada.lovelace@example.com",
          "username": None, "display_name": None, "first_name": "Ada", "last_name": "Lovelace", "phone": None,
          "company_name": None, "is_business_customer": False, "is_verified": True, "has_password": True,
          "roles": ["customer"], "signup_storefront": "default", "created_at": "2026-11-26T02:15:22.404442Z"}}]})

    user: UserRead


class RegisterResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"message": "Registered. Check your email to verify your account.",
         "user": {"id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "email": "ada.lovelace@example.com",
          "username": None, "display_name": None, "first_name": "Ada", "last_name": "Lovelace", "phone": None,
          "company_name": None, "is_business_customer": False, "is_verified": False, "has_password": True,
          "roles": ["customer"], "signup_storefront": "default", "created_at": "2026-11-26T02:15:22.404442Z"}}]})

    message: str
    user: UserRead


class RegisterResponseWithTokens(RegisterResponse, TokenPair):
    """When `require_verified_email` is off, registration signs the user in at once."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"access": "eyJhbGciOiJFZERTQSIsImtpZCI6IjJjMWM5YmUw…",
         "refresh": "Qm9vbGVhbi1yZWZyZXNoLXRva2VuLWV4YW1wbGUtMDM", "token_type": "Bearer", "expires_in": 900,
         "message": "Registered.",
         "user": {"id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "email": "ada.lovelace@example.com",
          "username": None, "display_name": None, "first_name": "Ada", "last_name": "Lovelace", "phone": None,
          "company_name": None, "is_business_customer": False, "is_verified": False, "has_password": True,
          "roles": ["customer"], "signup_storefront": "default", "created_at": "2026-11-26T02:15:22.404442Z"}}]})


class VerifyEmailResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"message": "Email verified.",
         "user": {"id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "email": "ada.lovelace@example.com",
          "username": None, "display_name": None, "first_name": "Ada", "last_name": "Lovelace", "phone": None,
          "company_name": None, "is_business_customer": False, "is_verified": True, "has_password": True,
          "roles": ["customer"], "signup_storefront": "default", "created_at": "2026-11-26T02:15:22.404442Z"}}]})

    message: str
    user: UserRead


class VerifyTokenResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"valid": True, "user_id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "expires_at": "2026-11-26T02:30:22Z"}]})

    valid: bool
    user_id: uuid.UUID
    expires_at: datetime


class MessageResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"message": "If this account exists and is not verified yet, a new link is on its way."}]})

    message: str


class MailboxMessage(BaseModel):
    """A mail the dev mailbox captured."""

    model_config = ConfigDict(populate_by_name=True)

    id: uuid.UUID
    to: str
    # The From it was sent with: the storefront's sender.
    from_: str = Field(alias="from")
    subject: str
    text: str
    html: str
    sent_at: datetime | None


class Mailbox(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"results": [{"id": "ac02b552-7ed7-4fd9-b690-cf2b1a61a3f6", "to": "ada.lovelace@example.com",
           "from": "Atelier <no-reply@atelier.example>", "subject": "Confirm your email address",
           "text": "Hello Ada,\n\nPlease confirm your email address by opening this link:\nhttp://localhost:3000/verify-email?token=GM7iTPHJLhQsgW44MDtU7AyNNiT18nHVM7vapuZaiVc\n\nOr enter this code: GM7iTPHJLhQsgW44MDtU7AyNNiT18nHVM7vapuZaiVc\n\nThe link is valid for 24 hours. If you did not create an account, ignore this mail.\n",
           "html": "<p>Hello Ada,</p><p>Please confirm your email address: <a href=\"http://localhost:3000/verify-email?token=GM7iTPHJLhQsgW44MDtU7AyNNiT18nHVM7vapuZaiVc\">verify my email</a>.</p><p>Or enter this code: <code>GM7iTPHJLhQsgW44MDtU7AyNNiT18nHVM7vapuZaiVc</code></p><p>The link is valid for 24 hours. If you did not create an account, ignore this mail.</p>",
           "sent_at": "2026-11-26T02:15:22.433400Z"}]}]})

    results: list[MailboxMessage]


# -- passwords and email change ----------------------------------------------------------------


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


class DeleteAccountRequest(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"password": "correct horse battery staple"}]})

    password: Password | None = None
    confirm: str | None = Field(default=None, max_length=20)


class PasswordChangedResponse(TokenPair):
    """Every session ended; the caller gets a fresh one."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"access": "eyJhbGciOiJFZERTQSIsImtpZCI6IjJjMWM5YmUw…",
         "refresh": "Qm9vbGVhbi1yZWZyZXNoLXRva2VuLWV4YW1wbGUtMDE", "token_type": "Bearer", "expires_in": 900,
         "message": "Password changed; every other session has ended."}]})

    message: str


# -- magic links ---------------------------------------------------------------------------------


class MagicLinkVerify(Request):
    """Either the link's `token`, or the `email` and its 6-digit `code` (S4)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"email": "ada.lovelace@example.com", "code": "468216"}]})

    email: EmailStr | None = Field(default=None, max_length=320)
    code: str | None = Field(default=None, max_length=12)
    token: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _token_or_code(self) -> MagicLinkVerify:
        if self.token is None and (self.email is None or self.code is None):
            raise ValueError("Send the token of the link, or the email and its code")
        return self


class CheckUserResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"exists": True}]})

    exists: bool


class SignInResponse(LoginResponse):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"access": "eyJhbGciOiJFZERTQSIsImtpZCI6IjJjMWM5YmUw…",
         "refresh": "AFa7gXZYQA_hlLczh4E7LAVC1i2_Jszabjlpudyu_tk", "token_type": "Bearer", "expires_in": 900,
         "user": {"id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "email": "ada.lovelace@example.com",
          "username": None, "display_name": "Ada", "first_name": "Ada", "last_name": "Lovelace",
          "phone": "+442079460000", "company_name": None, "is_business_customer": False, "is_verified": True,
          "has_password": True, "roles": ["customer"], "signup_storefront": "default",
          "created_at": "2026-11-26T02:15:22.404442Z"}, "created": False}]})

    # True when this sign-in created the account (magic link, passkey signup).
    created: bool = False


class MagicLinkRepeated(BaseModel):
    """The right magic code again, just after it signed in: acknowledged, no new session, and
    nothing about the account (whoever replays a code read off a screen or a log learns nothing)."""

    repeated: bool = True
    message: str = "This code has just signed in; it works once."


# -- OAuth ---------------------------------------------------------------------------------------


class OAuthStartRequest(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"return_to": "https://shop.example.com/account"}]})

    return_to: str | None = Field(default=None, max_length=2000)


class OAuthStartResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"auth_url": "https://accounts.google.com/o/oauth2/v2/auth?client_id=atelier&response_type=code&scope=openid+email+profile&redirect_uri=http%3A%2F%2Flocalhost%3A8000%2Fapi%2Fv1%2Fauth%2Foauth%2Fgoogle%2Fcallback&state=Yk3v…"}]})

    auth_url: str


class OAuthExchangeRequest(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"ticket": "kT3x9vQ2mB7nR4sL8pW1yZ6cF0hJ5dA"}]})

    ticket: str = Field(min_length=1, max_length=200)


class AccessResponse(BaseModel):
    """S2's exchange: the refresh token travels only in the HttpOnly cookie."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"access": "eyJhbGciOiJFZERTQSIsImtpZCI6IjJjMWM5YmUw…", "token_type": "Bearer", "expires_in": 900,
         "user": {"id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "email": "ada.lovelace@example.com",
          "username": None, "display_name": None, "first_name": "Ada", "last_name": "Lovelace", "phone": None,
          "company_name": None, "is_business_customer": False, "is_verified": True, "has_password": True,
          "roles": ["customer"], "signup_storefront": "default", "created_at": "2026-11-26T02:15:22.404442Z"}}]})

    access: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    user: UserRead


# -- passkeys ------------------------------------------------------------------------------------

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


# -- addresses -----------------------------------------------------------------------------------

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
    """For orders' snapshots: S3's names too."""

    street_address: str
    apartment: str | None

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


# -- storefronts (staff; identity owns them) --------------------------------------------------------

def _currency(value: str) -> str:
    code = value.strip().upper()
    if code not in ISO_4217_CURRENCIES:
        raise ValueError("Not an ISO 4217 currency code")
    return code


def _distinct_origins(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _sells(values: list[str]) -> list[str]:
    unknown = [kind for kind in values if kind not in ALL_KINDS]
    if unknown:
        raise ValueError(f"Unknown product kinds {unknown}; the kinds are {', '.join(ALL_KINDS)}")
    if not values:
        raise ValueError("A storefront sells at least one kind of product")
    return list(dict.fromkeys(values))


def _link_paths(values: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(values) - storefronts.LINK_NAMES)
    if unknown:
        raise ValueError(f"Unknown links {unknown}; the links are {', '.join(sorted(storefronts.LINK_NAMES))}")
    return values


def _mail_from(value: str) -> str:
    value = value.strip()
    if any(ord(ch) < 32 for ch in value):
        raise ValueError("A sender must not contain line breaks or control characters")
    _, address = parseaddr(value)
    try:
        email_validator.validate_email(address, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        raise ValueError(f'A sender is an address or "Name <address>": {exc}') from exc
    return value


def _two_places(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.01"))


def _not_null(value: object) -> object:
    if value is None:
        raise ValueError("This field cannot be null")
    return value


Slug = Annotated[str, StringConstraints(pattern=storefronts.SLUG_PATTERN)]
StorefrontName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Origin = Annotated[str, StringConstraints(max_length=storefronts.URL_MAX_LENGTH),
                   AfterValidator(storefronts.normalise_origin)]
Origins = Annotated[list[Origin], Field(max_length=20), AfterValidator(_distinct_origins)]
AbsoluteUrl = Annotated[str, StringConstraints(max_length=storefronts.URL_MAX_LENGTH + 10),
                        AfterValidator(storefronts.check_url)]
LinkPath = Annotated[str, AfterValidator(storefronts.check_link_path)]
LinkPaths = Annotated[dict[str, LinkPath], AfterValidator(_link_paths)]
MailFrom = Annotated[str, StringConstraints(max_length=320), AfterValidator(_mail_from)]
Currency = Annotated[str, StringConstraints(min_length=3, max_length=3), AfterValidator(_currency)]
Sells = Annotated[list[str], Field(max_length=20), AfterValidator(_sells)]
TaxRate = Annotated[Decimal, Field(strict=False, ge=0, lt=1, decimal_places=6, allow_inf_nan=False)]
ShippingRate = Annotated[Decimal, Field(strict=False, ge=0, max_digits=12, decimal_places=2, allow_inf_nan=False)]


def _tax_rates(rates: dict[str, Decimal] | None) -> dict[str, Decimal] | None:
    """The rates of the tax classes with their own: only known classes, and not `standard` (that
    one is the `rate` beside)."""
    for name in rates or {}:
        if name == TaxClass.STANDARD:
            raise ValueError("the standard class's rate is `rate` (a zone's `tax_rate`), not one of `tax_rates`")
        if name not in TAX_CLASSES:
            raise ValueError(f"{name!r} is not a tax class: {', '.join(TAX_CLASSES)}")
    return rates


TaxRates = Annotated[dict[str, TaxRate], AfterValidator(_tax_rates)]
StatementDescriptor = Annotated[str, StringConstraints(max_length=100),
                                AfterValidator(storefronts.check_statement_descriptor)]
RpId = Annotated[str, StringConstraints(max_length=253), AfterValidator(storefronts.check_rp_id)]
CompatProfile = Literal["storybook", "marbelle", "reviv", "shop", "figureforge"]


class StorefrontTaxIn(Request):
    rate: TaxRate = Decimal("0")
    # True: prices include tax; false: the rate is added on the tax-exclusive kinds.
    inclusive: bool = False
    # What shipping one order costs; null: the orders service's own shipping cost.
    shipping_rate: Annotated[ShippingRate | None, AfterValidator(_two_places)] = Field(default=None, description=(
        "Empty: the orders service's shipping_cost (5.00 unless configured)."))
    # Whether that charge is taxed with the goods (a storefront without zones; each zone says its own).
    shipping_taxed: bool = False
    # The rate of each tax class with its own ({"reduced": "0.055"}); the others: `rate` (zero: 0).
    tax_rates: TaxRates = {}


class StorefrontTaxUpdate(Request):
    """Tax in a PATCH: the fields sent replace the current ones, the others stay."""

    rate: Annotated[TaxRate | None, AfterValidator(_not_null)] = None
    inclusive: Annotated[bool | None, AfterValidator(_not_null)] = None
    shipping_rate: Annotated[ShippingRate | None, AfterValidator(_two_places)] = None
    shipping_taxed: Annotated[bool | None, AfterValidator(_not_null)] = None
    # Replaces the classes' rates as a whole.
    tax_rates: Annotated[TaxRates | None, AfterValidator(_not_null)] = None


# -- shipping zones (#56; docs/storefronts.md#shipping-zones) -------------------------------------

ShippingCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
ShippingName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


def _country(value: str) -> str:
    value = value.strip().upper()
    if value != EVERY_COUNTRY and not (len(value) == 2 and value.isascii() and value.isalpha()):
        raise ValueError(f'{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. "US"), nor "*"')
    return value


def _region(value: str) -> str:
    value = value.strip().upper()
    country, _, subdivision = value.partition("-")
    if not (len(country) == 2 and country.isalpha() and 1 <= len(subdivision) <= 3 and subdivision.isalnum()
            and value.isascii()):
        raise ValueError(f'{value!r} is not an ISO 3166-2 region code (e.g. "US-CA")')
    return value


Country = Annotated[str, StringConstraints(max_length=2 + 1), AfterValidator(_country)]
Region = Annotated[str, StringConstraints(max_length=6 + 1), AfterValidator(_region)]


class ShippingTierIn(Request):
    # From this weight in grams (by weight) or this subtotal (by subtotal) up; the first tier is 0.
    min: Annotated[ShippingRate, AfterValidator(_two_places)]
    amount: Annotated[ShippingRate, AfterValidator(_two_places)]


class ShippingMethodIn(Request):
    # None: derived from the zone's id and the code (uuid5), stable across edits.
    id: uuid.UUID | None = None
    code: ShippingCode
    name: ShippingName
    # flat: `amount`; weight / subtotal: the tier the shipped lines' weight (grams) / subtotal reaches.
    kind: Literal["flat", "weight", "subtotal"] = "flat"
    amount: Annotated[ShippingRate, AfterValidator(_two_places)] = Decimal("0.00")
    tiers: Annotated[list[ShippingTierIn], Field(max_length=50)] = []
    # A shipped subtotal at or above it ships free.
    free_over: Annotated[ShippingRate | None, AfterValidator(_two_places)] = None

    @model_validator(mode="after")
    def _tiers_fit_the_kind(self) -> ShippingMethodIn:
        if self.kind == "flat":
            if self.tiers:
                raise ValueError(f"method {self.code!r}: a flat method has an amount, no tiers")
            return self
        if self.amount:
            raise ValueError(f"method {self.code!r}: a {self.kind} method is priced by its tiers, not an amount")
        mins = [tier.min for tier in self.tiers]
        if not mins or mins[0] != 0:
            raise ValueError(f"method {self.code!r}: the tiers start at 0 (min 0), so every order is priced")
        if any(later <= earlier for earlier, later in pairwise(mins)):
            raise ValueError(f"method {self.code!r}: the tiers' min grow strictly")
        if self.kind == "weight" and any(value != value.to_integral_value() for value in mins):
            raise ValueError(f"method {self.code!r}: weight tiers start at whole grams")
        return self


class ShippingZoneIn(Request):
    # None: derived from the code (uuid5), stable across edits.
    id: uuid.UUID | None = None
    code: ShippingCode
    name: ShippingName
    countries: Annotated[list[Country], Field(max_length=300)] = []
    regions: Annotated[list[Region], Field(max_length=300)] = []
    # Replaces the storefront's `tax.rate` for addresses in the zone; null: the storefront's.
    tax_rate: TaxRate | None = None
    # Overrides the storefront's `tax.inclusive` there; null: the storefront's.
    tax_inclusive: bool | None = None
    # Whether shipping there is taxed with the goods; null: it is when the zone taxes goods (rate > 0).
    shipping_taxed: bool | None = None
    # Its tax classes' rates; null: the storefront's (none where the zone's rate is 0).
    tax_rates: TaxRates | None = None
    # Offered in this order; the first is the default. None: the zone is taxed but not shipped to.
    methods: Annotated[list[ShippingMethodIn], Field(max_length=20)] = []

    @model_validator(mode="after")
    def _covers_somewhere(self) -> ShippingZoneIn:
        if not self.countries and not self.regions:
            raise ValueError(f"zone {self.code!r}: name its countries or regions")
        codes = [method.code for method in self.methods]
        if len(set(codes)) != len(codes):
            raise ValueError(f"zone {self.code!r}: method codes are unique in a zone")
        self.countries, self.regions = list(dict.fromkeys(self.countries)), list(dict.fromkeys(self.regions))
        return self


def _zones(zones: list[ShippingZoneIn]) -> list[ShippingZoneIn]:
    """Zone codes are unique, and a country (or region, or "*") is in one zone at most, so an address
    has one most specific zone."""
    codes = [zone.code for zone in zones]
    if twice := sorted({code for code in codes if codes.count(code) > 1}):
        raise ValueError(f"zone codes are unique: {', '.join(twice)} used twice")
    zone_of: dict[str, str] = {}
    for zone in zones:
        for place in (*zone.countries, *zone.regions):
            if place in zone_of:
                raise ValueError(f"{place} is in zones {zone_of[place]!r} and {zone.code!r}: a place is in one zone")
            zone_of[place] = zone.code
    return zones


ShippingZones = Annotated[list[ShippingZoneIn], Field(max_length=50), AfterValidator(_zones)]


# -- the staff routes of zones and methods (/api/v1/staff/shipping-zones, docs/api.md) -------------

ShippingPrice = Annotated[ShippingRate, AfterValidator(_two_places)]


class ShippingZoneWrite(Request):
    """A zone's fields as staff send them (PATCH: only those sent change)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "United States", "tax_inclusive": True}]})

    name: ShippingName | None = None
    countries: Annotated[list[Country], Field(max_length=300)] | None = None
    regions: Annotated[list[Region], Field(max_length=300)] | None = None
    tax_rate: TaxRate | None = None
    tax_inclusive: bool | None = None
    # Whether shipping there is taxed with the goods; null: it is when the zone taxes goods (rate > 0).
    shipping_taxed: bool | None = None
    # Its tax classes' rates ({"reduced": "0.055"}), replaced as a whole; null: the storefront's.
    tax_rates: TaxRates | None = None


class ShippingZoneCreate(ShippingZoneWrite):
    model_config = ConfigDict(json_schema_extra={"examples": [{"storefront": "default", "name": "United States", "countries": ["US"], "tax_rate": "0.0725"}]})

    # The storefront it belongs to; none: the request's.
    storefront: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = None
    name: ShippingName
    countries: Annotated[list[Country], Field(max_length=300)] = []
    regions: Annotated[list[Region], Field(max_length=300)] = []


class ShippingMethodWrite(Request):
    """A method as staff send it: `price` for a flat method; `rates` (`[{min, amount}]`, from 0 up)
    for a weight or subtotal one (a tiered method sent with only a `price` costs that everywhere)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"price": "6.50"}]})

    name: ShippingName | None = None
    kind: Literal["flat", "weight", "subtotal"] | None = None
    price: ShippingPrice | None = None
    free_over: ShippingPrice | None = None
    rates: Annotated[list[ShippingTierIn], Field(max_length=50)] | None = None


class ShippingMethodCreate(ShippingMethodWrite):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "By weight", "kind": "weight", "price": "5", "free_over": "100", "rates": [{"min": "0", "amount": "5"}, {"min": "2000", "amount": "9.50"}]}]})

    name: ShippingName
    kind: Literal["flat", "weight", "subtotal"] = "flat"


class ShippingMethodRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id": "77a08bc9-02da-53a5-9768-4935e68b17a8", "name": "Standard", "kind": "flat", "price": "5.00", "free_over": "100.00", "rates": []}]})

    id: uuid.UUID
    name: str
    kind: str
    price: Decimal
    free_over: Decimal | None
    rates: list[dict[str, Decimal]]


class ShippingZoneRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id": "f5c1c9b6-d86a-5557-b8a6-af57bf0d105f", "storefront": "default", "currency": "USD", "name": "United States", "countries": ["US"], "regions": [], "tax_rate": "0.0725", "tax_inclusive": None, "methods": [{"id": "77a08bc9-02da-53a5-9768-4935e68b17a8", "name": "Standard", "kind": "flat", "price": "5.00", "free_over": "100.00", "rates": []}]}]})

    id: uuid.UUID
    storefront: str
    currency: str = Field(description="The storefront's currency: the methods' prices are in it")
    name: str
    countries: list[str]
    regions: list[str]
    tax_rate: Decimal | None
    tax_inclusive: bool | None
    shipping_taxed: bool | None = None
    tax_rates: dict[str, Decimal] | None = None
    methods: list[ShippingMethodRead]


class ShippingZoneList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"results": [{"id": "f5c1c9b6-d86a-5557-b8a6-af57bf0d105f", "storefront": "default", "currency": "USD", "name": "United States", "countries": ["US"], "regions": [], "tax_rate": "0.0725", "tax_inclusive": None, "methods": [{"id": "77a08bc9-02da-53a5-9768-4935e68b17a8", "name": "Standard", "kind": "flat", "price": "5.00", "free_over": "100.00", "rates": []}]}]}]})

    results: list[ShippingZoneRead]


def _alert_email(value: str) -> str:
    try:
        return email_validator.validate_email(value.strip(), check_deliverability=False).normalized
    except email_validator.EmailNotValidError as exc:
        raise ValueError(f"Not an email address: {exc}") from exc


def _no_emails(values: list[str] | None) -> list[str]:
    """Null is no alert address (the contract's empty list)."""
    return list(dict.fromkeys(values or []))


AlertEmail = Annotated[str, StringConstraints(max_length=320), AfterValidator(_alert_email)]


class StorefrontPoliciesIn(Request):
    """The storefront's own rules (docs/storefronts.md#policies); null: the install's setting. In
    a PATCH the fields sent replace the current ones, the others stay."""

    # Each description says what an empty field (null) falls back to: the console shows it as the
    # field's help (docs/storefronts.md#policies has the whole table).
    # Minutes an access token issued here lives (a day at most).
    access_token_minutes: Annotated[int, Field(ge=1, le=1440)] | None = Field(default=None, description=(
        "Empty: the install's lifetime, identity's access_token_ttl_minutes (15 minutes unless configured)."))
    password_policy: Literal["length", "strict"] | None = Field(default=None, description=(
        "Empty: the install's rule: 8 characters at least, not all digits, not the email."))
    # The most of one product a cart line holds; 0: no cap but stock.
    cart_line_limit: Annotated[int, Field(ge=0, le=100_000)] | None = Field(default=None, description=(
        "Empty: the cart's own cap, 99 of one product a line."))
    # Minutes an (account, client address) pair waits after too many failed passwords (a day at most).
    signin_lockout_minutes: Annotated[int, Field(ge=1, le=1440)] | None = Field(default=None, description=(
        "Empty: the window of identity's sign_in_failures_per_account_and_ip (15 minutes unless configured)."))
    registrations_per_hour_per_ip: Annotated[int, Field(ge=1, le=100_000)] | None = Field(default=None, description=(
        "Empty: no hourly limit of its own; the gateway's rate_limit_credentials_per_ip "
        "(100 a minute unless configured) still applies."))
    anonymous_requests_per_minute: Annotated[int, Field(ge=1, le=1_000_000)] | None = Field(default=None, description=(
        "Empty: the gateway's rate_limit_per_ip (3000 a minute unless configured)."))
    customer_requests_per_minute: Annotated[int, Field(ge=1, le=1_000_000)] | None = Field(default=None, description=(
        "Empty: the gateway's rate_limit_default (1000 an hour unless configured)."))
    passkey_signup_signs_in: bool | None = Field(default=None, description=(
        "Empty: identity's require_verified_email decides (unless configured, the account waits for its "
        "confirmed address)."))
    low_stock_threshold: Annotated[int, Field(ge=0, le=1_000_000)] | None = Field(default=None, description=(
        "Empty: no low-stock alerts."))
    alert_emails: Annotated[list[AlertEmail] | None, Field(max_length=20), AfterValidator(_no_emails)] = Field(
        default=[], description="Empty: no low-stock mail is sent.")
    tracking_number_required: bool | None = Field(default=None, description=(
        "Empty: an order may ship without a tracking number."))


def _one_line(value: str) -> str:
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("One line: no line breaks or control characters")
    return value


def _tax_number(value: str) -> str:
    if not re.fullmatch(TAX_NUMBER_PATTERN, value):
        raise ValueError("A tax number has letters, digits, spaces, dashes and dots only")
    return value


LegalLine = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                      AfterValidator(_one_line)]
TaxNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TAX_NUMBER_MAX_LENGTH),
                      AfterValidator(_tax_number)]
RegistrationNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
                               AfterValidator(_one_line)]


class StorefrontLegalIn(Request):
    """The legal entity selling on the storefront, printed on its invoices and credit notes. In a
    PATCH the block sent replaces the current one whole; null removes it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "Atelier Trading Ltd", "address": ["12 Harbour Street", "Leith EH6 6QB", "United Kingdom"],
        "tax_number": "GB 123 4567 89", "registration_number": "SC123456", "email": "accounts@atelier.example"}]})

    # The registered name, printed as the seller (else the storefront's `name`).
    name: LegalLine
    # The registered address, one line each (street, postal code and city, country), printed in order.
    address: Annotated[list[LegalLine], Field(max_length=6)] = []
    # The VAT or tax id; null: none printed.
    tax_number: TaxNumber | None = None
    # The company registration number, where the law asks invoices to show it.
    registration_number: RegistrationNumber | None = None
    email: Annotated[AlertEmail | None, BeforeValidator(_blank_to_none)] = None


class StorefrontPasskeyIn(Request):
    rp_id: RpId
    origins: Origins = []


class StorefrontCreate(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "slug": "marbelle", "name": "Marbelle", "origins": ["https://marbelle.example"],
        "frontend_url": "https://marbelle.example", "mail_from": "Marbelle <no-reply@marbelle.example>",
        "currency": "USD", "tax": {"rate": "0.09", "inclusive": False}, "sells": ["physical"],
        "passkey": {"rp_id": "marbelle.example", "origins": ["https://marbelle.example"]},
        "compat_profile": "marbelle", "compat_at_root": True, "policies": {"access_token_minutes": 60}}]})

    slug: Slug
    name: StorefrontName
    origins: Origins = []
    frontend_url: AbsoluteUrl
    # Merged over the platform's own paths: a link not given keeps its default.
    link_paths: LinkPaths = {}
    mail_from: MailFrom | None = None
    currency: Currency = "USD"
    tax: StorefrontTaxIn = StorefrontTaxIn()
    sells: Sells = list(ALL_KINDS)
    passkey: StorefrontPasskeyIn | None = None
    statement_descriptor: StatementDescriptor | None = None
    success_url: AbsoluteUrl | None = None
    cancel_url: AbsoluteUrl | None = None
    compat_profile: CompatProfile | None = None
    # True: its origins' calls to the paths `compat_profile` routes are served by it at the root
    # (the frontend's own base URL); the other paths stay native.
    compat_at_root: bool = False
    # True: accounts made or signing in here need no verified email (S0 logs the new customer in).
    verified_email_optional: bool = False
    policies: StorefrontPoliciesIn = StorefrontPoliciesIn()
    # True: a username and a password make an account here, no email needed (S0).
    email_optional: bool = False
    # Whether a guest's paid order registers its buyer: "create" every one (S0), "offer" only when
    # the buyer asked at checkout (`POST /orders`' `create_account`), "never".
    guest_accounts: GuestAccounts = DEFAULT_GUEST_ACCOUNTS
    # Where it ships, by which methods, and the tax there; none: `tax.shipping_rate` and `tax.rate`.
    shipping_zones: ShippingZones = []
    # Who sells, as invoices name the seller; none: the storefront's `name` alone.
    legal: StorefrontLegalIn | None = None
    is_default: bool = False

    @field_validator("passkey")
    @classmethod
    def _rp_id_covers_its_origins(cls, passkey: StorefrontPasskeyIn | None,
                                  info: ValidationInfo) -> StorefrontPasskeyIn | None:
        """The passkey relying party is the host of each origin a passkey is used on, or a parent
        domain of it (WebAuthn); without origins, the frontend's."""
        if passkey is None or (not passkey.origins and "frontend_url" not in info.data):
            return passkey
        origins = passkey.origins or [info.data["frontend_url"]]
        hosts = [storefronts.origin_host(origin) for origin in origins]
        wrong = [host for host in hosts if not storefronts.rp_id_covers(passkey.rp_id, host)]
        if wrong:
            raise ValueError(f"rp_id {passkey.rp_id!r} is neither the host nor a registrable parent domain of "
                             f"{', '.join(wrong)}")
        return passkey

    @model_validator(mode="after")
    def _root_needs_a_profile(self) -> StorefrontCreate:
        if self.compat_at_root and self.compat_profile is None:
            raise ValueError("compat_at_root needs a compat_profile")
        return self


class StorefrontUpdate(Request):
    """A PATCH: every field optional, what is sent replaces the current value (`tax`, `link_paths`
    and `policies` field by field); null clears the optional ones. The slug cannot change."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "Fox & Co Prints"},
        {"policies": {"password_policy": "strict", "signin_lockout_minutes": 15, "access_token_minutes": None}},
        {"guest_accounts": "never"}]})

    slug: str | None = None
    name: Annotated[StorefrontName | None, AfterValidator(_not_null)] = None
    origins: Annotated[Origins | None, AfterValidator(_not_null)] = None
    frontend_url: Annotated[AbsoluteUrl | None, AfterValidator(_not_null)] = None
    link_paths: Annotated[LinkPaths | None, AfterValidator(_not_null)] = None
    mail_from: MailFrom | None = None
    currency: Annotated[Currency | None, AfterValidator(_not_null)] = None
    tax: Annotated[StorefrontTaxUpdate | None, AfterValidator(_not_null)] = None
    sells: Annotated[Sells | None, AfterValidator(_not_null)] = None
    passkey: StorefrontPasskeyIn | None = None
    statement_descriptor: StatementDescriptor | None = None
    success_url: AbsoluteUrl | None = None
    cancel_url: AbsoluteUrl | None = None
    compat_profile: CompatProfile | None = None
    compat_at_root: Annotated[bool | None, AfterValidator(_not_null)] = None
    verified_email_optional: Annotated[bool | None, AfterValidator(_not_null)] = None
    # Field by field, like `tax`: a field sent null is the install's setting again.
    policies: Annotated[StorefrontPoliciesIn | None, AfterValidator(_not_null)] = None
    email_optional: Annotated[bool | None, AfterValidator(_not_null)] = None
    guest_accounts: Annotated[GuestAccounts | None, AfterValidator(_not_null)] = None
    # The whole list: what is sent replaces every zone ([] removes them).
    shipping_zones: Annotated[ShippingZones | None, AfterValidator(_not_null)] = None
    # The whole block: what is sent replaces the current one; null removes it.
    legal: StorefrontLegalIn | None = None
    is_default: Annotated[bool | None, AfterValidator(_not_null)] = None


class StorefrontRead(Storefront):
    """A storefront's whole record, as every service reads it (`contracts.identity.Storefront`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"slug": "prints", "name": "Fox Prints", "origins": ["https://prints.example.com"],
         "frontend_url": "https://prints.example.com",
         "link_paths": {"verify_email": "/verify-email?token={token}",
          "reset_password": "/reset-password?token={token}",
          "magic_link": "/magic-link?token={token}&email={email}",
          "email_change": "/confirm-email-change?token={token}", "order": "/orders/{order_id}",
          "set_password": "/set-password?token={token}"}, "mail_from": None, "currency": "EUR",
         "tax": {"rate": "0", "inclusive": False, "shipping_rate": None},
         "sells": ["physical", "credit_pack", "retry_pack", "subscription_plan", "print_tier"], "passkey": None,
         "statement_descriptor": None, "success_url": None, "cancel_url": None, "compat_profile": None,
         "compat_at_root": False, "verified_email_optional": False, "email_optional": False,
         "guest_accounts": "offer",
         "policies": {"access_token_minutes": 60, "password_policy": "strict", "cart_line_limit": None,
          "signin_lockout_minutes": None, "registrations_per_hour_per_ip": None,
          "anonymous_requests_per_minute": None, "customer_requests_per_minute": None,
          "passkey_signup_signs_in": None, "low_stock_threshold": None, "alert_emails": [],
            "tracking_number_required": None},
         "legal": {"name": "Fox Prints GmbH", "address": ["Hafenstraße 12", "20457 Hamburg", "Germany"],
          "tax_number": "DE123456789", "registration_number": "HRB 123456", "email": "accounts@prints.example.com"},
         "is_default": False, "revision": 1795659340609926}]})


class StorefrontList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"count": 6, "next": None, "previous": None,
         "results": [{"slug": "default", "name": "Atelier", "origins": [], "frontend_url": "http://localhost:3000",
           "link_paths": {"verify_email": "/verify-email?token={token}",
            "reset_password": "/reset-password?token={token}",
            "magic_link": "/magic-link?token={token}&email={email}",
            "email_change": "/confirm-email-change?token={token}", "order": "/orders/{order_id}",
            "set_password": "/set-password?token={token}"}, "mail_from": "Atelier <no-reply@atelier.example>",
           "currency": "USD", "tax": {"rate": "0.09", "inclusive": False, "shipping_rate": None},
           "sells": ["physical", "credit_pack", "retry_pack", "subscription_plan", "print_tier"],
           "passkey": {"rp_id": "localhost", "origins": ["http://localhost:3000"]}, "statement_descriptor": None,
           "success_url": None, "cancel_url": None, "compat_profile": None, "compat_at_root": False,
           "verified_email_optional": False, "email_optional": False, "guest_accounts": "offer",
           "policies": {"access_token_minutes": None, "password_policy": None, "cart_line_limit": None,
            "signin_lockout_minutes": None, "registrations_per_hour_per_ip": None,
            "anonymous_requests_per_minute": None, "customer_requests_per_minute": None,
            "passkey_signup_signs_in": None, "low_stock_threshold": None, "alert_emails": [],
            "tracking_number_required": None},
           "is_default": True, "revision": 0}]}]})

    count: int
    next: str | None = None
    previous: str | None = None
    results: list[StorefrontRead]


class PublicTax(BaseModel):
    rate: Decimal
    inclusive: bool
    # The rates of the tax classes with their own (a product's `tax_class`).
    tax_rates: dict[str, Decimal] = {}


class PublicStorefront(BaseModel):
    """What a client needs of the storefront it is on (public)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"slug": "default", "name": "Atelier", "currency": "USD", "tax": {"rate": "0.09", "inclusive": False, "tax_rates": {}},
         "sells": ["physical", "credit_pack", "retry_pack", "subscription_plan", "print_tier"],
         "auth_methods": ["password", "magic_link", "passkey"], "guest_accounts": "offer"}]})

    slug: str
    name: str
    currency: str
    tax: PublicTax
    sells: list[str]
    auth_methods: list[str]
    # What a guest's checkout page offers (docs/storefronts.md#guest-accounts): "offer" a box that
    # asks for an account (`POST /orders`' `create_account`), "create" says one will be made, "never" neither.
    guest_accounts: GuestAccounts = DEFAULT_GUEST_ACCOUNTS


class InternalStorefronts(BaseModel):
    storefronts: list[StorefrontRead]
