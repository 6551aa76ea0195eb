"""`/api/v1/auth`: password reset, password change and email change."""

from __future__ import annotations

from fastapi import APIRouter, Response

from atelier_common.auth import UserPrincipal
from atelier_common.errors import ERROR_RESPONSES
from atelier_common.storefronts import CurrentStorefront
from atelier_identity.api._responses import pair
from atelier_identity.api.deps import ClientIpDep, EmailChangeServiceDep, PasswordServiceDep, RefreshCookieDep
from atelier_identity.schemas import (
    ChangePasswordRequest,
    EmailChangeConfirmResponse,
    EmailChangeRequest,
    EmailRequest,
    MessageResponse,
    PasswordChangedResponse,
    PasswordResetConfirm,
    TokenRequest,
    UserRead,
)

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], responses=ERROR_RESPONSES)


@router.post("/password-reset", summary="Request a password reset", response_model=MessageResponse)
async def request_password_reset(body: EmailRequest, passwords: PasswordServiceDep, ip: ClientIpDep,
                                 storefront: CurrentStorefront) -> MessageResponse:
    """Mail a reset link; the answer is the same whether or not the account exists."""
    await passwords.request_reset(body.email, ip=ip, storefront=storefront)
    return MessageResponse(message="If an account exists for this address, a reset link is on its way.")


@router.post("/password-reset/confirm", summary="Reset the password", response_model=MessageResponse)
async def confirm_password_reset(body: PasswordResetConfirm, passwords: PasswordServiceDep,
                                 ip: ClientIpDep, storefront: CurrentStorefront) -> MessageResponse:
    """Set a new password with the token from the reset mail; every session of the account ends."""
    await passwords.confirm_reset(body, ip=ip, storefront=storefront)
    return MessageResponse(message="Your password was changed. Sign in with it; every other session has ended.")


@router.post("/change-password", summary="Change the password", response_model=PasswordChangedResponse)
async def change_password(body: ChangePasswordRequest, principal: UserPrincipal, passwords: PasswordServiceDep, ip: ClientIpDep, cookie: RefreshCookieDep,
                          response: Response, storefront: CurrentStorefront) -> PasswordChangedResponse:
    """Change the password (the current one is checked); every other session ends. The caller's goes on: the
    tokens it holds keep working, and the answer is a fresh pair of that same session."""
    tokens = await passwords.change(principal, body, ip=ip, storefront=storefront)
    cookie.set(response, tokens)
    return PasswordChangedResponse(message="Password changed; every other session has ended.", **pair(tokens))


@router.post("/email-change", summary="Request an email change", response_model=MessageResponse)
async def request_email_change(body: EmailChangeRequest, principal: UserPrincipal, email_change: EmailChangeServiceDep,
                               ip: ClientIpDep, storefront: CurrentStorefront) -> MessageResponse:
    """Mail a confirmation link to the new address (the password is checked); nothing changes until it is confirmed."""
    await email_change.request(principal, password=body.current_password, new_email=body.new_email, ip=ip,
                               storefront=storefront)
    return MessageResponse(message="Email change verification sent. Please check your new email to confirm the change.")


@router.post("/email-change/confirm", summary="Confirm an email change", response_model=EmailChangeConfirmResponse)
async def confirm_email_change(body: TokenRequest, email_change: EmailChangeServiceDep,
                               storefront: CurrentStorefront) -> EmailChangeConfirmResponse:
    """Switch to the new address with the token from the confirmation mail."""
    user = await email_change.confirm(body.token, storefront=storefront)
    return EmailChangeConfirmResponse(message="Email address changed. Use it to sign in from now on.",
                                      user=UserRead.model_validate(user))
