"""/media: the product pictures the catalog stores (public, like the products they show)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from atelier_catalog.api.deps import NOT_FOUND, ImageServiceDep
from atelier_common.responses import FILE_ANSWER

router = APIRouter(prefix="/media", tags=["products"])


@router.get("/{key:path}", summary="Get a media file", response_class=Response,
            responses={**FILE_ANSWER, **NOT_FOUND})
async def get_media(key: str, images: ImageServiceDep) -> Response:
    """The bytes of a file the catalog stores (uploaded product images), cacheable for a day."""
    data, content_type = await images.file(key)
    return Response(data, media_type=content_type, headers={"Cache-Control": "public, max-age=86400"})
