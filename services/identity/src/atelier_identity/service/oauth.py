"""Sign-in with an OpenID Connect provider (S2's Google flow) through authlib.

start: `return_to` checked, state + nonce + PKCE verifier kept server-side, the provider's URL.
callback: the state spent once, the code exchanged with the verifier, the id_token verified
(signature from the provider's JWKS, issuer, audience, nonce, expiry), the account found by
the provider identity, else linked by a verified email, else created. With `return_to` the
browser goes back there with a single-use 60-second ticket; without, tokens are answered.
exchange: the ticket becomes a session (the refresh token goes in the HttpOnly cookie).
"""

from __future__ import annotations

import logging
import uuid
import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from authlib.common.security import generate_token
from authlib.deprecate import AuthlibDeprecationWarning
from joserfc import jwt
from joserfc.errors import JoseError
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.contracts.identity import Storefront
from atelier_common.db import commit_on_error
from atelier_identity import domain
from atelier_identity.context import IdentityContext
from atelier_identity.errors import (
    AccountDisabled,
    InvalidEmailToken,
    InvalidReturnTo,
    OAuthEmailNotVerified,
    OAuthFailed,
)
from atelier_identity.models import EmailToken, OAuthAccount, OAuthState, User
from atelier_identity.oidc import Provider
from atelier_identity.repository import EmailTokenRepository, OAuthRepository, UserRepository
from atelier_identity.service._shared import Sessions, SignedIn, now, prove_email, registered
from atelier_identity.service._use_case import IdentityUseCase

# authlib 1.9 warns on import that it wants the `httpx2` package instead of httpx (its own fallback,
# which works); every `atelier` command imports this module, so the warning printed on each call.
# Only that one warning is silenced, and only for this import.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="The httpx module is deprecated", category=AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

log = logging.getLogger("atelier.identity.oauth")


@dataclass(frozen=True)
class ProviderIdentity:
    subject: str
    email: str
    email_verified: bool
    first_name: str
    last_name: str


@dataclass(frozen=True)
class CallbackOutcome:
    """Where the callback leads: a redirect to the frontend (with a ticket or an error), or tokens."""

    redirect_to: str | None = None
    signed_in: SignedIn | None = None


class OAuthService(IdentityUseCase):
    def __init__(self, session: AsyncSession, context: IdentityContext) -> None:
        super().__init__(session, context)
        self.oidc = context.oidc
        self.sessions = Sessions(session, context)

    async def start(self, provider_name: str, *, return_to: str | None, anon_id: uuid.UUID | None,
                    storefront: Storefront) -> str:
        """`return_to` must be on `storefront`'s frontend (or one of its origins); an account the
        callback creates signed up on `storefront`."""
        provider = self.oidc.get(provider_name)
        try:
            back_to = domain.resolve_return_to(return_to, storefront.frontend_url, storefront.origins)
        except ValueError as exc:
            raise InvalidReturnTo() from exc
        metadata = await self.oidc.discover(provider)
        state, verifier, nonce = domain.new_secret(), generate_token(64), domain.new_secret()
        async with self._client(provider) as client:
            url: str
            url, _ = client.create_authorization_url(metadata["authorization_endpoint"], state=state,
                                                     code_verifier=verifier, nonce=nonce)
        started_at = now()
        OAuthRepository(self.session).add_state(OAuthState(
            state_hash=domain.digest(state), provider=provider.name, code_verifier=verifier, nonce=nonce,
            return_to=back_to, storefront=storefront.slug, anon_id=anon_id, created_at=started_at,
            expires_at=started_at + timedelta(seconds=self.settings.oauth_state_ttl_seconds)))
        return url

    async def callback(self, provider_name: str, *, code: str | None, state: str | None, error: str | None,
                       anon_id: uuid.UUID | None) -> CallbackOutcome:
        """The provider is called before anything is written (no lock is held meanwhile); then the
        state is spent (whatever the outcome, `commit_on_error`) and the account signed in."""
        provider = self.oidc.get(provider_name)
        states = OAuthRepository(self.session)
        state_hash = domain.digest(state or "")
        started = await states.live_state(state_hash, provider.name, now())
        if started is None:
            raise InvalidEmailToken("The sign-in state is unknown, expired or already used")
        failure: OAuthFailed | OAuthEmailNotVerified | AccountDisabled | None = None
        try:
            if error or not code:
                raise OAuthFailed(details={"provider_error": error or "no code"})
            identity = await self._identify(provider, started, code)
        except OAuthFailed as exc:
            failure = exc
        # Spent once: of two callbacks with one state, only one goes on.
        if await states.consume_state(state_hash, provider.name, now()) is None:
            raise InvalidEmailToken("The sign-in state is unknown, expired or already used")
        if failure is None:
            try:
                # Refuses before it writes anything (a race on the account raises OAuthFailed and
                # rolls back: the provider's code is spent, so the state cannot be replayed).
                user = await self._account(provider, identity, signup_storefront=started.storefront)
            except (OAuthEmailNotVerified, AccountDisabled) as exc:
                failure = exc
        if failure is not None:
            if started.return_to is None:
                commit_on_error(self.session)
                raise failure
            return CallbackOutcome(redirect_to=domain.with_query(started.return_to, error=failure.code.lower()))
        anon = started.anon_id or anon_id
        if started.return_to is None:
            storefront = await self.context.storefront_of_event(started.storefront)
            signed_in = await self.sessions.sign_in(user, anon_id=anon, via="oauth", require_verified=False,
                                                    storefront=storefront)
            return CallbackOutcome(signed_in=signed_in)
        await self.sessions.admit(user, anon_id=anon, via="oauth", require_verified=False)
        return CallbackOutcome(redirect_to=domain.with_query(started.return_to, ticket=await self._ticket(user)))

    async def exchange(self, ticket: str, *, storefront: Storefront) -> SignedIn:
        """S2: the ticket from the redirect, spent once within a minute, becomes a session (on
        `storefront`, the one exchanging it)."""
        user_id = await EmailTokenRepository(self.session).consume(domain.digest(ticket), domain.OAUTH_TICKET, now())
        user = await UserRepository(self.session).get(user_id) if user_id else None
        if user is None:
            raise InvalidEmailToken("The ticket is unknown, expired or already used")
        if not user.is_active:
            raise AccountDisabled()
        return SignedIn(user=user, tokens=await self.sessions.issue(user, storefront=storefront))

    # -- helpers ----------------------------------------------------------------------------------

    def _client(self, provider: Provider) -> AsyncOAuth2Client:
        redirect_uri = f"{self.settings.public_base_url.rstrip('/')}/api/v1/auth/oauth/{provider.name}/callback"
        return AsyncOAuth2Client(client_id=provider.client_id, client_secret=provider.client_secret,
                                 scope=self.settings.oauth_scopes, redirect_uri=redirect_uri,
                                 code_challenge_method="S256", timeout=self.settings.oauth_http_timeout_seconds)

    async def _identify(self, provider: Provider, started: OAuthState, code: str) -> ProviderIdentity:
        metadata = await self.oidc.discover(provider)
        try:
            async with self._client(provider) as client:
                token = await client.fetch_token(metadata["token_endpoint"], code=code,
                                                 code_verifier=started.code_verifier)
        except Exception as exc:
            log.warning("OAuth code exchange with %s failed: %s", provider.name, exc)
            raise OAuthFailed(details={"provider_error": "the code could not be exchanged"}) from exc
        claims = await self._id_token_claims(provider, metadata, token.get("id_token"), started.nonce)
        if "userinfo_endpoint" in metadata and token.get("access_token"):
            userinfo = await self.oidc.get_json(metadata["userinfo_endpoint"],
                                            headers={"Authorization": f"Bearer {token['access_token']}"})
            if userinfo.get("sub") == claims["sub"]:
                claims = {**userinfo, **claims}
        email = claims.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise OAuthFailed(details={"provider_error": "the provider gave no email address"})
        verified = claims.get("email_verified")
        return ProviderIdentity(subject=str(claims["sub"]), email=domain.normalise_email(email),
                                email_verified=verified is True or str(verified).lower() == "true",
                                first_name=str(claims.get("given_name") or "")[:150],
                                last_name=str(claims.get("family_name") or "")[:150])

    async def _id_token_claims(self, provider: Provider, metadata: dict[str, Any], id_token: Any,
                               nonce: str) -> dict[str, Any]:
        if not isinstance(id_token, str):
            raise OAuthFailed(details={"provider_error": "no id_token"})
        registry = jwt.JWTClaimsRegistry(
            leeway=60, iss={"essential": True, "value": metadata["issuer"]},
            aud={"essential": True, "value": provider.client_id}, sub={"essential": True},
            exp={"essential": True}, nonce={"essential": True, "value": nonce})
        for refresh in (False, True):  # a key rotated since the last fetch: fetch again once
            try:
                decoded = jwt.decode(id_token, await self.oidc.key_set(provider, metadata, refresh=refresh),
                                     algorithms=["RS256", "ES256", "EdDSA", "PS256"])
                registry.validate(decoded.claims)
                return dict(decoded.claims)
            except JoseError as exc:
                if refresh:
                    log.warning("id_token from %s refused: %s", provider.name, exc)
                    raise OAuthFailed(details={"provider_error": "the id_token is not valid"}) from exc
        raise AssertionError("unreachable")

    async def _account(self, provider: Provider, identity: ProviderIdentity, *, signup_storefront: str) -> User:
        """The linked account, else the account of a verified email (linked now), else a new one."""
        links, users = OAuthRepository(self.session), UserRepository(self.session)
        linked = await links.get_account(provider.name, identity.subject)
        if linked is not None:
            user = await users.get(linked.user_id)
            assert user is not None  # the link is deleted with its user
            if not user.is_active:
                raise AccountDisabled()
            linked.last_login_at = now()
            return user
        if not identity.email_verified:
            # An unverified provider address proves nothing: it may not link, nor take the address.
            raise OAuthEmailNotVerified()
        user = await users.get_by_email(identity.email)
        if user is None:
            user = User(email=identity.email, first_name=identity.first_name, last_name=identity.last_name,
                        email_verified_at=now(), signup_storefront=signup_storefront)
            if not await users.add_unique(user):
                raise OAuthFailed(details={"provider_error": "the account was created meanwhile; try again"})
            await registered(self.session, user, "oauth")
        elif not user.is_active:
            raise AccountDisabled()
        else:
            await prove_email(self.session, user)
        if not await links.add_account(OAuthAccount(user_id=user.id, provider=provider.name,
                                                    subject=identity.subject, email=identity.email,
                                                    last_login_at=now())):
            raise OAuthFailed(details={"provider_error": "the account was linked meanwhile; try again"})
        return user

    async def _ticket(self, user: User) -> str:
        ticket, issued_at = domain.new_secret(), now()
        await EmailTokenRepository(self.session).add(EmailToken(
            user_id=user.id, purpose=domain.OAUTH_TICKET, token_hash=domain.digest(ticket), created_at=issued_at,
            expires_at=issued_at + timedelta(seconds=self.settings.oauth_ticket_ttl_seconds)))
        return ticket
