"""Use cases of the identity service: accounts, sign-in, token rotation, email verification.

Methods take the request's session first and only flush; the request dependency commits.
The one exception is `AuthService.refresh`, which owns its transaction (see there).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import email_validator
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import outbox
from atelier_common.auth import Principal
from atelier_common.contracts.identity import AnonymousClaimed, TokenRevoked
from atelier_common.db import Database
from atelier_common.ratelimit import RateLimiter
from atelier_identity import domain
from atelier_identity.domain import RefreshState
from atelier_identity.errors import (AccountDisabled, AccountGone, EmailExists, EmailNotVerified, InvalidCredentials,
                                     InvalidEmail, InvalidEmailToken, InvalidRefreshToken, RefreshTokenReused,
                                     UserNotFound, WeakPassword)
from atelier_identity.mail import Mailer, link, verification_mail
from atelier_identity.models import EmailToken, RefreshToken, User
from atelier_identity.repository import EmailTokenRepository, RefreshTokenRepository, UserRepository
from atelier_identity.schemas import RegisterRequest, UserUpdate
from atelier_identity.security import AccessTokenSigner, PasswordHasher
from atelier_identity.settings import IdentitySettings


def _now() -> datetime:
    return datetime.now(UTC)


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


@dataclass(frozen=True)
class Registration:
    user: User
    # Only when verified email is not required: the new account is signed in at once.
    tokens: IssuedTokens | None


class AuthService:
    def __init__(self, *, db: Database, settings: IdentitySettings, passwords: PasswordHasher,
                 signer: AccessTokenSigner, limiter: RateLimiter, mailer: Mailer) -> None:
        self.db = db
        self.settings = settings
        self.passwords = passwords
        self.signer = signer
        self.limiter = limiter
        self.mailer = mailer
        self.refresh_ttl = timedelta(days=settings.refresh_token_ttl_days)
        self.verification_ttl = timedelta(hours=settings.email_verification_ttl_hours)

    async def register(self, session: AsyncSession, data: RegisterRequest, *,
                       anon_id: uuid.UUID | None) -> Registration:
        email = domain.normalise_email(data.email)
        if problems := domain.password_problems(data.password, email):
            raise WeakPassword(problems)
        user = User(email=email, password_hash=await self.passwords.hash(data.password),
                    first_name=data.first_name, last_name=data.last_name, phone=data.phone,
                    company_name=data.company_name)
        if not await UserRepository(session).add_unique(user):
            raise EmailExists()
        self._send_verification(session, user, _now())
        await self._claim_anonymous(session, anon_id, user)
        tokens = None if self.settings.require_verified_email else await self._issue(session, user)
        return Registration(user=user, tokens=tokens)

    async def verify_email(self, session: AsyncSession, token: str) -> User:
        now = _now()
        tokens = EmailTokenRepository(session)
        user_id = await tokens.consume(domain.digest(token), domain.VERIFY_EMAIL, now)
        user = await UserRepository(session).get(user_id) if user_id else None
        if user is None:
            raise InvalidEmailToken()
        if user.email_verified_at is None:
            user.email_verified_at = user.updated_at = now
        # The other links mailed to this address have nothing left to prove.
        await tokens.consume_all_for_user(user.id, domain.VERIFY_EMAIL, now)
        return user

    async def resend_verification(self, session: AsyncSession, email: str) -> None:
        """Queue a new link when the account exists and is unverified; the caller never learns which."""
        email = domain.normalise_email(email)
        await self.limiter.hit(self.settings.resend_verification_rate_limit, "resend-verification", email)
        user = await UserRepository(session).get_by_email(email)
        if user is not None and user.is_active and not user.is_verified:
            self._send_verification(session, user, _now())

    async def login(self, session: AsyncSession, email: str, password: str, *, ip: str,
                    anon_id: uuid.UUID | None) -> SignedIn:
        email = domain.normalise_email(email)
        await self.limiter.hit(self.settings.login_rate_limit_per_ip, "login-ip", ip)
        await self.limiter.hit(self.settings.login_rate_limit_per_account, "login-account", email)
        user = await UserRepository(session).get_by_email(email)
        # Verified even when the account is unknown (against a dummy hash): no timing oracle.
        matches, rehashed = await self.passwords.verify(password, user.password_hash if user else None)
        if user is None or not matches:
            raise InvalidCredentials()
        if not user.is_active:
            raise AccountDisabled()
        if self.settings.require_verified_email and not user.is_verified:
            raise EmailNotVerified()
        if rehashed:
            user.password_hash = rehashed
        user.last_login_at = _now()
        tokens = await self._issue(session, user)
        await self._claim_anonymous(session, anon_id, user)
        return SignedIn(user=user, tokens=tokens)

    async def refresh(self, presented: str | None) -> IssuedTokens:
        """Rotate a refresh token: the presented one is spent, a new one of the same family returned.

        This use case owns its transaction because a reused token must revoke its family *and*
        answer 401: the revocation is committed before the error is raised.
        """
        if not presented:
            raise InvalidRefreshToken("No refresh token was presented")
        now = _now()
        async with self.db.transaction() as session:
            tokens = RefreshTokenRepository(session)
            token = await tokens.get_with_user(domain.digest(presented))
            state = domain.refresh_state(token, now)
            if token is not None and state is RefreshState.REUSED:
                await tokens.revoke_family(token.family_id, now)
            elif token is not None and state is RefreshState.VALID and token.user.is_active:
                # Two concurrent rotations of one token (two tabs): the loser gets a 401 but the
                # family survives, since the winner's new token is legitimate.
                if await tokens.claim(token.id, now):
                    return await self._issue(session, token.user, family_id=token.family_id)
        raise RefreshTokenReused() if state is RefreshState.REUSED else InvalidRefreshToken()

    async def logout(self, session: AsyncSession, principal: Principal, presented_refresh: str | None) -> None:
        """End the session of the presented refresh token, or every session when none is presented.

        Without a refresh token we cannot tell which session is ending, so all of them end.
        The access token itself stays cryptographically valid until it expires: the gateway
        denies it on `identity.token_revoked`.
        """
        user_id = principal.user_id
        assert user_id is not None  # a UserPrincipal
        now = _now()
        tokens = RefreshTokenRepository(session)
        if presented_refresh is None:
            await tokens.revoke_all_for_user(user_id, now)
        else:
            token = await tokens.get(domain.digest(presented_refresh))
            if token is not None and token.user_id == user_id:
                await tokens.revoke_family(token.family_id, now)
        if principal.token_id and principal.expires_at:
            await outbox.add(session, TokenRevoked(user_id=user_id, jti=principal.token_id,
                                                   expires_at=principal.expires_at))

    async def _issue(self, session: AsyncSession, user: User, *, family_id: uuid.UUID | None = None) -> IssuedTokens:
        now = _now()
        secret = domain.new_secret()
        refresh = RefreshToken(user_id=user.id, family_id=family_id or uuid.uuid4(), token_hash=domain.digest(secret),
                               created_at=now, expires_at=now + self.refresh_ttl)
        RefreshTokenRepository(session).add(refresh)
        await session.flush()
        access = self.signer.sign(user, now)
        return IssuedTokens(access=access.token, refresh=secret, expires_in=int(self.signer.ttl.total_seconds()),
                            refresh_expires_at=refresh.expires_at)

    def _send_verification(self, session: AsyncSession, user: User, now: datetime) -> None:
        secret = domain.new_secret()
        EmailTokenRepository(session).add(EmailToken(
            user_id=user.id, purpose=domain.VERIFY_EMAIL, token_hash=domain.digest(secret), created_at=now,
            expires_at=now + self.verification_ttl))
        url = link(self.settings.frontend_url, "/verify-email", token=secret)
        self.mailer.queue(session, verification_mail(to=user.email, first_name=user.first_name, url=url,
                                                     token=secret,
                                                     valid_hours=self.settings.email_verification_ttl_hours))

    @staticmethod
    async def _claim_anonymous(session: AsyncSession, anon_id: uuid.UUID | None, user: User) -> None:
        """What the anonymous visitor owns (carts, books, orders) moves to the account."""
        if anon_id is not None:
            await outbox.add(session, AnonymousClaimed(anon_id=anon_id, user_id=user.id))


class UserService:
    async def current(self, session: AsyncSession, principal: Principal) -> User:
        """The account of a verified access token; it may have been deleted or disabled since."""
        user = await UserRepository(session).get(principal.user_id) if principal.user_id else None
        if user is None or not user.is_active:
            raise AccountGone()
        return user

    async def update_profile(self, session: AsyncSession, principal: Principal, changes: UserUpdate) -> User:
        user = await self.current(session, principal)
        for field, value in changes.model_dump(exclude_unset=True).items():
            setattr(user, field, value)
        user.updated_at = _now()
        await session.flush()
        return user

    async def get(self, session: AsyncSession, user_id: uuid.UUID) -> User:
        user = await UserRepository(session).get(user_id)
        if user is None:
            raise UserNotFound()
        return user


async def create_user(db: Database, *, email: str, password: str, staff: bool, verified: bool = True,
                      passwords: PasswordHasher | None = None) -> User:
    """Create an account, or keep an existing one with that email (promoted with `staff`, verified
    with `verified`; its password is left alone). For the CLI and the staff bootstrap at start.
    """
    try:
        email = domain.normalise_email(email_validator.validate_email(email, check_deliverability=False).normalized)
    except email_validator.EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from exc
    if problems := domain.password_problems(password, email):
        raise WeakPassword(problems)
    passwords = passwords or PasswordHasher()
    # Two attempts: another process starting at the same moment may insert the account between
    # our read and our insert; the second attempt then finds and keeps it.
    for attempt in range(2):
        try:
            async with db.transaction() as session:
                return await _create_or_keep(session, email, password, passwords, staff=staff, verified=verified)
        except EmailExists:
            if attempt:
                raise
    raise AssertionError("unreachable")


async def _create_or_keep(session: AsyncSession, email: str, password: str, passwords: PasswordHasher, *,
                          staff: bool, verified: bool) -> User:
    users = UserRepository(session)
    now = _now()
    user = await users.get_by_email(email)
    if user is None:
        user = User(email=email, password_hash=await passwords.hash(password), first_name="", last_name="")
        if not await users.add_unique(user):
            raise EmailExists()
    user.is_staff = user.is_staff or staff
    if verified and user.email_verified_at is None:
        user.email_verified_at = now
    user.updated_at = now
    return user
