"""Staff roles: who holds which staff role, changed from the CLI (and later the staff API)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import audit, outbox
from atelier_common.auth import Principal
from atelier_common.contracts.identity import TokenRevoked
from atelier_common.db import Database
from atelier_identity import domain
from atelier_identity.errors import UnknownStaffRole, UserNotFound, WeakPassword
from atelier_identity.models import User
from atelier_identity.repository import RefreshTokenRepository, UserRepository
from atelier_identity.repository.staff import CustomerSearchRepository, StaffAccountRepository
from atelier_identity.security import PasswordHasher
from atelier_identity.service._clock import now
from atelier_identity.service._use_case import IdentityUseCase
from atelier_identity.service.keys import longest_stored_access_ttl


async def change_staff_roles(db: Database, *, email: str, grant: Iterable[str] = (), revoke: Iterable[str] = (),
                             access_ttl: timedelta) -> tuple[list[str], list[str]]:
    """Grant and revoke staff roles of the account `email`; returns (before, after).

    An entry point, not a use case: it opens its own transaction. When the roles change, every
    session of the account ends (as a password change does): access tokens carry the roles, so a
    revoked role must not live on in a token for the rest of its `access_ttl`.
    """
    grant, revoke = list(grant), list(revoke)
    if unknown := domain.unknown_staff_roles([*grant, *revoke]):
        raise UnknownStaffRole(unknown)
    async with db.transaction() as session:
        user = await UserRepository(session).get_by_email(domain.normalise_email(email))
        if user is None:
            raise UserNotFound()
        return await _apply(session, user, (set(user.staff_roles) | set(grant)) - set(revoke), access_ttl)


async def _end_sessions(session: AsyncSession, user_id: uuid.UUID, access_ttl: timedelta) -> datetime:
    """Every session of the account ends: refresh tokens revoked, access tokens so far denied."""
    ended_at = now()
    # From the CLI `access_ttl` is the install's: a storefront's may be longer.
    access_ttl = await longest_stored_access_ttl(session, access_ttl)
    await RefreshTokenRepository(session).revoke_all_for_user(user_id, ended_at)
    await outbox.add(session, TokenRevoked(user_id=user_id, all_before=ended_at, expires_at=ended_at + access_ttl))
    return ended_at


async def set_password(db: Database, *, email: str, password: str, access_ttl: timedelta,
                       passwords: PasswordHasher | None = None) -> User:
    """`atelier users set-password`: the password policy applies; every session ends, as
    after a password change. An entry point: its own transaction."""
    async with db.transaction() as session:
        user = await UserRepository(session).get_by_email(domain.normalise_email(email))
        if user is None:
            raise UserNotFound()
        if problems := domain.password_problems(password, user.email or ""):
            raise WeakPassword(problems)
        user.password_hash = await (passwords or PasswordHasher()).hash(password)
        user.updated_at = await _end_sessions(session, user.id, access_ttl)
        return user


async def set_suspended(db: Database, *, email: str, suspended: bool, access_ttl: timedelta) -> bool:
    """`atelier users suspend / reactivate`: the same change as the staff API's; whether it
    changed anything (again: nothing). An entry point: its own transaction."""
    async with db.transaction() as session:
        user = await UserRepository(session).get_by_email(domain.normalise_email(email))
        if user is None:
            raise UserNotFound()
        return await apply_suspension(session, user, suspended, access_ttl)


async def apply_suspension(session: AsyncSession, user: User, suspended: bool, access_ttl: timedelta) -> bool:
    """Suspend (no sign-in, no refresh, every session ended) or reactivate; False when it already was."""
    if user.is_active != suspended:
        return False
    user.is_active = not suspended
    user.updated_at = await _end_sessions(session, user.id, access_ttl) if suspended else now()
    return True


async def _apply(session: AsyncSession, user: User, roles: set[str],
                 access_ttl: timedelta) -> tuple[list[str], list[str]]:
    before, after = domain.set_staff_roles(user, roles)
    if before != after:
        user.updated_at = await _end_sessions(session, user.id, access_ttl)
    return before, after


class StaffAccounts(IdentityUseCase):
    """`/api/v1/staff/accounts` (admin): who is staff, with which roles."""

    async def set_roles(self, email: str, roles: list[str], staff: Principal) -> User:
        """Give the existing account `email` exactly `roles` (empty: no longer staff); audited, and
        its sessions end when they change (see `change_staff_roles`)."""
        if unknown := domain.unknown_staff_roles(roles):
            raise UnknownStaffRole(unknown)
        user = await UserRepository(self.session).get_by_email(domain.normalise_email(email))
        if user is None:
            raise UserNotFound()
        before, after = await _apply(self.session, user, set(roles), self.context.longest_access_ttl)
        if before != after:
            await audit.record(self.session, staff, "staff.roles_change", "user", user.id,
                               before={"roles": before}, after={"roles": after})
        return user

    async def page(self, *, limit: int, offset: int) -> tuple[int, Sequence[User]]:
        return await StaffAccountRepository(self.session).page(limit=limit, offset=offset)


class CustomerSearch(IdentityUseCase):
    """`/api/v1/staff/customers` (support): accounts by email or name. Their orders, credits and
    jobs are each service's (`/api/v1/staff/orders?customer=`…): the console composes them."""

    async def page(self, q: str | None, *, ids: Sequence[uuid.UUID] = (), limit: int, offset: int,
                   staff: Principal) -> tuple[int, Sequence[User]]:
        """An API key limited to some storefronts finds only the accounts signed up on them
        (`domain.customer_in_scope`)."""
        return await CustomerSearchRepository(self.session).page(q, ids=ids, limit=limit, offset=offset,
                                                                 signup_storefronts=staff.storefronts)

    async def get(self, user_id: uuid.UUID) -> User:
        user = await UserRepository(self.session).get(user_id)
        if user is None:
            raise UserNotFound()
        return user
