"""`/api/v1/auth/oauth`: sign-in with a provider (S2's Google flow with ticket exchange)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response
from fastapi.responses import RedirectResponse

from atelier_common.errors import ERROR_RESPONSES
from atelier_common.storefronts import CurrentStorefront
from atelier_identity.api._responses import signed_in
from atelier_identity.api.deps import AnonIdDep, OAuthServiceDep, RefreshCookieDep
from atelier_identity.schemas import (
    AccessResponse,
    OAuthExchangeRequest,
    OAuthStartRequest,
    OAuthStartResponse,
    SignInResponse,
    UserRead,
)

router = APIRouter(prefix="/api/v1/auth/oauth", tags=["auth"], responses=ERROR_RESPONSES)


@router.post("/exchange", summary="Exchange an OAuth ticket", response_model=AccessResponse)
async def exchange_oauth_ticket(body: OAuthExchangeRequest, oauth: OAuthServiceDep, storefront: CurrentStorefront,
                                cookie: RefreshCookieDep, response: Response) -> AccessResponse:
    """Trade the one-time `ticket` the OAuth callback put in the return URL for an access token (the refresh token
    is set as an HttpOnly cookie)."""
    result = await oauth.exchange(body.ticket, storefront=storefront)
    cookie.set(response, result.tokens)
    return AccessResponse(access=result.tokens.access, expires_in=result.tokens.expires_in,
                          user=UserRead.model_validate(result.user))


@router.post("/{provider}/start", summary="Start an OAuth sign-in", response_model=OAuthStartResponse)
async def start_oauth(provider: str, oauth: OAuthServiceDep, anon_id: AnonIdDep, storefront: CurrentStorefront,
                      body: Annotated[OAuthStartRequest | None, Body()] = None) -> OAuthStartResponse:
    """The provider's authorization URL to send the browser to; `return_to` is where the callback comes back with a
    ticket."""
    url = await oauth.start(provider, return_to=body.return_to if body else None, anon_id=anon_id,
                            storefront=storefront)
    return OAuthStartResponse(auth_url=url)


@router.get("/{provider}/callback", summary="OAuth callback", response_model=SignInResponse,
            responses={302: {"description": "Back to return_to with ?ticket= (or ?error=)"}})
async def oauth_callback(provider: str, oauth: OAuthServiceDep, anon_id: AnonIdDep, cookie: RefreshCookieDep,
                         response: Response, code: str | None = None, state: str | None = None,
                         error: str | None = None) -> SignInResponse | RedirectResponse:
    """Where the provider sends the browser back: signs the user in (creating the account on first use), then
    redirects to `return_to` with a one-time `ticket` (or answers the tokens when there is none)."""
    outcome = await oauth.callback(provider, code=code, state=state, error=error, anon_id=anon_id)
    if outcome.redirect_to is not None:
        return RedirectResponse(outcome.redirect_to, status_code=302)
    assert outcome.signed_in is not None
    return signed_in(outcome.signed_in, cookie, response)
