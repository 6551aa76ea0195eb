"""Sign-in through an OAuth provider."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from atelier_identity.schemas._shared import Request
from atelier_identity.schemas.users import UserRead


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
