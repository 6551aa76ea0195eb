"""Dependencies of identity's routes, named once."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Body, Cookie, Depends, Request

from atelier_common.auth import ROLE_ADMIN, Principal, RequireRole, TokenVerifier, _require_staff, anon_token, client_ip
from atelier_common.errors import InvalidToken, NotFound
from atelier_common.service import context_of, use_case
from atelier_common.state import app_state
from atelier_identity.api.cookies import REFRESH_COOKIE, RefreshCookie
from atelier_identity.context import IdentityContext
from atelier_identity.mail import Mailer
from atelier_identity.schemas import RefreshRequest
from atelier_identity.security import API_KEY_EMAIL_PREFIX
from atelier_identity.service import (
    AddressService,
    AuthService,
    EmailChangeService,
    MagicLinkService,
    OAuthService,
    PasskeyService,
    PasswordService,
    StorefrontService,
    UserService,
)
from atelier_identity.settings import IdentitySettings


async def _context(request: Request) -> IdentityContext:
    context: IdentityContext = context_of(request)
    return context


ContextDep = Annotated[IdentityContext, Depends(_context)]


async def _mailer(context: ContextDep) -> Mailer:
    return context.mailer


async def _refresh_cookie(context: ContextDep) -> RefreshCookie:
    return context.refresh_cookie


async def _anon_id(request: Request) -> uuid.UUID | None:
    """The anonymous identity to claim at login or registration.

    Only the anonymous token is read: a client may still send its expired access token to the
    login route, and that must not turn a login into a 401.
    """
    raw = anon_token(request)
    if raw is None:
        return None
    try:
        anon_id = await app_state(request.app, "verifier", TokenVerifier).anon_id(raw)
    except InvalidToken:
        return None  # a stale anonymous token is simply no anonymous identity
    return anon_id


async def _presented_refresh(body: Annotated[RefreshRequest | None, Body()] = None,
                             cookie: Annotated[str | None, Cookie(alias=REFRESH_COOKIE)] = None) -> str | None:
    """The refresh token from the JSON body (API clients) or the HttpOnly cookie (browsers)."""
    return (body.refresh if body else None) or cookie


async def _client_ip(request: Request) -> str:
    ip: str = client_ip(request)
    return ip


async def _require_dev_endpoints(request: Request) -> None:
    if not app_state(request.app, "settings", IdentitySettings).dev_endpoints:
        raise NotFound()


AuthServiceDep = Annotated[AuthService, use_case(AuthService)]
UserServiceDep = Annotated[UserService, use_case(UserService)]
PasswordServiceDep = Annotated[PasswordService, use_case(PasswordService)]
EmailChangeServiceDep = Annotated[EmailChangeService, use_case(EmailChangeService)]
MagicLinkServiceDep = Annotated[MagicLinkService, use_case(MagicLinkService)]
OAuthServiceDep = Annotated[OAuthService, use_case(OAuthService)]
PasskeyServiceDep = Annotated[PasskeyService, use_case(PasskeyService)]
AddressServiceDep = Annotated[AddressService, use_case(AddressService)]
StorefrontServiceDep = Annotated[StorefrontService, use_case(StorefrontService)]
# For routes that only read: no transaction around them (`Database.read_only`).
UserReaderDep = Annotated[UserService, use_case(UserService, read_only=True)]
AddressReaderDep = Annotated[AddressService, use_case(AddressService, read_only=True)]
StorefrontReaderDep = Annotated[StorefrontService, use_case(StorefrontService, read_only=True)]
MailerDep = Annotated[Mailer, Depends(_mailer)]
RefreshCookieDep = Annotated[RefreshCookie, Depends(_refresh_cookie)]
AnonIdDep = Annotated[uuid.UUID | None, Depends(_anon_id)]
PresentedRefresh = Annotated[str | None, Depends(_presented_refresh)]
ClientIpDep = Annotated[str, Depends(_client_ip)]
require_dev_endpoints = Depends(_require_dev_endpoints)


class _AdminOrApiKey(RequireRole):
    """Admins, and API keys (whatever their roles: what each may do with its own endpoints is
    `WebhookEndpoints`' rule, which looks the key up). A person's email cannot carry the key's
    `api-key:` prefix (a colon is no address's), and the use case checks the key exists anyway."""

    async def __call__(self, request: Request, principal: Annotated[Principal, Depends(_require_staff)]) -> Principal:
        if principal.is_staff and (principal.email or "").startswith(API_KEY_EMAIL_PREFIX):
            return principal
        return await super().__call__(request, principal)


# The webhook endpoint routes: an admin's, or an API key's own (docs/webhooks.md).
require_webhook_manager = _AdminOrApiKey(ROLE_ADMIN)
WebhookManagerPrincipal = Annotated[Principal, Depends(require_webhook_manager)]
