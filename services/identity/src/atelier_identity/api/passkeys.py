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

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [
        {"registration_id": "BFyPY8ge1s_g9LDBMAJRtRXp_EG798kp5fxNPnOGYdc",
         "rp": {"name": "Atelier", "id": "localhost"},
         "user": {"id": "99_IoobZRzqlqlOdzFczCg", "name": "ada.lovelace@example.com", "displayName": "Ada Lovelace"},
         "challenge": "ZU1ncEotRGZxUF9ZTzk1YTZuZ2p0SE9uQnZrVV9WTmdIOThhRWlUbnBpOA",
         "pubKeyCredParams": [{"type": "public-key", "alg": -8}], "timeout": 300000, "excludeCredentials": [],
         "authenticatorSelection": {"residentKey": "preferred", "requireResidentKey": False,
          "userVerification": "preferred"}, "attestation": "none"}]})
    registration_id: str


class AuthenticationOptions(BaseModel):
    """WebAuthn request options (the standard JSON form) with the nonce to send back."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [
        {"authentication_id": "Wy8SGJUDc8S9kXFjOperRsWRVQ_eaCA1_wI3N8DZ0to",
         "challenge": "SmM2bUY0YkxSUlhRa0tjaTRXMmFBNS1aaXZfSGRNWXFfSk44c21pZjRvdw", "timeout": 300000,
         "rpId": "localhost", "allowCredentials": [], "userVerification": "preferred"}]})
    authentication_id: str


def _registered(passkey: Any) -> PasskeyRegistered:
    return PasskeyRegistered(message="Passkey registered successfully", device_name=passkey.name,
                             passkey=PasskeyRead.model_validate(passkey))


@router.post("/register/begin", summary="Begin adding a passkey", response_model=RegistrationOptions)
async def begin_passkey_registration(principal: UserPrincipal, passkeys: PasskeyServiceDep, ip: ClientIpDep,
                                     storefront: CurrentStorefront,
                                     body: Annotated[PasskeyRegisterBegin | None, Body()] = None,
                                     ) -> RegistrationOptions:
    """WebAuthn creation options for the signed-in user, with the `registration_id` to send back with the
    credential."""
    begun = await passkeys.register_begin(principal, name=body.name if body else None, ip=ip, storefront=storefront)
    return RegistrationOptions(registration_id=begun.nonce, **begun.options)


@router.post("/register/complete", summary="Finish adding a passkey", status_code=201, response_model=PasskeyRegistered)
async def complete_passkey_registration(body: PasskeyRegisterComplete, principal: UserPrincipal,
                                        passkeys: PasskeyServiceDep, storefront: CurrentStorefront) -> PasskeyRegistered:
    """Verify the authenticator's credential and keep it as a passkey of the account."""
    passkey = await passkeys.register_complete(principal, registration_id=body.registration_id,
                                               credential=body.credential, name=body.name, storefront=storefront)
    return _registered(passkey)


@router.post("/signup/begin", summary="Begin a passkey sign-up", response_model=RegistrationOptions)
async def begin_passkey_signup(body: PasskeySignupBegin, passkeys: PasskeyServiceDep, ip: ClientIpDep,
                               anon_id: AnonIdDep, storefront: CurrentStorefront) -> RegistrationOptions:
    """WebAuthn creation options for a new account (no password) with this email."""
    begun = await passkeys.signup_begin(body, ip=ip, anon_id=anon_id, storefront=storefront)
    return RegistrationOptions(registration_id=begun.nonce, **begun.options)


@router.post("/signup/complete", summary="Finish a passkey sign-up",
             status_code=201, response_model=PasskeySignedUpWithTokens | PasskeySignedUp)
async def complete_passkey_signup(body: PasskeyRegisterComplete, passkeys: PasskeyServiceDep, anon_id: AnonIdDep,
                                  storefront: CurrentStorefront, cookie: RefreshCookieDep,
                                  response: Response) -> PasskeySignedUp:
    """Verify the credential and create the account; where the storefront needs no verified email, the answer signs
    the user in."""
    result = await passkeys.signup_complete(registration_id=body.registration_id, credential=body.credential,
                                            name=body.name, anon_id=anon_id, storefront=storefront)
    registered = _registered(result.passkey)
    fields = {**registered.model_dump(exclude={"passkey"}), "passkey": registered.passkey,
              "user": UserRead.model_validate(result.user)}
    if result.tokens is None:
        return PasskeySignedUp(**fields)
    cookie.set(response, result.tokens)
    return PasskeySignedUpWithTokens(**fields, **pair(result.tokens))


@router.post("/login/begin", summary="Begin a passkey sign-in", response_model=AuthenticationOptions)
async def begin_passkey_login(passkeys: PasskeyServiceDep, ip: ClientIpDep, storefront: CurrentStorefront,
                              body: Annotated[PasskeyLoginBegin | None, Body()] = None) -> AuthenticationOptions:
    """WebAuthn request options, with the `authentication_id` to send back with the assertion."""
    begun = await passkeys.login_begin(email=body.email if body else None, ip=ip, storefront=storefront)
    return AuthenticationOptions(authentication_id=begun.nonce, **begun.options)


@router.post("/login/complete", summary="Finish a passkey sign-in", response_model=SignInResponse)
async def complete_passkey_login(body: PasskeyLoginComplete, passkeys: PasskeyServiceDep, anon_id: AnonIdDep,
                                 storefront: CurrentStorefront, cookie: RefreshCookieDep,
                                 response: Response) -> SignInResponse:
    """Verify the assertion and sign the user in (tokens, and the refresh token as an HttpOnly cookie)."""
    result = await passkeys.login_complete(authentication_id=body.authentication_id, credential=body.credential,
                                           anon_id=anon_id, storefront=storefront)
    return signed_in(result, cookie, response)


@router.get("", summary="List my passkeys", response_model=PasskeyList)
async def list_passkeys(principal: UserPrincipal, passkeys: PasskeyServiceDep) -> PasskeyList:
    """The caller's passkeys."""
    mine = await passkeys.list_mine(principal)
    return PasskeyList(count=len(mine), results=[PasskeyRead.model_validate(p) for p in mine])


@router.delete("/{passkey_id}", summary="Remove a passkey", status_code=204)
async def delete_passkey(passkey_id: uuid.UUID, principal: UserPrincipal, passkeys: PasskeyServiceDep) -> None:
    """Remove one of the caller's passkeys."""
    await passkeys.delete(principal, passkey_id)
