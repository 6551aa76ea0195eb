"""Photo restorations (S2): checked uploads, the job, previews, unlocks with a credit or a share.

The full image stays locked until unlocked: only the watermarked preview has a URL before.
The one-time social-share unlock does not trust a client's "I shared": the share links go
through a server redirect that records the click, and confirm-share needs that record.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import outbox
from atelier_common.auth import Principal
from atelier_common.contracts.generation import JobRequested
from atelier_common.service import UseCase
from atelier_generation import domain, imaging
from atelier_generation.context import GenerationContext
from atelier_generation.domain import JobKind, JobStatus, TransactionKind, UnlockMethod
from atelier_generation.errors import (
    AlreadyUnlocked,
    HistoryLimit,
    InvalidShareToken,
    InvalidState,
    RestorationNotFound,
    ShareNotInitiated,
    SocialShareUsed,
    UnknownSharePlatform,
)
from atelier_generation.models import GenerationJob, Restoration
from atelier_generation.repository import JobRepository, RestorationRepository, ShareRepository, WalletRepository
from atelier_generation.schemas import (
    ConfirmShareRead,
    ManualShare,
    RestorationCreated,
    RestorationRead,
    ShareLinks,
    UnlockRead,
)
from atelier_generation.service._shared import Reader, read_limited, utcnow
from atelier_generation.service.credits import CreditService
from atelier_generation.signing import ShareClaim


class RestorationService(UseCase[GenerationContext]):
    def __init__(self, session: AsyncSession, context: GenerationContext) -> None:
        super().__init__(session, context)
        self.credits = CreditService(session, context)

    def _view(self, restoration: Restoration, job: GenerationJob) -> RestorationRead:
        preview = self.context.optional_url(restoration.preview_key)
        unlocked = restoration.unlocked_at is not None
        return RestorationRead(
            id=restoration.id, job_id=restoration.id, status=domain.RESTORATION_STATUS[JobStatus(job.status)],
            error="Restoration failed" if job.status == JobStatus.FAILED else None, preview_url=preview,
            original_image_url=self.context.url(restoration.original_key), restored_preview_url=preview,
            restored_full_url=self.context.optional_url(restoration.full_key) if unlocked else None,
            is_unlocked=unlocked, unlock_method=restoration.unlock_method, unlocked_at=restoration.unlocked_at,
            width=restoration.width, height=restoration.height, storefront=restoration.storefront,
            created_at=restoration.created_at,
            expires_at=restoration.expires_at)

    async def _load(self, principal: Principal,
                    restoration_id: uuid.UUID) -> tuple[Restoration, GenerationJob]:
        found = await RestorationRepository(self.session).get_for_owner(restoration_id, principal.owner_id, utcnow())
        if found is None:
            raise RestorationNotFound()
        return found

    async def _unlockable(self, principal: Principal,
                          restoration_id: uuid.UUID) -> Restoration:
        restoration, job = await self._load(principal, restoration_id)
        if job.status != JobStatus.COMPLETED:
            raise InvalidState()
        if restoration.unlocked_at is not None:
            raise AlreadyUnlocked()
        return restoration

    # -- upload, history, delete ---------------------------------------------------------------

    async def upload(self, principal: Principal, read: Reader, storefront: str) -> RestorationCreated:
        """Check the photo and queue its restoration, of the request's `storefront`."""
        settings = self.context.settings
        data = await read_limited(read, settings.max_upload_bytes)
        info = await asyncio.to_thread(imaging.inspect_upload, data, min_side=settings.min_image_side,
                                       max_pixels=settings.max_image_pixels)
        owner_id, now = principal.owner_id, utcnow()
        # Two uploads at once must not both pass the history limit: serialise them per owner.
        await WalletRepository(self.session).lock(owner_id, now)
        restorations = RestorationRepository(self.session)
        if await restorations.count_active(owner_id, now) >= settings.restoration_history_limit:
            raise HistoryLimit(details={"limit": settings.restoration_history_limit})
        job = GenerationJob(owner_id=owner_id, kind=JobKind.RESTORATION, model=domain.RESTORATION_MODEL.id,
                            storefront=storefront, created_at=now, heartbeat_at=now)
        JobRepository(self.session).add(job)
        await self.session.flush()
        restoration = Restoration(id=job.id, owner_id=owner_id,
                                  original_key=f"restorations/{job.id}/original.{info.extension}",
                                  original_format=info.extension, width=info.width, height=info.height,
                                  size_bytes=len(data), storefront=storefront, created_at=now,
                                  expires_at=now + timedelta(days=settings.restoration_expiry_days))
        restorations.add(restoration)
        await self.context.storage.put(restoration.original_key, data)
        await outbox.add(self.session, JobRequested(job_id=job.id, kind=job.kind))
        return RestorationCreated(job_id=job.id, status=domain.RESTORATION_STATUS[JobStatus.QUEUED])

    async def history(self, principal: Principal) -> list[RestorationRead]:
        rows = await RestorationRepository(self.session).list_for_owner(
            principal.owner_id, utcnow(), self.context.settings.restoration_history_limit)
        return [self._view(restoration, job) for restoration, job in rows]

    async def get(self, principal: Principal, restoration_id: uuid.UUID) -> RestorationRead:
        return self._view(*await self._load(principal, restoration_id))

    async def delete(self, principal: Principal, restoration_id: uuid.UUID) -> None:
        restoration, _ = await self._load(principal, restoration_id)
        await self._remove(restoration)

    async def _remove(self, restoration: Restoration) -> None:
        keys = [key for key in (restoration.original_key, restoration.preview_key, restoration.full_key) if key]
        await JobRepository(self.session).delete(restoration.id)  # the restoration row goes with its job
        await self.session.flush()
        await self.context.storage.delete(keys)

    # -- unlocks -------------------------------------------------------------------------------

    async def unlock(self, principal: Principal, restoration_id: uuid.UUID) -> UnlockRead:
        restoration = await self._unlockable(principal, restoration_id)
        if not await RestorationRepository(self.session).mark_unlocked(restoration.id, UnlockMethod.CREDITS, utcnow()):
            raise AlreadyUnlocked()
        # Insufficient credits raises, and the request's rollback undoes the unlock above.
        balance = await self.credits.spend(principal.owner_id, self.context.settings.unlock_credits,
                                           kind=TransactionKind.UNLOCK, reason="restoration_unlock",
                                           reference_id=restoration.id, description="Restoration unlock",
                                           storefront=restoration.storefront)
        assert restoration.full_key is not None
        return UnlockRead(full_image_url=self.context.url(restoration.full_key), credits_remaining=balance)

    async def share_unlock(self, principal: Principal,
                           restoration_id: uuid.UUID) -> ShareLinks:
        restoration = await self._unlockable(principal, restoration_id)
        assert principal.user_id is not None
        if not await ShareRepository(self.session).start(principal.user_id, restoration.id, utcnow()):
            raise SocialShareUsed()
        token = self.context.signer.share_token(ShareClaim(restoration_id=restoration.id, user_id=principal.user_id),
                                              time.time())
        base = f"{self.context.settings.public_base_url.rstrip('/')}/api/v1/restorations/{restoration.id}/share-redirect"
        links = {platform: f"{base}/{platform}?s={token}" for platform in domain.SHARE_PLATFORMS}
        return ShareLinks(**links, instagram=ManualShare(caption=domain.SHARE_CAPTION, deep_link="instagram://app"),
                          expires_in=self.context.settings.share_token_ttl_seconds)

    async def share_redirect(self, restoration_id: uuid.UUID, platform: str,
                             token: str) -> str:
        """Record that the share link was opened; the platform's share URL to redirect to."""
        if platform not in domain.SHARE_PLATFORMS:
            raise UnknownSharePlatform()
        claim = self.context.signer.verify_share(token, time.time())
        if claim.restoration_id != restoration_id:
            raise InvalidShareToken()
        await ShareRepository(self.session).record_redirect(claim.user_id, restoration_id, platform, utcnow())
        return domain.platform_share_url(platform, self.context.settings.share_target_url)

    async def confirm_share(self, principal: Principal,
                            restoration_id: uuid.UUID) -> ConfirmShareRead:
        restoration = await self._unlockable(principal, restoration_id)
        assert principal.user_id is not None
        shares, now = ShareRepository(self.session), utcnow()
        share = await shares.get(principal.user_id)
        if share is not None and share.used_at is not None:
            raise SocialShareUsed()
        since = now - timedelta(seconds=self.context.settings.share_redirect_ttl_seconds)
        if not await shares.use(principal.user_id, restoration.id, since, now):
            raise ShareNotInitiated()
        if not await RestorationRepository(self.session).mark_unlocked(restoration.id, UnlockMethod.SOCIAL_SHARE, now):
            raise AlreadyUnlocked()
        assert restoration.full_key is not None
        return ConfirmShareRead(full_image_url=self.context.url(restoration.full_key))
