"""/media: the product pictures the catalog stores (public, like the products they show)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from atelier_catalog.api.deps import NOT_FOUND, ImageServiceDep

router = APIRouter(prefix="/media", tags=["products"])


@router.get("/{key:path}", response_class=Response, responses=NOT_FOUND)
async def get_media(key: str, images: ImageServiceDep) -> Response:
    data, content_type = await images.file(key)
    return Response(data, media_type=content_type, headers={"Cache-Control": "public, max-age=86400"})
