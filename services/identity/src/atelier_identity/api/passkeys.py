"""`/api/v1/auth/passkeys`: WebAuthn registration, email-only signup, sign-in, list and removal (S2)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, ConfigDict

from atelier_common.auth import UserPrincipal
from atelier_common.errors import ERROR_RESPONSES
from atelier_common.storefronts import CurrentStorefront
from atelier_identity.api._responses import pair, signed_in
from atelier_identity.api.deps import AnonIdDep, ClientIpDep, PasskeyServiceDep, RefreshCookieDep
from atelier_identity.schemas import (
    PasskeyList,
    PasskeyLoginBegin,
    PasskeyLoginComplete,
    PasskeyRead,
    PasskeyRegisterBegin,
    PasskeyRegisterComplete,
    PasskeyRegistered,
    PasskeySignedUp,
    PasskeySignedUpWithTokens,
    PasskeySignupBegin,
    SignInResponse,
    UserRead,
)

router = APIRouter(prefix="/api/v1/auth/passkeys", tags=["passkeys"], responses=ERROR_RESPONSES)


class RegistrationOptions(BaseModel):
    """WebAuthn creation options (the standard JSON form) with the nonce to send back."""

    model_config = ConfigDict(extra="allow")
    registration_id: str


class AuthenticationOptions(BaseModel):
    """WebAuthn request options (the standard JSON form) with the nonce to send back."""

    model_config = ConfigDict(extra="allow")
    authentication_id: str


def _registered(passkey: Any) -> PasskeyRegistered:
    return PasskeyRegistered(message="Passkey registered successfully", device_name=passkey.name,
                             passkey=PasskeyRead.model_validate(passkey))


@router.post("/register/begin", response_model=RegistrationOptions)
async def begin_passkey_registration(principal: UserPrincipal, passkeys: PasskeyServiceDep, ip: ClientIpDep,
                                     storefront: CurrentStorefront,
                                     body: Annotated[PasskeyRegisterBegin | None, Body()] = None,
                                     ) -> RegistrationOptions:
    begun = await passkeys.register_begin(principal, name=body.name if body else None, ip=ip, storefront=storefront)
    return RegistrationOptions(registration_id=begun.nonce, **begun.options)


@router.post("/register/complete", status_code=201, response_model=PasskeyRegistered)
async def complete_passkey_registration(body: PasskeyRegisterComplete, principal: UserPrincipal,
                                        passkeys: PasskeyServiceDep, storefront: CurrentStorefront) -> PasskeyRegistered:
    passkey = await passkeys.register_complete(principal, registration_id=body.registration_id,
                                               credential=body.credential, name=body.name, storefront=storefront)
    return _registered(passkey)


@router.post("/signup/begin", response_model=RegistrationOptions)
async def begin_passkey_signup(body: PasskeySignupBegin, passkeys: PasskeyServiceDep, ip: ClientIpDep,
                               anon_id: AnonIdDep, storefront: CurrentStorefront) -> RegistrationOptions:
    begun = await passkeys.signup_begin(body, ip=ip, anon_id=anon_id, storefront=storefront)
    return RegistrationOptions(registration_id=begun.nonce, **begun.options)


@router.post("/signup/complete", status_code=201, response_model=PasskeySignedUpWithTokens | PasskeySignedUp)
async def complete_passkey_signup(body: PasskeyRegisterComplete, passkeys: PasskeyServiceDep, anon_id: AnonIdDep,
                                  storefront: CurrentStorefront, cookie: RefreshCookieDep,
                                  response: Response) -> PasskeySignedUp:
    result = await passkeys.signup_complete(registration_id=body.registration_id, credential=body.credential,
                                            name=body.name, anon_id=anon_id, storefront=storefront)
    registered = _registered(result.passkey)
    fields = {**registered.model_dump(exclude={"passkey"}), "passkey": registered.passkey,
              "user": UserRead.model_validate(result.user)}
    if result.tokens is None:
        return PasskeySignedUp(**fields)
    cookie.set(response, result.tokens)
    return PasskeySignedUpWithTokens(**fields, **pair(result.tokens))


@router.post("/login/begin", response_model=AuthenticationOptions)
async def begin_passkey_login(passkeys: PasskeyServiceDep, ip: ClientIpDep, storefront: CurrentStorefront,
                              body: Annotated[PasskeyLoginBegin | None, Body()] = None) -> AuthenticationOptions:
    begun = await passkeys.login_begin(email=body.email if body else None, ip=ip, storefront=storefront)
    return AuthenticationOptions(authentication_id=begun.nonce, **begun.options)


@router.post("/login/complete", response_model=SignInResponse)
async def complete_passkey_login(body: PasskeyLoginComplete, passkeys: PasskeyServiceDep, anon_id: AnonIdDep,
                                 storefront: CurrentStorefront, cookie: RefreshCookieDep,
                                 response: Response) -> SignInResponse:
    result = await passkeys.login_complete(authentication_id=body.authentication_id, credential=body.credential,
                                           anon_id=anon_id, storefront=storefront)
    return signed_in(result, cookie, response)


@router.get("", response_model=PasskeyList)
async def list_passkeys(principal: UserPrincipal, passkeys: PasskeyServiceDep) -> PasskeyList:
    mine = await passkeys.list_mine(principal)
    return PasskeyList(count=len(mine), results=[PasskeyRead.model_validate(p) for p in mine])


@router.delete("/{passkey_id}", status_code=204)
async def delete_passkey(passkey_id: uuid.UUID, principal: UserPrincipal, passkeys: PasskeyServiceDep) -> None:
    await passkeys.delete(principal, passkey_id)
