"""`/api/v1/auth/magic-link`: sign-in codes by mail (S4)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from atelier_common.errors import ERROR_RESPONSES
from atelier_common.storefronts import CurrentStorefront
from atelier_identity.api._responses import signed_in
from atelier_identity.api.deps import AnonIdDep, ClientIpDep, MagicLinkServiceDep, RefreshCookieDep
from atelier_identity.schemas import (
    CheckUserResponse,
    EmailRequest,
    MagicLinkRepeated,
    MagicLinkVerify,
    MessageResponse,
    SignInResponse,
)
from atelier_identity.service.magic_links import Repeated

router = APIRouter(prefix="/api/v1/auth/magic-link", tags=["auth"], responses=ERROR_RESPONSES)


@router.post("", summary="Request a sign-in code", response_model=MessageResponse)
async def request_magic_link(body: EmailRequest, magic_links: MagicLinkServiceDep, ip: ClientIpDep,
                             storefront: CurrentStorefront) -> MessageResponse:
    """Mail a one-time sign-in link and 6-digit code; an unknown address gets an account when it verifies."""
    await magic_links.request(body.email, ip=ip, storefront=storefront)
    return MessageResponse(message="A sign-in code is on its way to this address.")


@router.post("/verify", summary="Sign in with a code", response_model=SignInResponse | MagicLinkRepeated)
async def verify_magic_link(body: MagicLinkVerify, magic_links: MagicLinkServiceDep, ip: ClientIpDep,
                            anon_id: AnonIdDep, storefront: CurrentStorefront, cookie: RefreshCookieDep,
                            response: Response) -> SignInResponse | MagicLinkRepeated:
    """Sign in with the link's `token`, or the `email` and its `code`; creates the account on first use. A link used
    a second time answers the user without tokens."""
    result = await magic_links.verify(body, ip=ip, anon_id=anon_id, storefront=storefront)
    if isinstance(result, Repeated):
        return MagicLinkRepeated()
    return signed_in(result, cookie, response)


@router.post("/check-user", summary="Check whether an account exists", response_model=CheckUserResponse)
async def check_magic_link_user(body: EmailRequest, magic_links: MagicLinkServiceDep,
                                ip: ClientIpDep) -> CheckUserResponse:
    """Whether an account has this email (S4's sign-in form), limited per client address."""
    return CheckUserResponse(exists=await magic_links.check_user(body.email, ip=ip))
