"""Queries of customer groups and their members (docs/api.md#customer-groups)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import delete, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.db import held_for_write
from atelier_identity.models import CustomerGroup, CustomerGroupMember, User


class CustomerGroupRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def with_counts(self, storefront: str | None) -> list[tuple[CustomerGroup, int]]:
        """Every group (of `storefront`, or of all) with its member count, by storefront and code."""
        members = (select(CustomerGroupMember.group_id, func.count().label("n"))
                   .group_by(col(CustomerGroupMember.group_id)).subquery())
        stmt = (select(CustomerGroup, func.coalesce(members.c.n, 0))
                .outerjoin(members, members.c.group_id == CustomerGroup.id)
                .order_by(col(CustomerGroup.storefront), col(CustomerGroup.code)))
        if storefront is not None:
            stmt = stmt.where(col(CustomerGroup.storefront) == storefront)
        return [(group, int(count)) for group, count in (await self.session.exec(stmt)).all()]

    async def add_unique(self, group: CustomerGroup) -> bool:
        """Insert `group`; False when its storefront has that code already (the constraint decides)."""
        self.session.add(group)
        try:
            await self.session.flush()
        except IntegrityError:
            return False  # the transaction is done for: the caller raises, it rolls back
        return True

    async def get(self, group_id: uuid.UUID, *, lock: bool = False) -> CustomerGroup | None:
        """The group; `lock`: held until the transaction ends (its writes are serialised)."""
        stmt = select(CustomerGroup).where(col(CustomerGroup.id) == group_id)
        if lock:
            stmt = held_for_write(stmt, self.session).execution_options(populate_existing=True)
        return (await self.session.exec(stmt)).first()

    async def member_count(self, group_id: uuid.UUID) -> int:
        stmt = select(func.count()).select_from(CustomerGroupMember).where(col(CustomerGroupMember.group_id) == group_id)
        return int((await self.session.exec(stmt)).one())

    async def code_of(self, user_id: uuid.UUID, storefront: str) -> str | None:
        """The code of the user's group on `storefront`; None: in none there."""
        stmt = (select(CustomerGroup.code).join(CustomerGroupMember, col(CustomerGroupMember.group_id) == CustomerGroup.id)
                .where(col(CustomerGroupMember.user_id) == user_id, col(CustomerGroupMember.storefront) == storefront))
        return (await self.session.exec(stmt)).first()

    async def members(self, group_id: uuid.UUID, *, limit: int, offset: int) -> tuple[int, Sequence[User]]:
        """The group's members, newest first."""
        count = await self.member_count(group_id)
        stmt = (select(User).join(CustomerGroupMember, col(CustomerGroupMember.user_id) == User.id)
                .where(col(CustomerGroupMember.group_id) == group_id)
                .order_by(col(CustomerGroupMember.created_at).desc(), col(User.id)).limit(limit).offset(offset))
        return count, (await self.session.exec(stmt)).all()

    async def memberships(self, storefront: str, user_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, CustomerGroupMember]:
        """The current membership on `storefront` of each of `user_ids` that has one, held for the write."""
        if not user_ids:
            return {}
        stmt = held_for_write(select(CustomerGroupMember).where(
            col(CustomerGroupMember.storefront) == storefront, col(CustomerGroupMember.user_id).in_(list(user_ids))),
            self.session).execution_options(populate_existing=True)
        return {member.user_id: member for member in (await self.session.exec(stmt)).all()}

    async def customers(self, ids: Collection[uuid.UUID], emails: Collection[str]) -> list[User]:
        """The accounts among `ids` and `emails` (stored lower-case) that exist, held for the write
        in one order: parallel changes of one customer's groups take turns (on PostgreSQL; SQLite's
        writers do anyway), so the later one finds the membership the earlier one made."""
        if not ids and not emails:
            return []
        stmt = (select(User).where(or_(col(User.id).in_(list(ids)), col(User.email).in_(list(emails))))
                .order_by(col(User.id)))
        stmt = held_for_write(stmt, self.session).execution_options(populate_existing=True)
        return list((await self.session.exec(stmt)).all())

    async def codes_of_groups(self, group_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not group_ids:
            return {}
        stmt = select(CustomerGroup.id, CustomerGroup.code).where(col(CustomerGroup.id).in_(list(group_ids)))
        return {group_id: code for group_id, code in (await self.session.exec(stmt)).all()}

    async def remove_members(self, group_id: uuid.UUID, user_ids: Collection[uuid.UUID] | None = None) -> None:
        """Drop these members of the group (None: all of them)."""
        stmt = delete(CustomerGroupMember).where(col(CustomerGroupMember.group_id) == group_id)
        if user_ids is not None:
            stmt = stmt.where(col(CustomerGroupMember.user_id).in_(list(user_ids)))
        await self.session.execute(stmt)

    async def member_ids(self, group_id: uuid.UUID) -> list[uuid.UUID]:
        stmt = select(CustomerGroupMember.user_id).where(col(CustomerGroupMember.group_id) == group_id)
        return list((await self.session.exec(stmt)).all())

    async def remove(self, group: CustomerGroup) -> None:
        await self.remove_members(group.id)
        await self.session.delete(group)
        await self.session.flush()
