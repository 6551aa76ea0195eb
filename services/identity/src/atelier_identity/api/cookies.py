"""The HttpOnly refresh-token cookie that browser clients use instead of storing the token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from starlette.responses import Response


class IssuedRefresh(Protocol):
    """The refresh token a sign-in issued (`service.IssuedTokens`; the context holds this cookie
    and the service package imports the context, so this module names no service type)."""

    @property
    def refresh(self) -> str: ...
    @property
    def refresh_expires_at(self) -> datetime: ...

REFRESH_COOKIE = "atelier_refresh"
# Sent only to the routes that read it (refresh, logout), not with every API call.
REFRESH_COOKIE_PATH = "/api/v1/auth"


@dataclass(frozen=True)
class RefreshCookie:
    secure: bool

    def set(self, response: Response, tokens: IssuedRefresh) -> None:
        response.set_cookie(REFRESH_COOKIE, tokens.refresh, expires=tokens.refresh_expires_at,
                            path=REFRESH_COOKIE_PATH, secure=self.secure, httponly=True, samesite="lax")

    def clear(self, response: Response) -> None:
        response.delete_cookie(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH, secure=self.secure, httponly=True,
                               samesite="lax")
