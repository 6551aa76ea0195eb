"""Passkeys (S2) with py_webauthn: register, sign up with only an email, sign in, list and remove.

Each ceremony's challenge is kept server-side behind a single-use nonce (`registration_id`,
`authentication_id`) that `begin` returns and `complete` spends: a registration's when it
succeeds, a sign-in's whatever the outcome (a refused assertion cannot be retried on it).

The relying party is the requesting storefront's (`domain.relying_party`): each passkey and each
challenge keeps the rp id it was made for, so a passkey of storefront B, or a ceremony begun on B,
is refused on storefront A.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_attestation_object,
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    RegistrationCredential,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from atelier_common.auth import Principal
from atelier_common.contracts.identity import Storefront
from atelier_common.db import commit_on_error
from atelier_identity import domain, policies
from atelier_identity.context import IdentityContext
from atelier_identity.domain import RelyingParty
from atelier_identity.errors import (
    EmailExists,
    InvalidEmailToken,
    OAuthUserExists,
    PasskeyExists,
    PasskeyNotFound,
    PasskeyRejected,
)
from atelier_identity.models import Passkey, User, WebauthnChallenge
from atelier_identity.repository import OAuthRepository, PasskeyRepository, UserRepository
from atelier_identity.schemas import PasskeySignupBegin
from atelier_identity.service._shared import Guard, IssuedTokens, Sessions, SignedIn, Verification, now, registered
from atelier_identity.service._use_case import IdentityUseCase
from atelier_identity.service.users import UserService

REGISTER, SIGNUP, LOGIN = "register", "signup", "login"
DEFAULT_DEVICE_NAME = "Unnamed Device"


@dataclass(frozen=True)
class Begun:
    """A started ceremony: the nonce to send back, and the options for the browser."""

    nonce: str
    options: dict[str, Any]


@dataclass(frozen=True)
class SignedUp:
    user: User
    passkey: Passkey
    # Only when verified email is not required (like registration).
    tokens: IssuedTokens | None


class PasskeyService(IdentityUseCase):
    def __init__(self, session: AsyncSession, context: IdentityContext) -> None:
        super().__init__(session, context)
        self.sessions = Sessions(session, context)
        self.guard = Guard(session, context)
        self.verification = Verification(session, context)
        self.users = UserService(session, context)
        self.ttl = timedelta(seconds=context.settings.webauthn_timeout_seconds)

    # -- a signed-in user adds a passkey ------------------------------------------------------

    async def register_begin(self, principal: Principal, *, name: str | None, ip: str,
                             storefront: Storefront) -> Begun:
        user = await self.users.current(principal)
        await self.guard.attempt("passkey-begin", ip=ip, account=str(user.id))
        rp = domain.relying_party(storefront)
        existing = await PasskeyRepository(self.session).list_for_user(user.id, rp_id=rp.id)
        return self._begin_registration(rp, purpose=REGISTER, user_id=user.id,
                                        email=user.email or user.username or str(user.id),
                                        display_name=" ".join(p for p in (user.first_name, user.last_name) if p),
                                        exclude=existing, device_name=name)

    async def register_complete(self, principal: Principal, *, registration_id: str, credential: dict[str, Any],
                                name: str | None, storefront: Storefront) -> Passkey:
        user = await self.users.current(principal)
        challenge = await self._spend(registration_id, REGISTER)
        if challenge is None or challenge.user_id != user.id:
            raise InvalidEmailToken("The registration is unknown, expired or already completed")
        rp = domain.relying_party(storefront)
        return await self._add(user, challenge, self._verify_registration(challenge, credential, rp), name)

    # -- a new account made by a passkey (S2's email-passkey) ---------------------------------

    async def signup_begin(self, data: PasskeySignupBegin, *, ip: str, anon_id: uuid.UUID | None,
                           storefront: Storefront) -> Begun:
        email = domain.normalise_email(data.email)
        await self.guard.attempt("passkey-begin", ip=ip, account=email)
        await self._ensure_free(email)
        # The account's id is chosen now: it is the WebAuthn user handle the authenticator keeps.
        return self._begin_registration(domain.relying_party(storefront), purpose=SIGNUP, user_id=None,
                                        new_user_id=uuid.uuid4(), email=email,
                                        display_name=" ".join(p for p in (data.first_name, data.last_name) if p),
                                        exclude=(), device_name=data.name, first_name=data.first_name,
                                        last_name=data.last_name, anon_id=anon_id)

    async def signup_complete(self, *, registration_id: str, credential: dict[str, Any], name: str | None,
                              anon_id: uuid.UUID | None, storefront: Storefront) -> SignedUp:
        """The account (signed up on `storefront`) and its first passkey."""
        challenge = await self._spend(registration_id, SIGNUP)
        if challenge is None or challenge.email is None or challenge.user_handle is None:
            raise InvalidEmailToken("The registration is unknown, expired or already completed")
        verified = self._verify_registration(challenge, credential, domain.relying_party(storefront))
        await self._ensure_free(challenge.email)
        user = User(id=uuid.UUID(bytes=challenge.user_handle), email=challenge.email,
                    first_name=challenge.first_name or "", last_name=challenge.last_name or "",
                    signup_storefront=storefront.slug)
        if not await UserRepository(self.session).add_unique(user):
            raise EmailExists()
        await registered(self.session, user, "passkey")
        passkey = await self._add(user, challenge, verified, name)
        # The passkey proves the person, not the address: it is verified by mail like a registration.
        await self.verification.send(user, storefront)
        await self.sessions.claims.claim(anon_id or challenge.anon_id, user.id, via="passkey_signup")
        # S2 (reviv) signed a passkey sign-up in at once: a storefront may (`passkey_signup_signs_in`).
        signs_in = policies.passkey_signup_signs_in(storefront, self.settings)
        tokens = await self.sessions.issue(user, storefront=storefront) if signs_in else None
        return SignedUp(user=user, passkey=passkey, tokens=tokens)

    # -- sign in ------------------------------------------------------------------------------

    async def login_begin(self, *, email: str | None, ip: str, storefront: Storefront) -> Begun:
        """Options for an assertion on `storefront`'s relying party; with an email, only that
        account's passkeys of this relying party are allowed."""
        email = domain.normalise_email(email) if email else None
        await self.guard.attempt("passkey-begin", ip=ip, account=email)
        rp = domain.relying_party(storefront)
        user = await UserRepository(self.session).get_by_email(email) if email else None
        allowed = await PasskeyRepository(self.session).list_for_user(user.id, rp_id=rp.id) if user else []
        challenge = domain.new_secret().encode()
        options = generate_authentication_options(
            rp_id=rp.id, challenge=challenge,
            timeout=self.settings.webauthn_timeout_seconds * 1000, allow_credentials=[_descriptor(p) for p in allowed],
            user_verification=UserVerificationRequirement.PREFERRED)
        nonce = self._keep(purpose=LOGIN, challenge=challenge, rp_id=rp.id, user_id=user.id if user else None)
        return Begun(nonce=nonce, options=_json(options))

    async def login_complete(self, *, authentication_id: str, credential: dict[str, Any],
                             anon_id: uuid.UUID | None, storefront: Storefront) -> SignedIn:
        """Verify the assertion and sign in. The nonce is spent even when the assertion is refused
        (`commit_on_error`)."""
        challenge = await self._spend(authentication_id, LOGIN)
        if challenge is None:
            raise InvalidEmailToken("The sign-in is unknown, expired or already completed")
        try:
            user = await self._verify_assertion(challenge, credential, domain.relying_party(storefront))
        except PasskeyRejected:
            commit_on_error(self.session)
            raise
        # An account made by passkey sign-up has no password; where its storefront signs such an
        # account in before its address is confirmed, its passkey does so later too.
        made_by_passkey = user.password_hash is None and not user.is_verified
        optional = made_by_passkey and policies.passkey_signup_signs_in(storefront, self.settings)
        return await self.sessions.sign_in(user, anon_id=anon_id, via="passkey", storefront=storefront,
                                           require_verified=not optional)

    # -- the user's passkeys --------------------------------------------------------------------

    async def list_mine(self, principal: Principal) -> list[Passkey]:
        user = await self.users.current(principal)
        return list(await PasskeyRepository(self.session).list_for_user(user.id))

    async def delete(self, principal: Principal, passkey_id: uuid.UUID) -> None:
        user = await self.users.current(principal)
        passkeys = PasskeyRepository(self.session)
        passkey = await passkeys.get_for_user(passkey_id, user.id)
        if passkey is None:
            raise PasskeyNotFound()
        await passkeys.delete(passkey)

    # -- helpers ----------------------------------------------------------------------------------

    def _begin_registration(self, rp: RelyingParty, *, purpose: str, user_id: uuid.UUID | None, email: str,
                            display_name: str, exclude: Any, device_name: str | None,
                            new_user_id: uuid.UUID | None = None, first_name: str | None = None,
                            last_name: str | None = None, anon_id: uuid.UUID | None = None) -> Begun:
        handle = (user_id or new_user_id or uuid.uuid4()).bytes
        challenge = domain.new_secret().encode()
        options = generate_registration_options(
            rp_id=rp.id, rp_name=rp.name, user_name=email,
            user_id=handle, user_display_name=display_name or email, challenge=challenge,
            timeout=self.settings.webauthn_timeout_seconds * 1000,
            exclude_credentials=[_descriptor(p) for p in exclude],
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.PREFERRED))
        nonce = self._keep(purpose=purpose, challenge=challenge, rp_id=rp.id, user_id=user_id, user_handle=handle,
                           email=email, first_name=first_name, last_name=last_name, device_name=device_name,
                           anon_id=anon_id)
        return Begun(nonce=nonce, options=_json(options))

    def _keep(self, *, purpose: str, challenge: bytes, **fields: Any) -> str:
        nonce = domain.new_secret()
        begun_at = now()
        PasskeyRepository(self.session).add_challenge(WebauthnChallenge(
            nonce_hash=domain.digest(nonce), purpose=purpose, challenge=challenge, created_at=begun_at,
            expires_at=begun_at + self.ttl, **fields))
        return nonce

    async def _spend(self, nonce: str, purpose: str) -> WebauthnChallenge | None:
        return await PasskeyRepository(self.session).consume_challenge(domain.digest(nonce), purpose, now())

    async def _ensure_free(self, email: str) -> None:
        existing = await UserRepository(self.session).get_by_email(email)
        if existing is None:
            return
        if await OAuthRepository(self.session).user_has_account(existing.id):
            raise OAuthUserExists()
        # Adding a passkey to an existing account needs that account's sign-in first.
        raise EmailExists()

    def _verify_registration(self, challenge: WebauthnChallenge, credential: dict[str, Any], rp: RelyingParty) -> Any:
        """The verified attestation, for a ceremony begun on this relying party."""
        if challenge.rp_id != rp.id:
            raise PasskeyRejected(details={"reason": "the registration was begun for another relying party"})
        try:
            return verify_registration_response(
                credential=_registration_credential(credential), expected_challenge=challenge.challenge,
                expected_rp_id=rp.id, expected_origin=rp.origins)
        except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
            raise PasskeyRejected(details={"reason": str(exc)}) from exc

    async def _add(self, user: User, challenge: WebauthnChallenge, verified: Any,
                   name: str | None) -> Passkey:
        registered_at = now()
        passkey = Passkey(user_id=user.id, credential_id=bytes_to_base64url(verified.credential_id), rp_id=challenge.rp_id,
                          public_key=verified.credential_public_key, user_handle=challenge.user_handle or user.id.bytes,
                          sign_count=verified.sign_count, aaguid=verified.aaguid,
                          name=name or challenge.device_name or DEFAULT_DEVICE_NAME, created_at=registered_at)
        if not await PasskeyRepository(self.session).add_unique(passkey):
            raise PasskeyExists()
        return passkey

    async def _verify_assertion(self, challenge: WebauthnChallenge, credential: dict[str, Any],
                                rp: RelyingParty) -> User:
        """The account whose passkey of this relying party signed this challenge; PasskeyRejected otherwise."""
        if challenge.rp_id != rp.id:
            raise PasskeyRejected(details={"reason": "the sign-in was begun for another relying party"})
        try:
            parsed = _authentication_credential(credential)
        except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
            raise PasskeyRejected(details={"reason": str(exc)}) from exc
        passkeys = PasskeyRepository(self.session)
        passkey = await passkeys.get_by_credential_id(bytes_to_base64url(parsed.raw_id))
        if passkey is None:
            raise PasskeyRejected(details={"reason": "unknown credential"})
        # Made for another storefront's relying party: it does not sign in here.
        if passkey.rp_id != rp.id:
            raise PasskeyRejected(details={"reason": "credential not allowed"})
        # Begun for one account: a passkey of another one cannot answer it.
        if challenge.user_id is not None and passkey.user_id != challenge.user_id:
            raise PasskeyRejected(details={"reason": "credential not allowed"})
        if parsed.response.user_handle is not None and parsed.response.user_handle != passkey.user_handle:
            raise PasskeyRejected(details={"reason": "user handle mismatch"})
        try:
            verified = verify_authentication_response(
                credential=parsed, expected_challenge=challenge.challenge, expected_rp_id=rp.id,
                expected_origin=rp.origins, credential_public_key=passkey.public_key,
                credential_current_sign_count=passkey.sign_count)
        except (WebAuthnException, ValueError) as exc:
            raise PasskeyRejected(details={"reason": str(exc)}) from exc
        # Checked again in the UPDATE: two assertions racing with one counter cannot both pass.
        if not await passkeys.advance_sign_count(passkey.id, verified.new_sign_count, now()):
            raise PasskeyRejected(details={"reason": "sign count did not increase"})
        user = await UserRepository(self.session).get(passkey.user_id)
        if user is None:
            raise PasskeyRejected(details={"reason": "unknown credential"})
        return user


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    return PublicKeyCredentialDescriptor(id=base64url_to_bytes(passkey.credential_id))


def _json(options: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(options_to_json(options))
    return parsed


def _registration_credential(credential: dict[str, Any]) -> RegistrationCredential:
    """The standard WebAuthn JSON, or S2's flat `{clientDataJSON, attestationObject}`."""
    if "response" not in credential:
        attestation = credential["attestationObject"]
        attested = parse_attestation_object(base64url_to_bytes(attestation)).auth_data.attested_credential_data
        if attested is None:
            raise ValueError("the attestation carries no credential")
        credential_id = bytes_to_base64url(attested.credential_id)
        credential = {"id": credential_id, "rawId": credential_id, "type": "public-key",
                      "response": {"clientDataJSON": credential["clientDataJSON"], "attestationObject": attestation}}
    return parse_registration_credential_json(credential)


def _authentication_credential(credential: dict[str, Any]) -> AuthenticationCredential:
    """The standard WebAuthn JSON, or S2's flat `{id, clientDataJSON, authenticatorData, signature}`."""
    if "response" not in credential:
        credential_id = credential.get("id") or credential["rawId"]
        response = {k: credential[k] for k in ("clientDataJSON", "authenticatorData", "signature")}
        if credential.get("userHandle"):
            response["userHandle"] = credential["userHandle"]
        credential = {"id": credential_id, "rawId": credential_id, "type": "public-key", "response": response}
    return parse_authentication_credential_json(credential)
