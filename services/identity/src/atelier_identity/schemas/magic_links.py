"""Magic links and their codes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from atelier_identity.schemas._shared import Request


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


class MagicLinkRepeated(BaseModel):
    """The right magic code again, just after it signed in: acknowledged, no new session, and
    nothing about the account (whoever replays a code read off a screen or a log learns nothing)."""

    repeated: bool = True
    message: str = "This code has just signed in; it works once."
