"""Registration, email verification, password login, refresh rotation and logout.

Methods only flush; the request's transaction commits (also when a reused refresh token
revokes its family and then answers 401: see `refresh`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import outbox
from atelier_common.auth import Principal
from atelier_common.contracts.identity import Storefront, TokenRevoked
from atelier_common.db import commit_on_error
from atelier_common.errors import RateLimited
from atelier_identity import domain, policies
from atelier_identity.context import IdentityContext
from atelier_identity.domain import RefreshState
from atelier_identity.errors import (
    AccountDisabled,
    EmailExists,
    InvalidCredentials,
    InvalidEmailToken,
    InvalidRefreshToken,
    RefreshTokenReused,
    UsernameTaken,
    WeakPassword,
)
from atelier_identity.models import User
from atelier_identity.repository import EmailTokenRepository, RefreshTokenRepository, UserRepository
from atelier_identity.schemas import RegisterRequest
from atelier_identity.service._shared import Guard, IssuedTokens, Sessions, SignedIn, Verification, now, registered
from atelier_identity.service._use_case import IdentityUseCase
from atelier_identity.service.throttle import MailBudget, SignInThrottle
from atelier_identity.service.username_accounts import username_only


@dataclass(frozen=True)
class Registration:
    user: User
    # Only when verified email is not required: the new account is signed in at once.
    tokens: IssuedTokens | None


class AuthService(IdentityUseCase):
    def __init__(self, session: AsyncSession, context: IdentityContext) -> None:
        super().__init__(session, context)
        self.passwords = context.passwords
        self.throttle = SignInThrottle(context.settings, context.limiter, context.storefronts.all())
        self.mail = MailBudget(context.settings, context.limiter)
        self.guard = Guard(session, context)
        self.sessions = Sessions(session, context)
        self.verification = Verification(session, context)

    async def register(self, data: RegisterRequest, *, anon_id: uuid.UUID | None, ip: str,
                       storefront: Storefront) -> Registration:
        """A password account signed up on `storefront` from `ip` (its verification mail comes from
        there; its policies check the password and how many accounts an address may register); on
        an `email_optional` one a username and a password are enough (`username_only`)."""
        username_only(data, storefront)
        email = domain.normalise_email(data.email) if data.email is not None else None
        if problems := policies.password_problems(data.password, email or "", storefront):
            raise WeakPassword(problems)
        if rule := policies.registrations_rule(storefront):
            # Counted before the account exists: parallel sign-ups from one address cannot pass together.
            try:
                await self.limiter.hit(rule, "register-ip", storefront.slug, ip)
            except RateLimited as exc:
                raise RateLimited("Too many accounts registered from this address; try again later",
                                  details={**exc.details, "limit": "registrations_per_hour_per_ip",
                                           "per_hour": storefront.policies.registrations_per_hour_per_ip},
                                  headers=exc.headers) from exc
        users = UserRepository(self.session)
        if data.username is not None and await users.get_by_username(data.username) is not None:
            raise UsernameTaken()
        user = User(email=email, password_hash=await self.passwords.hash(data.password),
                    first_name=data.first_name or "", last_name=data.last_name or "", phone=data.phone,
                    company_name=data.company_name, username=data.username, display_name=data.display_name,
                    signup_storefront=storefront.slug)
        taken = await users.save_unique(user)
        if taken == "username":
            raise UsernameTaken()
        if taken is not None:
            raise EmailExists()
        await registered(self.session, user, "password")
        await self.verification.send(user, storefront)
        await self.sessions.claims.claim(anon_id, user.id, via="register")
        signs_in = not self.settings.require_verified_email or storefront.verified_email_optional
        tokens = await self.sessions.issue(user, storefront=storefront) if signs_in else None
        return Registration(user=user, tokens=tokens)

    async def verify_email(self, token: str) -> User:
        verified_at = now()
        tokens = EmailTokenRepository(self.session)
        user_id = await tokens.consume(domain.digest(token), domain.VERIFY_EMAIL, verified_at)
        user = await UserRepository(self.session).get(user_id) if user_id else None
        if user is None:
            raise InvalidEmailToken()
        if user.email_verified_at is None:
            user.email_verified_at = user.updated_at = verified_at
        # The other links mailed to this address have nothing left to prove.
        await tokens.consume_all_for_user(user.id, domain.VERIFY_EMAIL, verified_at)
        return user

    async def resend_verification(self, email: str, *, ip: str, storefront: Storefront) -> None:
        """Queue a new link when the account exists and is unverified, and the account's mail budget
        allows (docs/security.md); the caller never learns which."""
        email = domain.normalise_email(email)
        await self.guard.attempt("resend-verification", ip=ip, account=email,
                                 per_account_and_ip=self.settings.resend_verification_rate_limit_per_account_and_ip)
        user = await UserRepository(self.session).get_by_email(email)
        if user is not None and user.is_active and not user.is_verified and await self.mail.allows(email, ip):
            await self.verification.send(user, storefront)

    async def login(self, login: str, password: str, *, ip: str, anon_id: uuid.UUID | None,
                    storefront: Storefront | None = None) -> SignedIn:
        """Sign in with the email or the username (a login name without `@`) and the password; on a
        storefront whose accounts need no verified email, an unverified one too.

        The account is read and its password verified before the request's transaction begins, which
        then only writes the sign-in: on SQLite that transaction holds the one write lock from its
        first statement, and Argon2 (queued behind other sign-ins on a busy CPU) held it so long
        that parallel sign-ins failed with "database is locked".
        """
        name = domain.normalise_email(login)
        async with self.context.db.read_only() as reader:
            users = UserRepository(reader)
            found = await (users.get_by_email(name) if "@" in name else users.get_by_username(name))
        stored = found.password_hash if found is not None else None
        verified: tuple[bool, str | None] = (False, None)

        async def check() -> bool:
            nonlocal verified
            verified = await self.passwords.verify(password, stored)
            return verified[0]

        # Verified even when the account is unknown (against a dummy hash): no timing oracle. One
        # budget per account, whichever login name the guesses use; an unknown name has its own.
        account = str(found.id) if found is not None else name
        matches = await self.throttle.check_password(account, ip, check, storefront)
        user = await UserRepository(self.session).get(found.id) if found is not None and matches else None
        # A password changed since the read: the one just verified is no longer the account's.
        if user is None or user.password_hash != stored:
            raise InvalidCredentials()
        if rehashed := verified[1]:
            user.password_hash = rehashed  # a match in an older format: stored in the current one
        optional = storefront is not None and storefront.verified_email_optional
        return await self.sessions.sign_in(user, anon_id=anon_id, via="login", require_verified=not optional,
                                           storefront=storefront)

    async def refresh(self, presented: str | None, *, storefront: Storefront | None) -> IssuedTokens:
        """Rotate a refresh token: the presented one is spent, a new one of the same family returned
        (its access token living as the refreshing request's `storefront` says).

        A reused token revokes its family *and* answers 401: the revocation is kept
        (`commit_on_error`) although the request fails.
        """
        if not presented:
            raise InvalidRefreshToken("No refresh token was presented")
        rotated_at = now()
        tokens = RefreshTokenRepository(self.session)
        token = await tokens.get_with_user(domain.digest(presented))
        if token is not None and not token.user.is_active:
            # Suspended: said plainly to whoever holds one of its tokens, whatever its state.
            raise AccountDisabled()
        state = domain.refresh_state(token, rotated_at)
        if token is not None and state is RefreshState.REUSED:
            await tokens.revoke_family(token.family_id, rotated_at)
            commit_on_error(self.session)
            raise RefreshTokenReused()
        if token is not None and state is RefreshState.VALID:
            # Two concurrent rotations of one token (two tabs): the loser gets a 401 but the
            # family survives, since the winner's new token is legitimate.
            if await tokens.claim(token.id, rotated_at):
                return await self.sessions.issue(token.user, storefront=storefront, family_id=token.family_id)
        raise InvalidRefreshToken()

    async def logout(self, principal: Principal, presented_refresh: str | None) -> None:
        """End the session of the presented refresh token, or every session when none is presented.

        Without a refresh token we cannot tell which session is ending, so all of them end.
        The access token itself stays cryptographically valid until it expires: the gateway
        denies it on `identity.token_revoked`.
        """
        user_id = principal.user_id
        assert user_id is not None  # a UserPrincipal
        ended_at = now()
        tokens = RefreshTokenRepository(self.session)
        if presented_refresh is None:
            await tokens.revoke_all_for_user(user_id, ended_at)
        else:
            token = await tokens.get(domain.digest(presented_refresh))
            if token is not None and token.user_id == user_id:
                await tokens.revoke_family(token.family_id, ended_at)
        if principal.token_id and principal.expires_at:
            await outbox.add(self.session, TokenRevoked(user_id=user_id, jti=principal.token_id,
                                                   expires_at=principal.expires_at))
