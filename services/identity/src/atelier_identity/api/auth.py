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


@router.post("/register", summary="Register",
             status_code=201, response_model=RegisterResponseWithTokens | RegisterResponse)
async def register_user(body: RegisterRequest, auth: AuthServiceDep, anon_id: AnonIdDep, storefront: CurrentStorefront,
                        ip: ClientIpDep, cookie: RefreshCookieDep, response: Response) -> RegisterResponse:
    """Create an account with email and password. Mails a link to verify the email; where the storefront needs no
    verified email, the answer also signs the user in (tokens, and the refresh token as an HttpOnly cookie). A
    guest's cart and orders follow the account. The storefront's policies may refuse a common password and cap the
    accounts one address registers an hour (429)."""
    registration = await auth.register(body, anon_id=anon_id, ip=ip, storefront=storefront)
    user = UserRead.model_validate(registration.user)
    if registration.tokens is None:
        return RegisterResponse(message="Registered. Check your email to verify your account.", user=user)
    cookie.set(response, registration.tokens)
    return RegisterResponseWithTokens(message="Registered.", user=user, **_pair(registration.tokens))


@router.post("/verify-email", summary="Verify an email address", response_model=VerifyEmailResponse)
async def verify_email(body: TokenRequest, auth: AuthServiceDep) -> VerifyEmailResponse:
    """Confirm the address with the token from the verification mail."""
    user = await auth.verify_email(body.token)
    return VerifyEmailResponse(message="Email verified.", user=UserRead.model_validate(user))


@router.post("/resend-verification", summary="Resend the verification mail", response_model=MessageResponse)
async def resend_verification(body: EmailRequest, auth: AuthServiceDep, ip: ClientIpDep,
                              storefront: CurrentStorefront) -> MessageResponse:
    """Mail a new verification link; the answer is the same whether or not the account exists."""
    await auth.resend_verification(body.email, ip=ip, storefront=storefront)
    return MessageResponse(message="If this account exists and is not verified yet, a new link is on its way.")


@router.post("/login", summary="Sign in", response_model=LoginResponse)
async def login(body: LoginRequest, auth: AuthServiceDep, anon_id: AnonIdDep, ip: ClientIpDep,
                cookie: RefreshCookieDep, response: Response, storefront: CurrentStorefront) -> LoginResponse:
    """Sign in with email and password: an access token (15 minutes, or the storefront's lifetime) and a refresh token (also set as an HttpOnly
    cookie). A guest's cart and orders follow the user. Refused for an unverified email where the storefront
    requires one, and for a suspended account."""
    signed_in = await auth.login(body.email, body.password, ip=ip, anon_id=anon_id, storefront=storefront)
    cookie.set(response, signed_in.tokens)
    return LoginResponse(user=UserRead.model_validate(signed_in.user), **_pair(signed_in.tokens))


@router.post("/refresh", summary="Refresh the tokens", response_model=TokenPair)
async def refresh_tokens(presented: PresentedRefresh, auth: AuthServiceDep, cookie: RefreshCookieDep,
                         response: Response, storefront: CurrentStorefront) -> TokenPair:
    """A new access token and a new refresh token for the refresh token in the body or the cookie; each refresh
    token works once (reuse ends the session)."""
    tokens = await auth.refresh(presented, storefront=storefront)
    cookie.set(response, tokens)
    return TokenPair(**_pair(tokens))


@router.post("/logout", summary="Sign out", status_code=204)
async def logout(principal: UserPrincipal, presented: PresentedRefresh, auth: AuthServiceDep,
                 cookie: RefreshCookieDep, response: Response) -> None:
    """End this session: the refresh token is revoked and the access token refused from now on."""
    await auth.logout(principal, presented)
    cookie.clear(response)


@router.get("/verify-token", summary="Check the access token", response_model=VerifyTokenResponse)
async def verify_token(principal: UserPrincipal, users: UserServiceDep) -> VerifyTokenResponse:
    """Whether the bearer token is valid, whose it is and when it expires."""
    user = await users.current(principal)
    return VerifyTokenResponse(valid=True, user_id=user.id, expires_at=principal.expires_at)
