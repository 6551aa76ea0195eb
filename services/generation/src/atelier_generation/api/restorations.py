"""/api/v1/restorations: uploads, history, unlocks and the one-time social-share unlock (S2)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile, status
from fastapi.responses import RedirectResponse

from atelier_common.auth import UserPrincipal
from atelier_common.responses import ErrorResponses
from atelier_common.storefronts import CurrentStorefront
from atelier_generation.api.deps import INSUFFICIENT, NOT_FOUND, USER, RestorationServiceDep
from atelier_generation.schemas import (
    ConfirmShareRead,
    RestorationCreated,
    RestorationDeleted,
    RestorationRead,
    ShareLinks,
    UnlockRead,
)

router = APIRouter(prefix="/api/v1/restorations", tags=["restorations"])

UPLOAD_ERRORS: ErrorResponses = {**USER, 400: {"description": "UNSUPPORTED_FORMAT, IMAGE_TOO_SMALL, IMAGE_TOO_LARGE"},
                 403: {"description": "HISTORY_LIMIT"}, 413: {"description": "FILE_TOO_LARGE"}}
UNLOCK_ERRORS: ErrorResponses = {**USER, **NOT_FOUND, 400: {"description": "INVALID_STATE"},
                 409: {"description": "ALREADY_UNLOCKED"}}


@router.post("", summary="Restore a photo",
             response_model=RestorationCreated, status_code=status.HTTP_201_CREATED, responses=UPLOAD_ERRORS)
async def create_restoration(image: Annotated[UploadFile, File(description="JPG, PNG or WEBP, ≤ 10 MB")],
                             principal: UserPrincipal, storefront: CurrentStorefront,
                             restorations: RestorationServiceDep) -> RestorationCreated:
    """Upload an old photo (multipart `image`, JPG, PNG or WEBP, at least 500 px on its shortest side); the
    restoration runs in the background. The preview is free; the full image is unlocked with credits or a share."""
    return await restorations.upload(principal, image.read, storefront.slug)


@router.get("", summary="List my restorations", response_model=list[RestorationRead], responses=USER)
async def list_restorations(principal: UserPrincipal,
                            restorations: RestorationServiceDep) -> list[RestorationRead]:
    """The caller's photo restorations, newest first."""
    return await restorations.history(principal)


@router.get("/{restoration_id}", summary="Get a restoration",
            response_model=RestorationRead, responses={**USER, **NOT_FOUND})
async def get_restoration(restoration_id: uuid.UUID, principal: UserPrincipal,
                          restorations: RestorationServiceDep) -> RestorationRead:
    """A restoration's status, its preview and, once unlocked, the full image."""
    return await restorations.get(principal, restoration_id)


@router.delete("/{restoration_id}", summary="Delete a restoration",
               response_model=RestorationDeleted, responses={**USER, **NOT_FOUND})
async def delete_restoration(restoration_id: uuid.UUID, principal: UserPrincipal,
                             restorations: RestorationServiceDep) -> RestorationDeleted:
    """Delete a restoration and its files."""
    await restorations.delete(principal, restoration_id)
    return RestorationDeleted(message="Job deleted successfully", status="ok")


@router.post("/{restoration_id}/unlock", summary="Unlock with credits",
             response_model=UnlockRead, responses={**UNLOCK_ERRORS, **INSUFFICIENT})
async def unlock_restoration(restoration_id: uuid.UUID, principal: UserPrincipal,
                             restorations: RestorationServiceDep) -> UnlockRead:
    """Spend credits to unlock the full-resolution restored image."""
    return await restorations.unlock(principal, restoration_id)


@router.post("/{restoration_id}/share-unlock", summary="Start a share unlock", response_model=ShareLinks,
             responses={**UNLOCK_ERRORS, 403: {"description": "SOCIAL_SHARE_USED"}})
async def start_share_unlock(restoration_id: uuid.UUID, principal: UserPrincipal,
                             restorations: RestorationServiceDep) -> ShareLinks:
    """The share links (one per social platform) that unlock the full image once, for free, when the customer shares
    it: one share unlock per account."""
    return await restorations.share_unlock(principal, restoration_id)


@router.get("/{restoration_id}/share-redirect/{platform}", summary="Follow a share link",
            response_class=RedirectResponse, status_code=302,
            responses={400: {"description": "INVALID_TOKEN"}, 404: {"description": "Unknown platform"}})
async def share_redirect(restoration_id: uuid.UUID, platform: str, s: Annotated[str, Query(max_length=1000)],
                         restorations: RestorationServiceDep) -> RedirectResponse:
    """Public: records that the share link was opened, then redirects (302) to the platform's share dialog."""
    return RedirectResponse(await restorations.share_redirect(restoration_id, platform, s), status_code=302)


@router.post("/{restoration_id}/confirm-share", summary="Confirm a share unlock", response_model=ConfirmShareRead,
             responses={**UNLOCK_ERRORS, 403: {"description": "SOCIAL_SHARE_USED"}})
async def confirm_share(restoration_id: uuid.UUID, principal: UserPrincipal,
                        restorations: RestorationServiceDep) -> ConfirmShareRead:
    """After the share link was opened: unlock the full image and answer its URL."""
    return await restorations.confirm_share(principal, restoration_id)
