"""Dependencies of identity's routes, named once."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Body, Cookie, Depends, Request

from atelier_common.auth import anon_token, client_ip
from atelier_common.errors import InvalidToken, NotFound
from atelier_identity.api.cookies import REFRESH_COOKIE, RefreshCookie
from atelier_identity.bootstrap import Identity
from atelier_identity.mail import Mailer
from atelier_identity.schemas import RefreshRequest
from atelier_identity.service import (
    AddressService,
    AuthService,
    EmailChangeService,
    MagicLinkService,
    OAuthService,
    PasskeyService,
    PasswordService,
    UserService,
)


async def _identity(request: Request) -> Identity:
    return request.app.state.runtime.identity


IdentityDep = Annotated[Identity, Depends(_identity)]


async def _auth(identity: IdentityDep) -> AuthService:
    return identity.auth


async def _users(identity: IdentityDep) -> UserService:
    return identity.users


async def _passwords(identity: IdentityDep) -> PasswordService:
    return identity.passwords


async def _email_change(identity: IdentityDep) -> EmailChangeService:
    return identity.email_change


async def _magic_links(identity: IdentityDep) -> MagicLinkService:
    return identity.magic_links


async def _oauth(identity: IdentityDep) -> OAuthService:
    return identity.oauth


async def _passkeys(identity: IdentityDep) -> PasskeyService:
    return identity.passkeys


async def _addresses(identity: IdentityDep) -> AddressService:
    return identity.addresses


async def _mailer(identity: IdentityDep) -> Mailer:
    return identity.mailer


async def _refresh_cookie(identity: IdentityDep) -> RefreshCookie:
    return identity.refresh_cookie


async def _anon_id(request: Request) -> uuid.UUID | None:
    """The anonymous identity to claim at login or registration.

    Only the anonymous token is read: a client may still send its expired access token to the
    login route, and that must not turn a login into a 401.
    """
    raw = anon_token(request)
    if raw is None:
        return None
    try:
        return await request.app.state.verifier.anon_id(raw)
    except InvalidToken:
        return None  # a stale anonymous token is simply no anonymous identity


async def _presented_refresh(body: Annotated[RefreshRequest | None, Body()] = None,
                             cookie: Annotated[str | None, Cookie(alias=REFRESH_COOKIE)] = None) -> str | None:
    """The refresh token from the JSON body (API clients) or the HttpOnly cookie (browsers)."""
    return (body.refresh if body else None) or cookie


async def _client_ip(request: Request) -> str:
    return client_ip(request)


async def _require_dev_endpoints(request: Request) -> None:
    if not request.app.state.settings.dev_endpoints:
        raise NotFound()


AuthServiceDep = Annotated[AuthService, Depends(_auth)]
UserServiceDep = Annotated[UserService, Depends(_users)]
PasswordServiceDep = Annotated[PasswordService, Depends(_passwords)]
EmailChangeServiceDep = Annotated[EmailChangeService, Depends(_email_change)]
MagicLinkServiceDep = Annotated[MagicLinkService, Depends(_magic_links)]
OAuthServiceDep = Annotated[OAuthService, Depends(_oauth)]
PasskeyServiceDep = Annotated[PasskeyService, Depends(_passkeys)]
AddressServiceDep = Annotated[AddressService, Depends(_addresses)]
MailerDep = Annotated[Mailer, Depends(_mailer)]
RefreshCookieDep = Annotated[RefreshCookie, Depends(_refresh_cookie)]
AnonIdDep = Annotated[uuid.UUID | None, Depends(_anon_id)]
PresentedRefresh = Annotated[str | None, Depends(_presented_refresh)]
ClientIpDep = Annotated[str, Depends(_client_ip)]
require_dev_endpoints = Depends(_require_dev_endpoints)
