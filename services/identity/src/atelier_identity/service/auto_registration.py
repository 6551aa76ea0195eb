"""Guest accounts (docs/storefronts.md#guest-accounts): an anonymous buyer whose paid order says so
gets an account. Orders decides when the order is placed, from the storefront's `guest_accounts`
("create" is S0's auto-registration) and the buyer's `create_account`; `order.paid` carries the
decision (`register_buyer`), so this reads nothing to know whether an event concerns it."""

from __future__ import annotations

import logging
import uuid

import email_validator
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import outbox
from atelier_common.contracts.identity import UserRegistered
from atelier_common.contracts.payments import OrderPaid
from atelier_identity import domain
from atelier_identity.context import IdentityContext
from atelier_identity.errors import EmailExists
from atelier_identity.repository import UserRepository
from atelier_identity.service._clock import now
from atelier_identity.service._use_case import IdentityUseCase
from atelier_identity.service.claims import Claims
from atelier_identity.service.passwords import PasswordService

log = logging.getLogger("atelier.identity.claims")


class AutoRegistration(IdentityUseCase):
    """An anonymous buyer whose paid order registers them gets an account from the delivery
    address's email; one the provider names (S0's `customer_id`) gets the order instead."""

    def __init__(self, session: AsyncSession, context: IdentityContext) -> None:
        super().__init__(session, context)
        self.claims = Claims(session, context)
        self.passwords = PasswordService(session, context)

    @staticmethod
    def concerns(event: OrderPaid, _context: object = None) -> bool:
        """Whether a paid order is an anonymous buyer's that registers them (`register_buyer`, orders'
        decision) or names their account (`customer_id`), from the event alone: any other one (a
        signed-in buyer's, a guest's who stays a guest) is acknowledged without a transaction
        (`inbox.Filtered`)."""
        return event.user_id is None and event.anon_id is not None and (
            event.register_buyer or event.customer_id is not None)

    async def on_order_paid(self, event: OrderPaid) -> uuid.UUID | None:
        """The buyer's account (registered now unless it exists), which claims the anonymous id."""
        if not self.concerns(event):
            return None
        if event.customer_id is not None:
            # S0: the provider names the buyer's account; registering from the address is the
            # fallback, where the order registers its buyer.
            customer = await UserRepository(self.session).get(event.customer_id)
            if customer is not None and customer.is_active:
                await self.claims.claim(event.anon_id, customer.id, via="order_paid")
                return customer.id
            log.warning("order %s names customer %s, who has no active account%s", event.order_id,
                        event.customer_id, "; registering from the delivery address" if event.register_buyer else "")
        if not event.register_buyer or event.buyer is None or not event.buyer.email:
            return None
        try:
            email = domain.normalise_email(
                email_validator.validate_email(event.buyer.email, check_deliverability=False).normalized)
        except email_validator.EmailNotValidError:
            log.warning("order %s: the buyer's email is not valid; no account registered", event.order_id)
            return None
        buyer = event.buyer
        phone = buyer.phone if buyer.phone and domain.PHONE_PATTERN.fullmatch(buyer.phone.strip()) else None
        first_name = (buyer.first_name or "")[:150]
        registered_at = now()
        storefront = await self.context.storefront_of_event(event.storefront)
        # Unverified and without a password: the welcome mail's link sets one (and proves the address).
        # Every column of the account, inserted unless one exists (one statement on PostgreSQL).
        account = await UserRepository(self.session).find_or_register({
            "id": uuid.uuid4(), "email": email, "password_hash": None, "first_name": first_name,
            "last_name": (buyer.last_name or "")[:150], "phone": phone.strip() if phone else None,
            "company_name": None, "tax_number": None, "username": None, "display_name": None, "is_staff": False,
            "staff_roles": [],
            "is_active": True,
            "signup_storefront": storefront.slug, "email_verified_at": None, "last_login_at": None,
            "created_at": registered_at, "updated_at": registered_at})
        if account is None:
            # Registered at this very moment by someone else: the redelivery finds the account.
            raise EmailExists()
        user_id, created = account
        if created:
            await self.passwords.send_welcome(user_id=user_id, email=email, first_name=first_name,
                                              storefront=storefront)
            await outbox.add(self.session, UserRegistered(user_id=user_id, email=email, storefront=storefront.slug,
                                                          via="order"))
        await self.claims.claim(event.anon_id, user_id, via="order_paid")
        return user_id
