"""The subscription tiers and monthly quotas generation keeps from payments' events."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import case, delete, or_, update
from sqlmodel import col, select

from atelier_common.contracts.identity import DEFAULT_STOREFRONT
from atelier_generation.domain import ACTIVE_SUBSCRIPTION_STATUSES
from atelier_generation.models import (
    Subscription,
)
from atelier_generation.repository._base import RepositoryBase


class SubscriptionRepository(RepositoryBase):
    async def get(self, user_id: uuid.UUID, *, for_update: bool = False) -> Subscription | None:
        stmt = select(Subscription).where(col(Subscription.user_id) == user_id)
        if for_update and self.is_postgres:
            stmt = stmt.with_for_update()
        return (await self.session.exec(stmt)).first()

    async def make(self, user_id: uuid.UUID, status: str, occurred_at: datetime, now: datetime) -> Subscription:
        """A first row for the user, locked; made once when two make it at once (an event and a
        job's charge that asked payments): the loser gets the winner's row."""
        await self.session.execute(self.insert(Subscription).values(
            user_id=user_id, status=status, monthly_quota=0, quota_used=0, cancel_at_period_end=False,
            storefront=DEFAULT_STOREFRONT, source_occurred_at=occurred_at, updated_at=now,
        ).on_conflict_do_nothing(index_elements=["user_id"]))
        made = await self.get(user_id, for_update=True)
        assert made is not None  # inserted above, or by whoever won
        return made

    async def use_quota(self, user_id: uuid.UUID, images: int, now: datetime) -> tuple[datetime | None] | None:
        """Take `images` from an active subscription's quota; `(period_end,)` or None if it cannot."""
        stmt = (update(Subscription)
                .where(col(Subscription.user_id) == user_id,
                       col(Subscription.status).in_(ACTIVE_SUBSCRIPTION_STATUSES),
                       or_(col(Subscription.current_period_end).is_(None), col(Subscription.current_period_end) > now),
                       col(Subscription.quota_used) + images <= col(Subscription.monthly_quota))
                .values(quota_used=Subscription.quota_used + images, updated_at=now)
                .returning(col(Subscription.quota_period_end)))
        row = (await self.session.execute(stmt)).first()
        return None if row is None else (row[0],)

    async def return_quota(self, user_id: uuid.UUID, images: int, period_end: datetime | None,
                           now: datetime) -> None:
        """Give back quota taken in the period that ends at `period_end` (a later period keeps its count)."""
        same_period = (col(Subscription.quota_period_end).is_(None) if period_end is None
                       else col(Subscription.quota_period_end) == period_end)
        stmt = (update(Subscription).where(col(Subscription.user_id) == user_id, same_period)
                .values(quota_used=case((col(Subscription.quota_used) >= images, Subscription.quota_used - images),
                                        else_=0), updated_at=now))
        await self.session.execute(stmt)

    async def delete_for(self, user_id: uuid.UUID) -> None:
        await self.session.execute(delete(Subscription).where(col(Subscription.user_id) == user_id))
