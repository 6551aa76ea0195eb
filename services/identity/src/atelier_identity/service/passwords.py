"""Passwords: reset by mail (no account enumeration), change, and the welcome "set your password" link."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.auth import Principal
from atelier_common.contracts.identity import Storefront
from atelier_identity import domain, policies
from atelier_identity.context import IdentityContext
from atelier_identity.errors import InvalidEmailToken, WeakPassword
from atelier_identity.mail import password_reset_mail, welcome_mail
from atelier_identity.models import EmailToken, User
from atelier_identity.repository import EmailTokenRepository, UserRepository
from atelier_identity.schemas import ChangePasswordRequest, PasswordResetConfirm
from atelier_identity.service._shared import Guard, IssuedTokens, Sessions, now, prove_email
from atelier_identity.service._use_case import IdentityUseCase
from atelier_identity.service.throttle import MailBudget
from atelier_identity.service.username_accounts import mail_address


class PasswordService(IdentityUseCase):
    def __init__(self, session: AsyncSession, context: IdentityContext) -> None:
        super().__init__(session, context)
        self.passwords = context.passwords
        self.sessions = Sessions(session, context)
        self.guard = Guard(session, context)
        self.mail = MailBudget(context.settings, context.limiter)

    async def request_reset(self, email: str, *, ip: str, storefront: Storefront) -> None:
        """Mail a reset link (to `storefront`'s page, from its sender) when the account exists and
        its sign-in mail budget allows (docs/security.md); the caller is answered the same either way."""
        email = domain.normalise_email(email)
        await self.guard.attempt("password-reset", ip=ip, account=email,
                                 per_account_and_ip=self.settings.password_reset_rate_limit_per_account_and_ip)
        user = await UserRepository(self.session).get_by_email(email)
        if user is None or not user.is_active or not await self.mail.allows(email, ip):
            return
        await self.mail_reset(user, storefront)

    async def mail_reset(self, user: User, storefront: Storefront) -> None:
        """Queue a reset link for `user` (also what support sends from the back office); 409
        `NO_EMAIL_ADDRESS` for an account without an address."""
        to = mail_address(user)
        secret = await self._new_token(user.id, timedelta(minutes=self.settings.password_reset_ttl_minutes))
        url = storefront.link("reset_password", token=secret, email=to)
        await self.mailer.queue(self.session, password_reset_mail(
            to=to, first_name=user.first_name, url=url, valid_minutes=self.settings.password_reset_ttl_minutes),
            storefront)

    async def send_welcome(self, *, user_id: uuid.UUID, email: str, first_name: str, storefront: Storefront) -> None:
        """S0's auto-registered buyer: a reset token under another name, valid longer, mailed from the
        storefront the order was paid on."""
        secret = await self._new_token(user_id, timedelta(hours=self.settings.welcome_password_ttl_hours))
        url = storefront.link("set_password", token=secret, email=email)
        await self.mailer.queue(self.session, welcome_mail(to=email, first_name=first_name, url=url,
                                                           valid_hours=self.settings.welcome_password_ttl_hours),
                                storefront)

    async def confirm_reset(self, data: PasswordResetConfirm, *, ip: str, storefront: Storefront) -> User:
        """Set the new password (checked by `storefront`'s password policy: the reset or set-password
        page posting it), prove the address, and end every session."""
        await self.guard.attempt("password-reset-confirm", ip=ip)
        tokens = EmailTokenRepository(self.session)
        user_id = await tokens.consume(domain.digest(data.token), domain.PASSWORD_RESET, now())
        user = await UserRepository(self.session).lock(user_id) if user_id else None
        if user is None or not user.is_active:
            raise InvalidEmailToken()
        await self._set_password(user, data.new_password, storefront)
        # The link reached the address: that proves it (and voids credentials set without proof).
        await prove_email(self.session, user, keep_password=True)
        await tokens.consume_all_for_user(user.id, domain.PASSWORD_RESET, now())
        await self.sessions.end_all(user.id)
        return user

    async def change(self, principal: Principal, data: ChangePasswordRequest, *,
                     ip: str, storefront: Storefront) -> IssuedTokens:
        """Change the password with the current one (checked by `storefront`'s password policy).
        Every other session ends; the caller's goes on (its tokens keep working) and is handed a new
        pair of its own. A caller whose token names no ongoing session (signed before sessions had
        ids, or logged out) ends them all and gets a new one.

        Both passwords are hashed before the request's transaction begins (`Guard.account`)."""
        account = await self.guard.account(principal)
        await self.guard.check(account, data.current_password, ip=ip, storefront=storefront)
        password_hash = await self._hashed(data.new_password, account, storefront)
        user = await self.guard.locked(account)
        user.password_hash, user.updated_at = password_hash, now()
        keep = await self.sessions.ongoing(user.id, principal.session_id)
        ended_at = await self.sessions.end_all(user.id, keep=keep)
        return await self.sessions.issue(user, storefront=storefront, family_id=keep, not_before=ended_at)

    async def _set_password(self, user: User, password: str, storefront: Storefront) -> None:
        user.password_hash = await self._hashed(password, user, storefront)
        user.updated_at = now()

    async def _hashed(self, password: str, user: User, storefront: Storefront) -> str:
        if problems := policies.password_problems(password, user.email or "", storefront):
            raise WeakPassword(problems)
        return await self.passwords.hash(password)

    async def _new_token(self, user_id: uuid.UUID, ttl: timedelta) -> str:
        """A single-use reset token; every one left is voided when one of them is used."""
        created_at = now()
        secret = domain.new_secret()
        await EmailTokenRepository(self.session).add(EmailToken(
            user_id=user_id, purpose=domain.PASSWORD_RESET, token_hash=domain.digest(secret), created_at=created_at,
            expires_at=created_at + ttl))
        return secret
