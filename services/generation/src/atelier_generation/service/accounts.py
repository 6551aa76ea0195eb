"""What follows identity's events: anonymous ownership moving to a user, and erasure."""

from __future__ import annotations

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.service import UseCase
from atelier_generation.context import GenerationContext
from atelier_generation.repository import (
    BookRepository,
    ImageRepository,
    JobRepository,
    OwnerRepository,
    RestorationRepository,
    RetryPackRepository,
    ShareRepository,
    SubscriptionRepository,
    TransactionRepository,
    VersionRepository,
    WalletRepository,
)
from atelier_generation.schemas import AccountSummary
from atelier_generation.service._shared import utcnow
from atelier_generation.service.credits import CreditService


class AccountService(UseCase[GenerationContext]):
    def __init__(self, session: AsyncSession, context: GenerationContext) -> None:
        super().__init__(session, context)
        self.credits = CreditService(session, context)

    async def claim_anonymous(self, anon_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """Everything the anonymous id owns becomes the user's; credits add to the user's wallet."""
        if anon_id == user_id:
            return
        now = utcnow()
        # Remembered, so that a purchase heard later is the user's (`CreditService.grant_order`).
        owners = OwnerRepository(self.session)
        await owners.lock(anon_id, now, claimed_by=user_id)
        if (await owners.lock(user_id, now)).erased_at is not None:
            # The user was erased before we heard of the claim: what the id owned was theirs too.
            await self.erase(anon_id)
            return
        if moved := await owners.hand_over(anon_id, user_id, now):
            await WalletRepository(self.session).credit(user_id, moved, now)

    async def erase(self, user_id: uuid.UUID) -> None:
        """Every row and file of the user (identity.user_deleted); remembered, so that a purchase
        or a claim heard later leaves nothing behind."""
        await OwnerRepository(self.session).lock(user_id, utcnow(), erased=True)
        images = ImageRepository(self.session)
        keys = await images.keys_for_owner(user_id) + await VersionRepository(self.session).keys_of_owner(user_id)
        for restoration in await RestorationRepository(self.session).for_owner(user_id):
            keys += [k for k in (restoration.original_key, restoration.preview_key, restoration.full_key) if k]
        await images.delete_favorites_of(user_id)
        # Images, their tags and favorites, restorations and book versions go with their jobs (ON DELETE CASCADE).
        await JobRepository(self.session).delete_for(user_id)
        await BookRepository(self.session).delete_for(user_id)
        await RetryPackRepository(self.session).delete_for(user_id)
        await TransactionRepository(self.session).delete_for(user_id)
        await WalletRepository(self.session).take(user_id)
        await SubscriptionRepository(self.session).delete_for(user_id)
        await ShareRepository(self.session).delete_for(user_id)
        await self.session.flush()
        await self.context.storage.delete(keys)

    async def summary(self, owner_id: uuid.UUID) -> AccountSummary:
        """What other services show about an account (identity's profile: credits, share used)."""
        share = await ShareRepository(self.session).get(owner_id)
        return AccountSummary(owner_id=owner_id, credits_balance=await self.credits.balance(owner_id),
                              subscription_tier=await self.credits.tier(owner_id, utcnow()),
                              images_generated=await JobRepository(self.session).images_generated(owner_id),
                              social_share_unlock_used=share is not None and share.used_at is not None)
