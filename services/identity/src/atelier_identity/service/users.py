"""The signed-in user's account: profile, deletion; and accounts made from the CLI or at start."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import email_validator
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import outbox
from atelier_common.auth import ROLE_ADMIN, Principal
from atelier_common.contracts.identity import UserDeleted
from atelier_common.db import Database
from atelier_identity import domain
from atelier_identity.clients import Subscription
from atelier_identity.context import IdentityContext
from atelier_identity.errors import (
    AccountGone,
    DeletionNotConfirmed,
    EmailExists,
    InvalidEmail,
    UsernameTaken,
    UserNotFound,
    WeakPassword,
)
from atelier_identity.models import User
from atelier_identity.repository import UserRepository
from atelier_identity.schemas import DeleteAccountRequest, UserUpdate
from atelier_identity.security import PasswordHasher
from atelier_identity.service._shared import Guard, Sessions, now, registered
from atelier_identity.service._use_case import IdentityUseCase
from atelier_identity.service.addresses import AddressService
from atelier_identity.service.username_accounts import keeps_login_name

DELETE_CONFIRMATION = "DELETE"


@dataclass(frozen=True)
class Profile:
    user: User
    # None when payments could not be asked (the profile still answers).
    subscription: Subscription | None


class UserService(IdentityUseCase):
    def __init__(self, session: AsyncSession, context: IdentityContext) -> None:
        super().__init__(session, context)
        self.guard = Guard(session, context)
        self.sessions = Sessions(session, context)
        self.addresses = AddressService(session, context)

    async def current(self, principal: Principal, *, lock: bool = False) -> User:
        """The account of a verified access token; it may have been deleted or disabled since."""
        users = UserRepository(self.session)
        user = None
        if principal.user_id:
            user = await (users.lock(principal.user_id) if lock else users.get(principal.user_id))
        if user is None or not user.is_active:
            raise AccountGone()
        return user

    async def profile(self, principal: Principal) -> Profile:
        """The account with its subscription and quota from payments (GET /users/me only)."""
        user = await self.current(principal)
        return Profile(user=user, subscription=await self.context.payments.subscription(user.id))

    async def update_profile(self, principal: Principal, changes: UserUpdate) -> User:
        user = await self.current(principal)
        fields = changes.model_dump(exclude_unset=True)
        keeps_login_name(user, fields)
        users = UserRepository(self.session)
        username = fields.get("username")
        if username is not None and username.lower() != (user.username or "").lower():
            other = await users.get_by_username(username)
            if other is not None and other.id != user.id:
                raise UsernameTaken()
        for field, value in fields.items():
            setattr(user, field, value)
        user.updated_at = now()
        if await users.save_unique(user) is not None:
            raise UsernameTaken()  # taken by another account this instant (the unique index decides)
        return user

    async def get(self, user_id: uuid.UUID) -> User:
        user = await UserRepository(self.session).get(user_id)
        if user is None:
            raise UserNotFound()
        return user

    async def by_email(self, email: str) -> User:
        user = await UserRepository(self.session).get_by_email(domain.normalise_email(email))
        if user is None:
            raise UserNotFound()
        return user

    async def delete(self, principal: Principal, data: DeleteAccountRequest, *,
                     ip: str) -> None:
        """Erase the account after re-authentication; every token of it stops working at once.

        An account with a password confirms with it; one without (passkey, provider, magic link)
        confirms with `confirm: "DELETE"`.
        """
        # Checked before the request's transaction begins (`Guard.account`), then locked.
        account = await self.guard.account(principal)
        if account.has_password:
            if data.password is None:
                raise DeletionNotConfirmed("password")
            await self.guard.check(account, data.password, ip=ip)
        elif data.confirm != DELETE_CONFIRMATION:
            raise DeletionNotConfirmed("confirm")
        user = await self.guard.locked(account)
        # The gateway refuses every access token of the account from now on; refresh tokens die with it.
        await self.sessions.end_all(user.id)
        await self.addresses.erase_owner(user.id)
        await UserRepository(self.session).delete(user)
        await outbox.add(self.session, UserDeleted(user_id=user.id))


async def create_user(db: Database, *, email: str, password: str, staff: bool, verified: bool = True,
                      passwords: PasswordHasher | None = None) -> User:
    """Create an account, or keep an existing one with that email (promoted with `staff`, verified
    with `verified`; its password is left alone). For the CLI and the staff bootstrap at start.

    An entry point, not a use case: it opens its own transactions.
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


async def create_user_if_new(db: Database, *, email: str, password: str, staff: bool,
                             passwords: PasswordHasher | None = None) -> User | None:
    """Create a verified account unless one with that email exists (None: it is left as it is). The
    development staff account of `atelier dev`, whose password is shown only when it is made.

    An entry point, not a use case: it opens its own transactions.
    """
    async with db.read_only() as session:
        if await UserRepository(session).get_by_email(domain.normalise_email(email)) is not None:
            return None
    return await create_user(db, email=email, password=password, staff=staff, passwords=passwords)


async def _create_or_keep(session: AsyncSession, email: str, password: str, passwords: PasswordHasher, *,
                          staff: bool, verified: bool) -> User:
    users = UserRepository(session)
    created_at = now()
    user = await users.get_by_email(email)
    if user is None:
        user = User(email=email, password_hash=await passwords.hash(password), first_name="", last_name="")
        if not await users.add_unique(user):
            raise EmailExists()
        await registered(session, user, "cli")
    if staff and not user.is_staff:  # the bootstrap account and `users create --staff`: an admin
        domain.set_staff_roles(user, [ROLE_ADMIN])
    if verified and user.email_verified_at is None:
        user.email_verified_at = created_at
    user.updated_at = created_at
    return user
