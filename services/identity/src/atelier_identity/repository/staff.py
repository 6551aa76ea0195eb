"""Queries of the back office: the staff audit log (`StaffAudit`) and the staff accounts.
A module of its own, apart from the package's sign-in and account queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.columns import table_of
from atelier_common.db import dialect_insert
from atelier_identity.models import MailMessage, RefreshToken, StaffAudit, User


@dataclass(frozen=True)
class AuditFilter:
    actor_id: UUID | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    after: datetime | None = None
    before: datetime | None = None


class StaffAuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, values: dict[str, Any]) -> None:
        """Insert once: a redelivered event (same id) leaves the first row as it was."""
        await self.session.execute(dialect_insert(self.session)(table_of(StaffAudit)).values(**values).on_conflict_do_nothing())

    async def page(self, where: AuditFilter, *, limit: int, offset: int) -> tuple[int, Sequence[StaffAudit]]:
        conditions = []
        if where.actor_id is not None:
            conditions.append(col(StaffAudit.actor_id) == where.actor_id)
        if where.action is not None:
            conditions.append(col(StaffAudit.action) == where.action)
        if where.target_type is not None:
            conditions.append(col(StaffAudit.target_type) == where.target_type)
        if where.target_id is not None:
            conditions.append(col(StaffAudit.target_id) == where.target_id)
        if where.after is not None:
            conditions.append(col(StaffAudit.at) >= where.after)
        if where.before is not None:
            conditions.append(col(StaffAudit.at) < where.before)
        count = (await self.session.exec(select(func.count()).select_from(StaffAudit).where(*conditions))).one()
        rows = await self.session.exec(select(StaffAudit).where(*conditions)
                                       .order_by(col(StaffAudit.at).desc(), col(StaffAudit.id).desc())
                                       .limit(limit).offset(offset))
        return count, rows.all()


class StaffAccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(self, *, limit: int, offset: int) -> tuple[int, Sequence[User]]:
        """Staff accounts by email (few: no index beyond the table's)."""
        staff = col(User.is_staff).is_(True)
        count = (await self.session.exec(select(func.count()).select_from(User).where(staff))).one()
        rows = await self.session.exec(select(User).where(staff).order_by(col(User.email)).limit(limit).offset(offset))
        return count, rows.all()


    async def emails_with_roles(self, roles: Sequence[str]) -> list[str]:
        """The addresses of the active staff holding any of `roles` (staff accounts are few:
        filtered here, not in JSON SQL)."""
        rows = await self.session.exec(select(User).where(col(User.is_staff).is_(True), col(User.is_active).is_(True)))
        return sorted(user.email for user in rows.all() if set(roles) & set(user.staff_roles) and user.email)


class CustomerSearchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(self, q: str | None, *, ids: Sequence[UUID] = (), limit: int, offset: int,
                   signup_storefronts: frozenset[str] | None = None) -> tuple[int, Sequence[User]]:
        """Accounts whose email, name or username contains `q` (any case), among `ids` when given
        and signed up on `signup_storefronts` when given (None: any), newest first. A scan: staff searches are rare next to sign-ins, and a trigram index
        is a later step if needed (a lookup by ids is by primary key)."""
        stmt = select(User)
        if ids:
            stmt = stmt.where(col(User.id).in_(ids))
        if signup_storefronts is not None:
            stmt = stmt.where(col(User.signup_storefront).in_(signup_storefronts))
        if q:
            pattern = "%" + _escaped(q.lower()) + "%"
            full_name = func.lower(col(User.first_name) + " " + col(User.last_name))
            stmt = stmt.where(or_(col(User.email).like(pattern, escape="\\"), full_name.like(pattern, escape="\\"),
                                  func.lower(col(User.username)).like(pattern, escape="\\")))
        count = (await self.session.exec(select(func.count()).select_from(stmt.subquery()))).one()
        rows = await self.session.exec(stmt.order_by(col(User.created_at).desc(), col(User.id).desc())
                                       .limit(limit).offset(offset))
        return count, rows.all()


class StaffMailRepository:
    """Sent and queued mail as support looks it up: by recipient, newest first."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(self, recipient: str | None, *, limit: int, offset: int) -> tuple[int, Sequence[MailMessage]]:
        stmt = select(MailMessage)
        if recipient is not None:
            stmt = stmt.where(MailMessage.recipient == recipient)
        count = (await self.session.exec(select(func.count()).select_from(stmt.subquery()))).one()
        rows = await self.session.exec(stmt.order_by(col(MailMessage.created_at).desc(), col(MailMessage.id).desc())
                                       .limit(limit).offset(offset))
        return count, rows.all()

    async def get(self, message_id: UUID) -> MailMessage | None:
        return await self.session.get(MailMessage, message_id)


@dataclass(frozen=True)
class SessionRow:
    """A live session: its family's current refresh token and when the family began."""

    token: RefreshToken
    started_at: datetime


async def live_sessions(session: AsyncSession, user_id: UUID, now: datetime, *, limit: int,
                        offset: int) -> list[SessionRow]:
    """The account's sessions that may still be refreshed, the most recently active first: each
    family's one usable token (rotation spends the previous ones), with its family's first token's
    time (rotated tokens stay while their family lives: `housekeeping`)."""
    family = (select(col(RefreshToken.family_id).label("family_id"),
                     func.min(col(RefreshToken.created_at)).label("started_at"))
              .where(col(RefreshToken.user_id) == user_id).group_by(col(RefreshToken.family_id)).subquery())
    rows = await session.exec(
        select(RefreshToken, family.c.started_at)
        .join(family, family.c.family_id == col(RefreshToken.family_id))
        .where(*_live(user_id, now))
        .order_by(col(RefreshToken.created_at).desc(), col(RefreshToken.id).desc()).limit(limit).offset(offset))
    return [SessionRow(token, started_at) for token, started_at in rows.all()]


def _live(user_id: UUID, now: datetime) -> tuple[Any, ...]:
    return (col(RefreshToken.user_id) == user_id, col(RefreshToken.revoked_at).is_(None),
            col(RefreshToken.used_at).is_(None), col(RefreshToken.expires_at) > now)


async def active_sessions(session: AsyncSession, user_id: UUID, now: datetime) -> int:
    """Sessions (refresh token families) of the account that may still be refreshed."""
    live = select(RefreshToken.family_id).where(*_live(user_id, now)).distinct()
    return (await session.exec(select(func.count()).select_from(live.subquery()))).one()


def _escaped(text: str) -> str:
    """`text` matched literally by LIKE (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
