"""The HttpOnly refresh-token cookie that browser clients use instead of storing the token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.responses import Response

if TYPE_CHECKING:
    from atelier_identity.service import IssuedTokens

REFRESH_COOKIE = "atelier_refresh"
# Sent only to the routes that read it (refresh, logout), not with every API call.
REFRESH_COOKIE_PATH = "/api/v1/auth"


@dataclass(frozen=True)
class RefreshCookie:
    secure: bool

    def set(self, response: Response, tokens: IssuedTokens) -> None:
        response.set_cookie(REFRESH_COOKIE, tokens.refresh, expires=tokens.refresh_expires_at,
                            path=REFRESH_COOKIE_PATH, secure=self.secure, httponly=True, samesite="lax")

    def clear(self, response: Response) -> None:
        response.delete_cookie(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH, secure=self.secure, httponly=True,
                               samesite="lax")
