"""What follows identity's events: anonymous ownership moving to a user, and erasure."""

from __future__ import annotations

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_generation.repository import (
    ImageRepository,
    JobRepository,
    RestorationRepository,
    ShareRepository,
    SubscriptionRepository,
    TransactionRepository,
    WalletRepository,
)
from atelier_generation.schemas import AccountSummary
from atelier_generation.service._shared import Tools, utcnow
from atelier_generation.service.credits import CreditService


class AccountService:
    def __init__(self, tools: Tools, credits: CreditService) -> None:
        self.tools = tools
        self.credits = credits

    async def claim_anonymous(self, session: AsyncSession, anon_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """Everything the anonymous id owns becomes the user's; credits add to the user's wallet."""
        if anon_id == user_id:
            return
        now = utcnow()
        wallets = WalletRepository(session)
        if moved := await wallets.take(anon_id):
            await wallets.credit(user_id, moved, now)
        await TransactionRepository(session).reassign(anon_id, user_id)
        await JobRepository(session).reassign(anon_id, user_id)
        await ImageRepository(session).reassign(anon_id, user_id, now)
        await RestorationRepository(session).reassign(anon_id, user_id)

    async def erase(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        """Every row and file of the user (identity.user_deleted)."""
        images = ImageRepository(session)
        keys = await images.keys_for_owner(user_id)
        for restoration in await RestorationRepository(session).for_owner(user_id):
            keys += [k for k in (restoration.original_key, restoration.preview_key, restoration.full_key) if k]
        await images.delete_favorites_of(user_id)
        # Images, their tags and favorites, and restorations go with their jobs (ON DELETE CASCADE).
        await JobRepository(session).delete_for(user_id)
        await TransactionRepository(session).delete_for(user_id)
        await WalletRepository(session).take(user_id)
        await SubscriptionRepository(session).delete_for(user_id)
        await ShareRepository(session).delete_for(user_id)
        await session.flush()
        await self.tools.storage.delete(keys)

    async def summary(self, session: AsyncSession, owner_id: uuid.UUID) -> AccountSummary:
        """What other services show about an account (identity's profile: credits, share used)."""
        share = await ShareRepository(session).get(owner_id)
        return AccountSummary(owner_id=owner_id, credits_balance=await self.credits.balance(session, owner_id),
                              subscription_tier=await self.credits.tier(session, owner_id, utcnow()),
                              images_generated=await JobRepository(session).images_generated(owner_id),
                              social_share_unlock_used=share is not None and share.used_at is not None)
