"""What support does to a customer's account: suspend, reactivate, verify, reset, a new
verification mail, sign out; its live sessions, and the mail identity sent them, resent.

Idempotent by state: suspending a suspended account, reactivating an active one, verifying a
verified address or signing out an account without sessions changes nothing and records no audit
row (the answer is the same account). A reset mail, a verification mail and a resend send a mail
each time they are asked (that is what they are for); a retried request carries an `Idempotency-Key`.

Stale forms: each write takes the `version` the console read (`atelier_common.versions`).

Staff accounts: every action here on an account holding any staff role needs the admin role
(`domain.may_act_on_account`), whichever route or console page asks; suspending and reactivating
any account are the admin's (their routes).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import audit
from atelier_common.auth import Principal
from atelier_common.versions import check_version
from atelier_identity import domain
from atelier_identity.context import IdentityContext
from atelier_identity.errors import (
    AccountSuspended,
    EmailAlreadyVerified,
    MailNotFound,
    StaffAccountNeedsAdmin,
    UserNotFound,
)
from atelier_identity.models import MailMessage, User
from atelier_identity.repository import EmailTokenRepository, UserRepository
from atelier_identity.repository.staff import StaffMailRepository, active_sessions, live_sessions
from atelier_identity.service._clock import now
from atelier_identity.service._shared import Sessions, Verification
from atelier_identity.service._use_case import IdentityUseCase
from atelier_identity.service.passwords import PasswordService
from atelier_identity.service.staff import apply_suspension
from atelier_identity.service.username_accounts import mail_address


@dataclass(frozen=True)
class CustomerCard:
    """An account with what support asks next: how many sessions it has."""

    user: User
    active_sessions: int


def customer_state(user: User) -> dict[str, object]:
    """What a stale form is shown (`STALE_VERSION`'s `details.current`)."""
    return {"id": str(user.id), "email": user.email, "is_active": user.is_active,
            "email_verified_at": user.email_verified_at.isoformat() if user.email_verified_at else None,
            "version": user.version}


@dataclass(frozen=True)
class CustomerSession:
    """A session as support sees it: a signed-in device's refresh token family, by its id."""

    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime  # its last sign-in or refresh (access tokens are not counted)
    expires_at: datetime
    storefront: str | None


class CustomerCare(IdentityUseCase):
    """`POST /api/v1/staff/customers/{id}/…`: each locks the account, checks the form's version,
    changes it when needed and records the change."""

    def __init__(self, session: AsyncSession, context: IdentityContext) -> None:
        super().__init__(session, context)
        self.sessions = Sessions(session, context)

    async def card(self, user_id: uuid.UUID, viewer: Principal) -> CustomerCard:
        user = await UserRepository(self.session).get(user_id)
        if user is None or not domain.customer_in_scope(viewer, user):
            raise UserNotFound()
        return CustomerCard(user, await active_sessions(self.session, user.id, now()))

    async def sessions_of(self, user_id: uuid.UUID, viewer: Principal, *, limit: int,
                          offset: int) -> tuple[int, list[CustomerSession]]:
        """The account's live sessions, the most recently active first."""
        user = await UserRepository(self.session).get(user_id)
        if user is None or not domain.customer_in_scope(viewer, user):
            raise UserNotFound()
        at = now()
        rows = await live_sessions(self.session, user.id, at, limit=limit, offset=offset)
        return await active_sessions(self.session, user.id, at), [
            CustomerSession(id=row.token.family_id, created_at=row.started_at, last_used_at=row.token.created_at,
                            expires_at=row.token.expires_at, storefront=row.token.storefront) for row in rows]

    async def _load(self, user_id: uuid.UUID, staff: Principal, expected_version: str | None) -> User:
        user = await UserRepository(self.session).lock(user_id)
        if user is None or not domain.customer_in_scope(staff, user):
            raise UserNotFound()
        if not domain.may_act_on_account(staff, user):
            raise StaffAccountNeedsAdmin()
        check_version(expected_version, user.version, customer_state(user))
        return user

    async def suspend(self, user_id: uuid.UUID, staff: Principal, *, reason: str | None = None,
                      expected_version: str | None = None) -> CustomerCard:
        """The account can no longer sign in or refresh (403 `ACCOUNT_DISABLED`), and every session
        it has ends at once."""
        user = await self._load(user_id, staff, expected_version)
        if await apply_suspension(self.session, user, True, self.context.longest_access_ttl):
            await audit.record(self.session, staff, "customer.suspend", "user", user.id, reason=reason,
                               before={"is_active": True}, after={"is_active": False})
        return await self.card(user.id, staff)

    async def reactivate(self, user_id: uuid.UUID, staff: Principal, *, reason: str | None = None,
                         expected_version: str | None = None) -> CustomerCard:
        user = await self._load(user_id, staff, expected_version)
        if await apply_suspension(self.session, user, False, self.context.longest_access_ttl):
            await audit.record(self.session, staff, "customer.reactivate", "user", user.id, reason=reason,
                               before={"is_active": False}, after={"is_active": True})
        return await self.card(user.id, staff)

    async def verify_email(self, user_id: uuid.UUID, staff: Principal, *, reason: str | None = None,
                           expected_version: str | None = None) -> CustomerCard:
        """Mark the address verified on the staffer's word (the customer proved it to them); the
        verification links still out are spent. Credentials stay: support vouches for the person."""
        user = await self._load(user_id, staff, expected_version)
        mail_address(user)  # no address, nothing to vouch for
        if user.email_verified_at is None:
            verified_at = now()
            user.email_verified_at = user.updated_at = verified_at
            await EmailTokenRepository(self.session).consume_all_for_user(user.id, domain.VERIFY_EMAIL, verified_at)
            await audit.record(self.session, staff, "customer.verify_email", "user", user.id, reason=reason,
                               before={"email_verified_at": None}, after={"email_verified_at": verified_at})
        return await self.card(user.id, staff)

    async def send_password_reset(self, user_id: uuid.UUID, staff: Principal, *, reason: str | None = None,
                                  expected_version: str | None = None) -> CustomerCard:
        """Mail the customer a reset link into the storefront they signed up on."""
        user = await self._load(user_id, staff, expected_version)
        if not user.is_active:
            # The reset page refuses a suspended account: a link would not work.
            raise AccountSuspended()
        storefront = await self.context.storefront_of_event(user.signup_storefront)
        await PasswordService(self.session, self.context).mail_reset(user, storefront)
        await audit.record(self.session, staff, "customer.password_reset", "user", user.id, reason=reason,
                           after={"mailed_to": user.email})
        return await self.card(user.id, staff)

    async def send_verification(self, user_id: uuid.UUID, staff: Principal, *, reason: str | None = None,
                                expected_version: str | None = None) -> CustomerCard:
        """Mail the customer a new verification link (the customer's own "resend", without its
        throttle: a staffer asks) into the storefront they signed up on; the older links still work
        until they expire."""
        user = await self._load(user_id, staff, expected_version)
        address = mail_address(user)  # no address: nothing to verify
        if user.email_verified_at is not None:
            raise EmailAlreadyVerified()
        if not user.is_active:
            # A suspended account cannot sign in once verified either: reactivate first.
            raise AccountSuspended()
        storefront = await self.context.storefront_of_event(user.signup_storefront)
        await Verification(self.session, self.context).send(user, storefront)
        await audit.record(self.session, staff, "customer.verification_mail", "user", user.id, reason=reason,
                           after={"mailed_to": address})
        return await self.card(user.id, staff)

    async def sign_out(self, user_id: uuid.UUID, staff: Principal, *, reason: str | None = None,
                       expected_version: str | None = None) -> CustomerCard:
        """End every session of the account: refresh families revoked, access tokens denied."""
        user = await self._load(user_id, staff, expected_version)
        live = await active_sessions(self.session, user.id, now())
        if live:
            await self.sessions.end_all(user.id)
            await audit.record(self.session, staff, "customer.sign_out", "user", user.id, reason=reason,
                               before={"active_sessions": live}, after={"active_sessions": 0})
        return await self.card(user.id, staff)


class StaffMail(IdentityUseCase):
    """`/api/v1/staff/mail`: every mail identity sent or queued (all of the platform's mail goes
    through identity's `mail_message` queue: account mail, order and job notifications)."""

    async def page(self, to: str | None, *, limit: int, offset: int) -> tuple[int, Sequence[MailMessage]]:
        recipient = domain.normalise_email(to) if to else None
        return await StaffMailRepository(self.session).page(recipient, limit=limit, offset=offset)

    async def resend(self, message_id: uuid.UUID, staff: Principal, *, reason: str | None = None) -> MailMessage:
        """Queue a copy of the message to the same recipient from the same sender; returns the copy.
        Its links are the original's (a spent reset link stays spent: send a new reset instead)."""
        original = await StaffMailRepository(self.session).get(message_id)
        if original is None:
            raise MailNotFound()
        copy = await self.context.mailer.requeue(self.session, original)
        await audit.record(self.session, staff, "mail.resend", "mail", original.id, reason=reason,
                           after={"resent_as": copy.id, "to": copy.recipient, "kind": copy.kind})
        return copy
