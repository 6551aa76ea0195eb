"""/api/v1/images: own images, the public gallery, details, tags, favorites, signed files (S4)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from atelier_common.auth import AnonPrincipal, OptionalPrincipal, UserPrincipal
from atelier_common.cache import cached_route
from atelier_common.pagination import Page, PageParamsDep, build_page
from atelier_common.responses import FILE_ANSWER
from atelier_generation.api.deps import NOT_FOUND, USER, ClientIpDep, ImageServiceDep
from atelier_generation.schemas import FavoriteRead, ImageRead, ImageUpdate

router = APIRouter(prefix="/api/v1/images", tags=["images"])
# The gallery is public, but each answer says which images are the caller's and which they
# favourited: an ETag and `private` (a 304 for the same caller), never a shared entry.
gallery = APIRouter(prefix="/api/v1/images", tags=["images"], route_class=cached_route(shared=False))


@router.get("", summary="List my images", response_model=Page[ImageRead], responses=USER)
async def list_images(request: Request, page: PageParamsDep, principal: UserPrincipal,
                      images: ImageServiceDep,
                      tag: Annotated[str | None, Query(max_length=200,
                                                       description="e.g. pose:standing")] = None) -> dict:
    """The caller's generated images, newest first; `tag` filters."""
    count, results = await images.list_own(principal, tag, page)
    return build_page(request, page, count, results)


@gallery.get("/gallery", summary="List the public gallery", response_model=Page[ImageRead])
async def list_gallery(request: Request, page: PageParamsDep, principal: OptionalPrincipal,
                       images: ImageServiceDep, ip: ClientIpDep,
                       tags: Annotated[str | None, Query(
                           max_length=500, description="e.g. lighting:dramatic,pose:action")] = None) -> dict:
    """Images their owners made public, newest first; `tags` filters."""
    count, results = await images.gallery(principal, tags, page, client_ip=ip)
    return build_page(request, page, count, results)


@router.get("/favorites", summary="List my favourite images", response_model=Page[ImageRead], responses=USER)
async def list_favorites(request: Request, page: PageParamsDep, principal: AnonPrincipal,
                         images: ImageServiceDep) -> dict:
    """The caller's images marked as favourites."""
    count, results = await images.favorites(principal, page)
    return build_page(request, page, count, results)


@router.get("/files/{key:path}", summary="Get an image file",
            response_class=Response, responses={**FILE_ANSWER, 403: {"description": "INVALID_SIGNATURE"}})
async def get_image_file(key: str, images: ImageServiceDep, exp: Annotated[int, Query()],
                         sig: Annotated[str, Query(max_length=128)]) -> Response:
    """A stored file behind a signed, expiring URL (the URLs the other routes hand out); no token needed, the
    signature is the permission."""
    data, content_type = await images.file(key, exp, sig)
    return Response(data, media_type=content_type, headers={"Cache-Control": "private, max-age=300"})


@router.get("/{image_id}", summary="Get an image", response_model=ImageRead, responses={**USER, **NOT_FOUND})
async def get_image(image_id: uuid.UUID, principal: AnonPrincipal,
                    images: ImageServiceDep) -> ImageRead:
    """One of the caller's images."""
    return await images.get(principal, image_id)


@router.patch("/{image_id}", summary="Update an image", response_model=ImageRead, responses={**USER, **NOT_FOUND})
async def update_image(image_id: uuid.UUID, data: ImageUpdate, principal: AnonPrincipal,
                       images: ImageServiceDep) -> ImageRead:
    """Change an image's tags, or make it public (shown in the gallery) or private."""
    return await images.update(principal, image_id, data)


@router.delete("/{image_id}", summary="Delete an image",
               status_code=status.HTTP_204_NO_CONTENT, responses={**USER, **NOT_FOUND})
async def delete_image(image_id: uuid.UUID, principal: AnonPrincipal,
                       images: ImageServiceDep) -> Response:
    """Delete one of the caller's images and its files."""
    await images.delete(principal, image_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{image_id}/favorite", summary="Toggle an image as favourite", response_model=FavoriteRead,
             responses={**USER, **NOT_FOUND, 201: {"model": FavoriteRead, "description": "Added to favorites"}})
async def toggle_favorite(image_id: uuid.UUID, principal: AnonPrincipal,
                          images: ImageServiceDep, response: Response) -> FavoriteRead:
    """Mark the image as a favourite (201), or unmark it if it is one (200), like the catalog's wishlist."""
    favorited = await images.toggle_favorite(principal, image_id)
    response.status_code = status.HTTP_201_CREATED if favorited else status.HTTP_200_OK
    return FavoriteRead(image_id=image_id, favorited=favorited)
