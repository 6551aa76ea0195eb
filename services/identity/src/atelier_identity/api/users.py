"""`/api/v1/users/me`: the signed-in user's profile."""

from __future__ import annotations

from fastapi import APIRouter, Response

from atelier_common.auth import UserPrincipal
from atelier_common.errors import ERROR_RESPONSES
from atelier_identity.api.deps import ClientIpDep, RefreshCookieDep, UserServiceDep
from atelier_identity.schemas import DeleteAccountRequest, UserProfile, UserRead, UserUpdate

router = APIRouter(prefix="/api/v1/users", tags=["users"], responses=ERROR_RESPONSES)


@router.get("/me", summary="Get my profile", response_model=UserProfile)
async def get_me(principal: UserPrincipal, users: UserServiceDep) -> UserProfile:
    """The signed-in user's account, with their plan and quota."""
    profile = await users.profile(principal)
    subscription = profile.subscription
    return UserProfile(**UserRead.model_validate(profile.user).model_dump(),
                       subscription=subscription.plan if subscription else None,
                       quota=subscription.quota if subscription else None)


@router.put("/me", summary="Replace my profile", response_model=UserRead)
async def replace_me(body: UserUpdate, principal: UserPrincipal, users: UserServiceDep) -> UserRead:
    """Change the user's names, phone, company, username and display name (the email changes through
    `/auth/email-change`)."""
    return UserRead.model_validate(await users.update_profile(principal, body))


@router.patch("/me", summary="Update my profile", response_model=UserRead)
async def update_me(body: UserUpdate, principal: UserPrincipal, users: UserServiceDep) -> UserRead:
    """Change some of the user's profile fields."""
    return UserRead.model_validate(await users.update_profile(principal, body))


@router.delete("/me", summary="Delete my account", status_code=204)
async def delete_me(body: DeleteAccountRequest, principal: UserPrincipal, users: UserServiceDep,
                    ip: ClientIpDep, cookie: RefreshCookieDep, response: Response) -> None:
    """Delete the account, confirmed with its password (or `confirm: "DELETE"` for an account without one): its
    addresses are erased, every session ends at once and the other services hear of it."""
    await users.delete(principal, body, ip=ip)
    cookie.clear(response)
