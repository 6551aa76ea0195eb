"""How a session is answered: the tokens in the body and the refresh token in the HttpOnly cookie."""

from __future__ import annotations

from starlette.responses import Response

from atelier_identity.api.cookies import RefreshCookie
from atelier_identity.schemas import SignInResponse, UserRead
from atelier_identity.service import IssuedTokens, SignedIn


def pair(tokens: IssuedTokens) -> dict[str, object]:
    return {"access": tokens.access, "refresh": tokens.refresh, "expires_in": tokens.expires_in}


def signed_in(result: SignedIn, cookie: RefreshCookie, response: Response) -> SignInResponse:
    cookie.set(response, result.tokens)
    return SignInResponse(user=UserRead.model_validate(result.user), created=result.created, **pair(result.tokens))
