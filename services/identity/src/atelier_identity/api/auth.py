"""`/api/v1/auth`: registration, email verification, login, token refresh and logout."""

from __future__ import annotations

from fastapi import APIRouter, Response

from atelier_common.auth import UserPrincipal
from atelier_common.errors import ERROR_RESPONSES
from atelier_common.storefronts import CurrentStorefront
from atelier_identity.api._responses import pair as _pair
from atelier_identity.api.deps import (
    AnonIdDep,
    AuthServiceDep,
    ClientIpDep,
    PresentedRefresh,
    RefreshCookieDep,
    UserServiceDep,
)
from atelier_identity.schemas import (
    EmailRequest,
    LoginRequest,
    LoginResponse,
    MessageResponse,
    RegisterRequest,
    RegisterResponse,
    RegisterResponseWithTokens,
    TokenPair,
    TokenRequest,
    UserRead,
    VerifyEmailResponse,
    VerifyTokenResponse,
)

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], responses=ERROR_RESPONSES)


@router.post("/register", status_code=201, response_model=RegisterResponseWithTokens | RegisterResponse)
async def register_user(body: RegisterRequest, auth: AuthServiceDep, anon_id: AnonIdDep, storefront: CurrentStorefront,
                        cookie: RefreshCookieDep, response: Response) -> RegisterResponse:
    registration = await auth.register(body, anon_id=anon_id, storefront=storefront)
    user = UserRead.model_validate(registration.user)
    if registration.tokens is None:
        return RegisterResponse(message="Registered. Check your email to verify your account.", user=user)
    cookie.set(response, registration.tokens)
    return RegisterResponseWithTokens(message="Registered.", user=user, **_pair(registration.tokens))


@router.post("/verify-email", response_model=VerifyEmailResponse)
async def verify_email(body: TokenRequest, auth: AuthServiceDep) -> VerifyEmailResponse:
    user = await auth.verify_email(body.token)
    return VerifyEmailResponse(message="Email verified.", user=UserRead.model_validate(user))


@router.post("/resend-verification", response_model=MessageResponse)
async def resend_verification(body: EmailRequest, auth: AuthServiceDep, ip: ClientIpDep,
                              storefront: CurrentStorefront) -> MessageResponse:
    await auth.resend_verification(body.email, ip=ip, storefront=storefront)
    return MessageResponse(message="If this account exists and is not verified yet, a new link is on its way.")


@router.post("/login", response_model=LoginResponse)
async def login(body: LoginRequest, auth: AuthServiceDep, anon_id: AnonIdDep, ip: ClientIpDep,
                cookie: RefreshCookieDep, response: Response, storefront: CurrentStorefront) -> LoginResponse:
    signed_in = await auth.login(body.email, body.password, ip=ip, anon_id=anon_id, storefront=storefront)
    cookie.set(response, signed_in.tokens)
    return LoginResponse(user=UserRead.model_validate(signed_in.user), **_pair(signed_in.tokens))


@router.post("/refresh", response_model=TokenPair)
async def refresh_tokens(presented: PresentedRefresh, auth: AuthServiceDep, cookie: RefreshCookieDep,
                         response: Response) -> TokenPair:
    tokens = await auth.refresh(presented)
    cookie.set(response, tokens)
    return TokenPair(**_pair(tokens))


@router.post("/logout", status_code=204)
async def logout(principal: UserPrincipal, presented: PresentedRefresh, auth: AuthServiceDep,
                 cookie: RefreshCookieDep, response: Response) -> None:
    await auth.logout(principal, presented)
    cookie.clear(response)


@router.get("/verify-token", response_model=VerifyTokenResponse)
async def verify_token(principal: UserPrincipal, users: UserServiceDep) -> VerifyTokenResponse:
    user = await users.current(principal)
    return VerifyTokenResponse(valid=True, user_id=user.id, expires_at=principal.expires_at)
