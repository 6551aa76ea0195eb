"""`/api/v1/users/me`: the signed-in user's profile."""

from __future__ import annotations

from fastapi import APIRouter, Response

from atelier_common.auth import UserPrincipal
from atelier_common.errors import ERROR_RESPONSES
from atelier_identity.api.deps import ClientIpDep, RefreshCookieDep, UserServiceDep
from atelier_identity.schemas import DeleteAccountRequest, UserProfile, UserRead, UserUpdate

router = APIRouter(prefix="/api/v1/users", tags=["users"], responses=ERROR_RESPONSES)


@router.get("/me", response_model=UserProfile)
async def get_me(principal: UserPrincipal, users: UserServiceDep) -> UserProfile:
    profile = await users.profile(principal)
    subscription = profile.subscription
    return UserProfile(**UserRead.model_validate(profile.user).model_dump(),
                       subscription=subscription.plan if subscription else None,
                       quota=subscription.quota if subscription else None)


@router.put("/me", response_model=UserRead)
async def replace_me(body: UserUpdate, principal: UserPrincipal, users: UserServiceDep) -> UserRead:
    return UserRead.model_validate(await users.update_profile(principal, body))


@router.patch("/me", response_model=UserRead)
async def update_me(body: UserUpdate, principal: UserPrincipal, users: UserServiceDep) -> UserRead:
    return UserRead.model_validate(await users.update_profile(principal, body))


@router.delete("/me", status_code=204)
async def delete_me(body: DeleteAccountRequest, principal: UserPrincipal, users: UserServiceDep,
                    ip: ClientIpDep, cookie: RefreshCookieDep, response: Response) -> None:
    await users.delete(principal, body, ip=ip)
    cookie.clear(response)
