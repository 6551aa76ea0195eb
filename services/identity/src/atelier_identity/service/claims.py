"""Anonymous customers becoming users: the claim (every sign-in method) and S0's auto-registration."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

import email_validator
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import outbox
from atelier_common.contracts.identity import AnonymousClaimed
from atelier_common.contracts.payments import OrderPaid
from atelier_identity import domain
from atelier_identity.errors import EmailExists
from atelier_identity.models import AnonymousClaim, User
from atelier_identity.repository import ClaimRepository, UserRepository
from atelier_identity.service.addresses import AddressService

if TYPE_CHECKING:
    from atelier_identity.service.passwords import PasswordService

log = logging.getLogger("atelier.identity.claims")


class Claims:
    def __init__(self, *, addresses: AddressService) -> None:
        self.addresses = addresses

    async def claim(self, session: AsyncSession, anon_id: uuid.UUID | None, user: User, *, via: str) -> bool:
        """What the anonymous visitor owns moves to the account.

        Identity moves its own data (addresses) in this transaction; the other services move
        theirs (carts, books, orders) on `identity.anonymous_claimed`.
        """
        if not domain.needs_claim(anon_id, user.id):
            return False
        assert anon_id is not None
        await self.addresses.adopt(session, from_owner=anon_id, to_owner=user.id)
        ClaimRepository(session).add(AnonymousClaim(anon_id=anon_id, user_id=user.id, via=via))
        await outbox.add(session, AnonymousClaimed(anon_id=anon_id, user_id=user.id))
        return True


class AutoRegistration:
    """S0: an anonymous buyer whose order is paid gets an account from the delivery address's email."""

    def __init__(self, *, claims: Claims, passwords: PasswordService) -> None:
        self.claims = claims
        self.passwords = passwords

    async def on_order_paid(self, session: AsyncSession, event: OrderPaid) -> User | None:
        if event.user_id is not None or event.anon_id is None or event.buyer is None or not event.buyer.email:
            return None
        try:
            email = domain.normalise_email(
                email_validator.validate_email(event.buyer.email, check_deliverability=False).normalized)
        except email_validator.EmailNotValidError:
            log.warning("order %s: the buyer's email is not valid; no account registered", event.order_id)
            return None
        users = UserRepository(session)
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
            self.passwords.send_welcome(session, user)
        await self.claims.claim(session, event.anon_id, user, via="order_paid")
        return user
