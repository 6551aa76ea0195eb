"""Email change exactly as S1 describes it.

Re-authentication with the current password; the new address must differ and be free; one
pending request per user (a new one voids the old); a 24-hour single-use link goes to the NEW
address; the account keeps its address until the link is used; then the old address is told.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.auth import Principal
from atelier_common.contracts.identity import Storefront
from atelier_identity import domain
from atelier_identity.context import IdentityContext
from atelier_identity.errors import EmailExists, InvalidEmailToken, SameEmail
from atelier_identity.mail import email_change_mail, email_changed_notice
from atelier_identity.models import EmailToken, User
from atelier_identity.repository import EmailTokenRepository, UserRepository
from atelier_identity.service._shared import Guard, now
from atelier_identity.service._use_case import IdentityUseCase


class EmailChangeService(IdentityUseCase):
    def __init__(self, session: AsyncSession, context: IdentityContext) -> None:
        super().__init__(session, context)
        self.guard = Guard(session, context)

    async def request(self, principal: Principal, *, password: str, new_email: str, ip: str,
                      storefront: Storefront) -> None:
        """Mail the confirmation link (to `storefront`'s page, from its sender) to the new address."""
        # Locked (once the password was checked): two requests at once still leave one pending change.
        user = await self.guard.reauthenticate(principal, password, ip=ip)
        new_email = domain.normalise_email(new_email)
        if new_email == user.email:
            raise SameEmail()
        if await UserRepository(self.session).get_by_email(new_email) is not None:
            if self.settings.email_change_reveals_taken_email:
                raise EmailExists()
            # S1: a taken address is ignored silently, so the answer tells nobody who has an account.
            return
        requested_at = now()
        tokens = EmailTokenRepository(self.session)
        await tokens.consume_all_for_user(user.id, domain.EMAIL_CHANGE, requested_at)
        secret = domain.new_secret()
        await tokens.add(EmailToken(user_id=user.id, purpose=domain.EMAIL_CHANGE, token_hash=domain.digest(secret),
                                    new_email=new_email, created_at=requested_at,
                                    expires_at=requested_at + timedelta(hours=self.settings.email_change_ttl_hours)))
        url = storefront.link("email_change", token=secret, code=secret, email=new_email)
        await self.mailer.queue(self.session, email_change_mail(
            to=new_email, first_name=user.first_name, url=url, token=secret,
            valid_hours=self.settings.email_change_ttl_hours), storefront)

    async def confirm(self, token: str, *, storefront: Storefront) -> User:
        """Move the account to the proven address; the old one is told (from `storefront`'s sender)."""
        confirmed_at = now()
        tokens = EmailTokenRepository(self.session)
        pending = await tokens.consume_token(domain.digest(token), domain.EMAIL_CHANGE, confirmed_at)
        users = UserRepository(self.session)
        user = await users.lock(pending.user_id) if pending else None
        if pending is None or pending.new_email is None or user is None or not user.is_active:
            raise InvalidEmailToken()
        old_email = user.email
        if not await users.change_email(user, pending.new_email):
            # Taken since the request (the unique constraint decides).
            raise EmailExists()
        # The link reached the new address: it is proven. Links mailed to the old one are void.
        user.email_verified_at = user.email_verified_at or confirmed_at
        user.updated_at = confirmed_at
        for purpose in (domain.VERIFY_EMAIL, domain.PASSWORD_RESET):
            await tokens.consume_all_for_user(user.id, purpose, confirmed_at)
        if old_email is not None:  # an account without an address (S0) just gained its first
            await self.mailer.queue(self.session, email_changed_notice(to=old_email, first_name=user.first_name,
                                                                       new_email=pending.new_email), storefront)
        return user
