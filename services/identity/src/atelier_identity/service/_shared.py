"""What the use cases share: the clock, issued sessions, rate-limited re-authentication, proofs of an address.

`Sessions`, `Guard` and `Verification` are built like use cases, from `(session, context)`, by the
use cases that need them (cheap: they only keep references).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import outbox
from atelier_common.auth import Principal
from atelier_common.contracts.identity import Storefront, TokenRevoked, UserRegistered
from atelier_identity import domain, policies
from atelier_identity.context import IdentityContext
from atelier_identity.errors import AccountDisabled, AccountGone, EmailNotVerified, WrongPassword
from atelier_identity.mail import verification_mail
from atelier_identity.models import EmailToken, RefreshToken, User
from atelier_identity.repository import (
    EmailTokenRepository,
    PasskeyRepository,
    RefreshTokenRepository,
    UserRepository,
)
from atelier_identity.repository.customer_groups import CustomerGroupRepository
from atelier_identity.service._clock import now
from atelier_identity.service._use_case import IdentityUseCase
from atelier_identity.service.claims import Claims
from atelier_identity.service.throttle import SignInThrottle

__all__ = ["Guard", "IssuedTokens", "Sessions", "SignedIn", "Verification", "now", "prove_email", "registered"]


async def registered(session: AsyncSession, user: User, via: str) -> None:
    """Announce a new account (outbound webhooks hear it), in the transaction that created it."""
    await outbox.add(session, UserRegistered(user_id=user.id, email=user.email, via=via,
                                             storefront=user.signup_storefront))


@dataclass(frozen=True)
class IssuedTokens:
    access: str
    refresh: str
    expires_in: int
    refresh_expires_at: datetime


@dataclass(frozen=True)
class SignedIn:
    user: User
    tokens: IssuedTokens
    # The sign-in created the account (magic link, passkey signup).
    created: bool = False


class Sessions(IdentityUseCase):
    """Every sign-in method ends here: the account's checks, the anonymous claim, the tokens."""

    def __init__(self, session: AsyncSession, context: IdentityContext) -> None:
        super().__init__(session, context)
        self.signer = context.signer
        self.claims = Claims(session, context)
        self.refresh_ttl = timedelta(days=context.settings.refresh_token_ttl_days)

    async def admit(self, user: User, *, anon_id: uuid.UUID | None, via: str,
                    require_verified: bool = True) -> None:
        """Check that `user` may sign in now, record it and claim the anonymous visitor.

        `require_verified` is False for methods that prove the address themselves (magic link,
        a provider's verified email).
        """
        if not user.is_active:
            raise AccountDisabled()
        # An account without an address (S0's username accounts) has nothing to verify.
        if require_verified and self.settings.require_verified_email and user.email is not None and not user.is_verified:
            raise EmailNotVerified()
        user.last_login_at = now()
        await self.claims.claim(anon_id, user.id, via=via)

    async def sign_in(self, user: User, *, anon_id: uuid.UUID | None, via: str, storefront: Storefront | None,
                      require_verified: bool = True, created: bool = False) -> SignedIn:
        await self.admit(user, anon_id=anon_id, via=via, require_verified=require_verified)
        return SignedIn(user=user, tokens=await self.issue(user, storefront=storefront), created=created)

    async def issue(self, user: User, *, storefront: Storefront | None, family_id: uuid.UUID | None = None,
                    not_before: datetime | None = None) -> IssuedTokens:
        """A new access token and refresh token (a new family unless rotating one); the access
        token lives as `storefront` says (`access_token_minutes`; None: the install's lifetime).

        `not_before`: the instant sessions were just ended; the new access token must be issued
        after it, or the gateway would refuse it with the old ones.
        """
        issued_at = now()
        if not_before is not None and issued_at <= not_before:
            issued_at = not_before + timedelta(microseconds=1)
        secret = domain.new_secret()
        refresh = RefreshToken(user_id=user.id, family_id=family_id or uuid.uuid4(), token_hash=domain.digest(secret),
                               created_at=issued_at, expires_at=issued_at + self.refresh_ttl,
                               storefront=storefront.slug if storefront is not None else None)
        RefreshTokenRepository(self.session).add(refresh)
        await self.session.flush()
        ttl = policies.access_ttl(storefront, self.settings)
        slug = storefront.slug if storefront is not None else None
        access = self.signer.sign(user, issued_at, ttl, session_id=refresh.family_id,
                                  group=await self.group_of(user, slug), storefront=slug)
        return IssuedTokens(access=access.token, refresh=secret, expires_in=int(ttl.total_seconds()),
                            refresh_expires_at=refresh.expires_at)

    async def group_of(self, user: User, storefront: str | None) -> str | None:
        """The customer group staff put `user` in on `storefront` (`domain.token_group`)."""
        if storefront is None or user.staff_roles:
            return None
        return domain.token_group(await CustomerGroupRepository(self.session).code_of(user.id, storefront),
                                  user.staff_roles)

    async def end_all(self, user_id: uuid.UUID, *, keep: uuid.UUID | None = None) -> datetime:
        """End every session of the user but `keep` (a refresh token family, the access tokens'
        `sid`): refresh tokens revoked, every access token issued so far refused by the gateway
        (`identity.token_revoked` with `all_before`, and `keep_session`). Returns that instant.
        """
        ended_at = now()
        await RefreshTokenRepository(self.session).revoke_all_for_user(user_id, ended_at, except_family=keep)
        await outbox.add(self.session, TokenRevoked(user_id=user_id, all_before=ended_at, keep_session=keep,
                                                    expires_at=ended_at + self.context.longest_access_ttl))
        return ended_at

    async def ongoing(self, user_id: uuid.UUID, session_id: uuid.UUID | None) -> uuid.UUID | None:
        """`session_id` (an access token's `sid`) when it is a session of the user that goes on; None
        for a token signed before sessions had ids, or one whose session ended (logged out, expired)."""
        if session_id is None:
            return None
        alive = await RefreshTokenRepository(self.session).family_alive(user_id, session_id, now())
        return session_id if alive else None


class Guard(IdentityUseCase):
    """Rate limits on credential attempts, and re-authentication of a signed-in user."""

    def __init__(self, session: AsyncSession, context: IdentityContext) -> None:
        super().__init__(session, context)
        self.passwords = context.passwords

    async def attempt(self, action: str, *, ip: str, account: str | None = None,
                      per_account_and_ip: str | None = None) -> None:
        """Count one attempt of `action` per client address and, for an account, per (account,
        client address) (counted before any check): requests from elsewhere never use up the
        owner's budget (docs/security.md)."""
        await self.limiter.hit(self.settings.credential_rate_limit_per_ip, f"{action}-ip", ip)
        if account is not None:
            await self.limiter.hit(per_account_and_ip or self.settings.credential_rate_limit_per_account_and_ip,
                                   f"{action}-account-ip", account, ip)

    async def reauthenticate(self, principal: Principal, password: str, *, ip: str,
                             storefront: Storefront | None = None) -> User:
        """The caller's account, locked in the request's transaction, once its current password was
        checked (`account`, `check`, `locked`)."""
        account = await self.account(principal)
        rehashed = await self.check(account, password, ip=ip, storefront=storefront)
        return await self.locked(account, rehashed=rehashed)

    async def account(self, principal: Principal) -> User:
        """The caller's account, read before the request's transaction begins: on SQLite that
        transaction holds the one write lock from its first statement, and a password check (Argon2,
        queued behind others on a busy CPU) inside it made parallel requests fail "database is locked"."""
        async with self.context.db.read_only() as reader:
            user = await UserRepository(reader).get(principal.user_id) if principal.user_id else None
        if user is None or not user.is_active:
            raise AccountGone()
        return user

    async def check(self, account: User, password: str, *, ip: str, storefront: Storefront | None = None) -> str | None:
        """Check the current password of `account` (as `account` read it): a guess here counts as
        one at login (`SignInThrottle`). Returns the re-hash due for a match in an older format."""
        throttle = SignInThrottle(self.settings, self.limiter, self.context.storefronts.all())
        rehashed: str | None = None

        async def verify() -> bool:
            nonlocal rehashed
            matches, rehashed = await self.passwords.verify(password, account.password_hash)
            return matches

        if not await throttle.check_password(str(account.id), ip, verify, storefront):
            raise WrongPassword()
        return rehashed

    async def locked(self, account: User, *, rehashed: str | None = None) -> User:
        """`account` locked in the request's transaction (its first statement), after the checks;
        `rehashed` stored on it. A password changed since the read: the one checked is no longer
        the account's (400 `INVALID_PASSWORD`)."""
        user = await UserRepository(self.session).lock(account.id)
        if user is None or not user.is_active:
            raise AccountGone()
        if user.password_hash != account.password_hash:
            raise WrongPassword()
        if rehashed:
            user.password_hash = rehashed
        return user


class Verification(IdentityUseCase):
    """Mailed proofs of an address."""

    def __init__(self, session: AsyncSession, context: IdentityContext) -> None:
        super().__init__(session, context)
        self.ttl = timedelta(hours=context.settings.email_verification_ttl_hours)

    async def send(self, user: User, storefront: Storefront) -> None:
        """Queue a verification link (into `storefront`, from its sender) for the account's current
        address; nothing for an account without one (S0's username accounts)."""
        if user.email is None:
            return
        sent_at = now()
        secret = domain.new_secret()
        await EmailTokenRepository(self.session).add(EmailToken(
            user_id=user.id, purpose=domain.VERIFY_EMAIL, token_hash=domain.digest(secret), created_at=sent_at,
            expires_at=sent_at + self.ttl))
        # The mailed token is also the code to type in: a template may use either.
        url = storefront.link("verify_email", token=secret, code=secret, email=user.email)
        await self.mailer.queue(self.session, verification_mail(to=user.email, first_name=user.first_name, url=url,
                                                                token=secret,
                                                                valid_hours=self.settings.email_verification_ttl_hours),
                                storefront)


async def prove_email(session: AsyncSession, user: User, *, keep_password: bool = False) -> None:
    """The address was just proven by another channel (magic link, provider, reset link).

    An account that was never verified may have been created by someone who does not own the
    address (pre-registering a victim's email): the credentials set without proof go — password
    and passkeys — and its sessions end. Then the account is verified.
    """
    if user.email_verified_at is not None:
        return
    proven_at = now()
    if not keep_password:
        user.password_hash = None
    await PasskeyRepository(session).delete_all_for_user(user.id)
    await RefreshTokenRepository(session).revoke_all_for_user(user.id, proven_at)
    user.email_verified_at = user.updated_at = proven_at
