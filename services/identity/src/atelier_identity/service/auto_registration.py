"""S0's auto-registration: an anonymous buyer whose order is paid gets an account."""

from __future__ import annotations

import logging

import email_validator
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.contracts.payments import OrderPaid
from atelier_common.service import UseCase
from atelier_identity import domain
from atelier_identity.context import IdentityContext
from atelier_identity.errors import EmailExists
from atelier_identity.models import User
from atelier_identity.repository import UserRepository
from atelier_identity.service.claims import Claims
from atelier_identity.service.passwords import PasswordService

log = logging.getLogger("atelier.identity.claims")


class AutoRegistration(UseCase[IdentityContext]):
    """S0: an anonymous buyer whose order is paid gets an account from the delivery address's email."""

    def __init__(self, session: AsyncSession, context: IdentityContext) -> None:
        super().__init__(session, context)
        self.claims = Claims(session, context)
        self.passwords = PasswordService(session, context)

    async def on_order_paid(self, event: OrderPaid) -> User | None:
        if event.user_id is not None or event.anon_id is None or event.buyer is None or not event.buyer.email:
            return None
        try:
            email = domain.normalise_email(
                email_validator.validate_email(event.buyer.email, check_deliverability=False).normalized)
        except email_validator.EmailNotValidError:
            log.warning("order %s: the buyer's email is not valid; no account registered", event.order_id)
            return None
        users = UserRepository(self.session)
        user = await users.get_by_email(email)
        if user is None:
            buyer = event.buyer
            phone = buyer.phone if buyer.phone and domain.PHONE_PATTERN.fullmatch(buyer.phone.strip()) else None
            # Unverified and without a password: the welcome mail's link sets one (and proves the address).
            user = User(email=email, first_name=(buyer.first_name or "")[:150], last_name=(buyer.last_name or "")[:150],
                        phone=phone.strip() if phone else None)
            if not await users.add_unique(user):
                # Registered at this very moment by someone else: the redelivery finds the account.
                raise EmailExists()
            self.passwords.send_welcome(user)
        await self.claims.claim(event.anon_id, user, via="order_paid")
        return user
