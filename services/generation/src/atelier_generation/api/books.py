"""/api/v1/books and /api/v1/retries: storybooks (S0).

Books and characters are open to anonymous owners (the service enforces S0's limits); pages,
retry allowances and retry packs need an account. Each item's versions are the same four routes:
list, regenerate (POST), read, select (PATCH `{is_selected: true}`).
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Request, Response, UploadFile, status

from atelier_common.auth import AnonPrincipal, UserPrincipal, require_user
from atelier_common.pagination import Page, PageParamsDep, build_page
from atelier_common.responses import ErrorResponses
from atelier_generation.api.deps import NOT_FOUND, USER, BookServiceDep, RetryServiceDep
from atelier_generation.domain import ContentType
from atelier_generation.schemas import (
    BookCreate,
    BookRead,
    BookUpdate,
    CharacterCreate,
    CharacterRead,
    CharacterUpdate,
    CoverRead,
    ItemRead,
    PageCreate,
    PageRead,
    PageUpdate,
    RetriesRead,
    RetryAllowanceRead,
    RetryApply,
    VersionCreate,
    VersionRead,
    VersionUpdate,
)

router = APIRouter(prefix="/api/v1/books", tags=["books"])
pages = APIRouter(prefix="/api/v1/books", tags=["books"], dependencies=[require_user])
retries = APIRouter(prefix="/api/v1/retries", tags=["books"], dependencies=[require_user])

ANONYMOUS_LIMIT: ErrorResponses = {403: {"description": "PERMISSION_DENIED: an anonymous owner's limit"}}
REGENERATE: ErrorResponses = {**USER, **NOT_FOUND,
                              403: {"description": "RETRY_LIMIT, or PERMISSION_DENIED for an anonymous owner"}}
CHARACTER_TAKEN: ErrorResponses = {409: {"description": "CONFLICT: a parallel request added the anonymous book's one "
                                                     "character"}}
NUMBER_TAKEN: ErrorResponses = {409: {"description": "CONFLICT: the page number is taken"}}
SELECT: ErrorResponses = {**NOT_FOUND, 400: {"description": "INVALID_STATE: the version is not finished"}}
DELETE_VERSION: ErrorResponses = {**NOT_FOUND, 400: {"description": "INVALID_STATE: the version is still being made"}}
PHOTO_ERRORS: ErrorResponses = {400: {"description": "UNSUPPORTED_FORMAT, IMAGE_TOO_SMALL, IMAGE_TOO_LARGE"},
                                413: {"description": "FILE_TOO_LARGE"}}
NO_CONTENT = Response(status_code=status.HTTP_204_NO_CONTENT)


# -- books -------------------------------------------------------------------------------------

@router.get("", summary="List my storybooks", response_model=Page[BookRead])
async def list_books(request: Request, page: PageParamsDep, principal: AnonPrincipal, books: BookServiceDep) -> dict:
    """The caller's storybooks, newest first."""
    count, results = await books.page(principal, page)
    return build_page(request, page, count, results)


@router.post("", summary="Create a storybook",
             response_model=BookRead, status_code=status.HTTP_201_CREATED, responses=ANONYMOUS_LIMIT)
async def create_book(data: BookCreate, principal: AnonPrincipal, books: BookServiceDep) -> BookRead:
    """A new storybook; add characters, pages and a cover, then order it printed (`POST /api/v1/orders` with
    `book_id` and a `tier`). A guest may make one."""
    return await books.view(await books.create(principal, data))


@router.get("/{book_id}", summary="Get a storybook", response_model=BookRead, responses=NOT_FOUND)
async def get_book(book_id: uuid.UUID, principal: AnonPrincipal, books: BookServiceDep) -> BookRead:
    """One of the caller's storybooks, with its print state."""
    return await books.view(await books.get(principal, book_id))


@router.put("/{book_id}", summary="Replace a storybook", response_model=BookRead, responses=NOT_FOUND)
async def replace_book(book_id: uuid.UUID, data: BookCreate, principal: AnonPrincipal,
                       books: BookServiceDep) -> BookRead:
    """Change a storybook's title, description, style and print options."""
    return await books.view(await books.update(principal, book_id, data.model_dump()))


@router.patch("/{book_id}", summary="Update a storybook", response_model=BookRead, responses=NOT_FOUND)
async def update_book(book_id: uuid.UUID, data: BookUpdate, principal: AnonPrincipal,
                      books: BookServiceDep) -> BookRead:
    """Change some of a storybook's fields."""
    changes = data.model_dump(exclude_unset=True)
    return await books.view(await books.update(principal, book_id, changes))


@router.delete("/{book_id}", summary="Delete a storybook", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_book(book_id: uuid.UUID, principal: AnonPrincipal, books: BookServiceDep) -> Response:
    """The book, its characters, cover, pages, versions and their files."""
    await books.delete(principal, book_id)
    return NO_CONTENT


# -- characters ------------------------------------------------------------------------------

@router.get("/{book_id}/characters", summary="List a book's characters",
            response_model=Page[CharacterRead], responses=NOT_FOUND)
async def list_characters(request: Request, book_id: uuid.UUID, page: PageParamsDep, principal: AnonPrincipal,
                          books: BookServiceDep) -> dict:
    """The book's characters, each with its latest and selected picture."""
    count, results = await books.items_of(principal, book_id, ContentType.CHARACTER, page)
    return build_page(request, page, count, results)


@router.post("/{book_id}/characters", summary="Add a character",
             response_model=CharacterRead, status_code=status.HTTP_201_CREATED,
             responses={**NOT_FOUND, **ANONYMOUS_LIMIT, **CHARACTER_TAKEN})
async def create_character(book_id: uuid.UUID, data: CharacterCreate, principal: AnonPrincipal,
                           books: BookServiceDep) -> ItemRead:
    """The character, with its first picture queued (`latest_version`)."""
    return await books.add_character(principal, book_id, data)


@router.get("/{book_id}/characters/{item_id}", summary="Get a character",
            response_model=CharacterRead, responses=NOT_FOUND)
async def get_character(book_id: uuid.UUID, item_id: uuid.UUID, principal: AnonPrincipal,
                        books: BookServiceDep) -> ItemRead:
    """One character of the book, with its versions' state."""
    return await books.item(principal, book_id, ContentType.CHARACTER, item_id)


@router.put("/{book_id}/characters/{item_id}", summary="Replace a character",
            response_model=CharacterRead, responses=NOT_FOUND)
async def replace_character(book_id: uuid.UUID, item_id: uuid.UUID, data: CharacterCreate,
                            principal: AnonPrincipal, books: BookServiceDep) -> ItemRead:
    """Change a character's name, description and traits."""
    return await books.update_item(principal, book_id, ContentType.CHARACTER, item_id,
                                   data.model_dump())


@router.patch("/{book_id}/characters/{item_id}", summary="Update a character",
              response_model=CharacterRead, responses=NOT_FOUND)
async def update_character(book_id: uuid.UUID, item_id: uuid.UUID, data: CharacterUpdate,
                           principal: AnonPrincipal, books: BookServiceDep) -> ItemRead:
    """Change some of a character's fields."""
    return await books.update_item(principal, book_id, ContentType.CHARACTER, item_id,
                                   data.model_dump(exclude_unset=True))


@router.delete("/{book_id}/characters/{item_id}", summary="Delete a character",
               status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_character(book_id: uuid.UUID, item_id: uuid.UUID, principal: AnonPrincipal,
                           books: BookServiceDep) -> Response:
    """Delete a character and its pictures."""
    await books.delete_item(principal, book_id, ContentType.CHARACTER, item_id)
    return NO_CONTENT


@router.put("/{book_id}/characters/{item_id}/reference-photo", summary="Set a character's reference photo",
            response_model=CharacterRead,
            responses={**NOT_FOUND, **PHOTO_ERRORS})
async def set_reference_photo(book_id: uuid.UUID, item_id: uuid.UUID,
                              image: Annotated[UploadFile, File(description="JPG, PNG or WEBP, ≤ 10 MB")],
                              principal: AnonPrincipal, books: BookServiceDep) -> ItemRead:
    """The character's reference photo (multipart `image`), used by its next pictures; it replaces the previous one."""
    return await books.set_reference_photo(principal, book_id, item_id, image.read)


# -- pages (an account is needed) ------------------------------------------------------------

@pages.get("/{book_id}/pages", summary="List a book's pages",
           response_model=Page[PageRead], responses={**USER, **NOT_FOUND})
async def list_pages(request: Request, book_id: uuid.UUID, page: PageParamsDep, principal: UserPrincipal,
                     books: BookServiceDep) -> dict:
    """The book's pages in order, each with its illustration's state."""
    count, results = await books.items_of(principal, book_id, ContentType.PAGE, page)
    return build_page(request, page, count, results)


@pages.post("/{book_id}/pages", summary="Add a page", response_model=PageRead, status_code=status.HTTP_201_CREATED,
            responses={**USER, **NOT_FOUND, **NUMBER_TAKEN})
async def create_page(book_id: uuid.UUID, data: PageCreate, principal: UserPrincipal,
                      books: BookServiceDep) -> ItemRead:
    """The page, with its illustration queued (`latest_version`); numbered after the last unless `number` is given."""
    return await books.add_page(principal, book_id, data)


@pages.get("/{book_id}/pages/{item_id}", summary="Get a page", response_model=PageRead, responses={**USER, **NOT_FOUND})
async def get_page(book_id: uuid.UUID, item_id: uuid.UUID, principal: UserPrincipal,
                   books: BookServiceDep) -> ItemRead:
    """One page of the book."""
    return await books.item(principal, book_id, ContentType.PAGE, item_id)


@pages.put("/{book_id}/pages/{item_id}", summary="Replace a page",
           response_model=PageRead, responses={**USER, **NOT_FOUND, **NUMBER_TAKEN})
async def replace_page(book_id: uuid.UUID, item_id: uuid.UUID, data: PageCreate, principal: UserPrincipal,
                       books: BookServiceDep) -> ItemRead:
    """Change a page's number, text and illustration prompt."""
    return await books.update_item(principal, book_id, ContentType.PAGE, item_id,
                                   data.model_dump())


@pages.patch("/{book_id}/pages/{item_id}", summary="Update a page",
             response_model=PageRead, responses={**USER, **NOT_FOUND, **NUMBER_TAKEN})
async def update_page(book_id: uuid.UUID, item_id: uuid.UUID, data: PageUpdate, principal: UserPrincipal,
                      books: BookServiceDep) -> ItemRead:
    """Change some of a page's fields."""
    return await books.update_item(principal, book_id, ContentType.PAGE, item_id,
                                   data.model_dump(exclude_unset=True))


@pages.delete("/{book_id}/pages/{item_id}", summary="Delete a page",
              status_code=status.HTTP_204_NO_CONTENT, responses={**USER, **NOT_FOUND})
async def delete_page(book_id: uuid.UUID, item_id: uuid.UUID, principal: UserPrincipal,
                      books: BookServiceDep) -> Response:
    """Delete a page and its illustrations."""
    await books.delete_item(principal, book_id, ContentType.PAGE, item_id)
    return NO_CONTENT


# -- the cover -------------------------------------------------------------------------------

@router.get("/{book_id}/cover", summary="Get the cover", response_model=CoverRead, responses=NOT_FOUND)
async def get_cover(book_id: uuid.UUID, principal: AnonPrincipal, books: BookServiceDep) -> ItemRead:
    """The book's cover, with its latest and selected version; 404 until its first version is asked for (`POST
    …/cover/versions`)."""
    return await books.cover(principal, book_id)


# -- versions of characters, pages and the cover ---------------------------------------------

def _version_routes(on: APIRouter, path: str, content_type: ContentType) -> None:
    """list, regenerate, read and select for one kind of item (`path` names `{item_id}` or not)."""
    kind = content_type.lower()
    what = "cover" if content_type == ContentType.COVER else kind

    @on.get(f"{path}/versions", response_model=Page[VersionRead], responses=NOT_FOUND,
            name=f"list_{kind}_versions", summary=f"List the {what}'s versions",
            description=f"Every picture made for the {what}, version 1 first, with its status and which one is selected.")
    async def list_versions(request: Request, book_id: uuid.UUID, page: PageParamsDep, principal: AnonPrincipal,
                            books: BookServiceDep, item_id: uuid.UUID | None = None) -> dict:
        count, results = await books.versions_of(principal, book_id, content_type, item_id, page)
        return build_page(request, page, count, results)

    @on.post(f"{path}/versions", response_model=VersionRead, status_code=status.HTTP_201_CREATED,
             responses=REGENERATE, name=f"regenerate_{kind}", summary=f"Regenerate the {what}")
    async def regenerate(book_id: uuid.UUID, principal: AnonPrincipal, books: BookServiceDep,
                         data: VersionCreate | None = None, item_id: uuid.UUID | None = None) -> VersionRead:
        """A new version (picture), numbered by the server and queued; it spends one retry of the
        item's allowance (the cover's first version is free). Follow it with
        `GET /api/v1/generation/jobs/{job_id}/events`."""
        return await books.regenerate(principal, book_id, content_type, item_id, data)

    @on.get(f"{path}/versions/{{version_id}}", response_model=VersionRead, responses=NOT_FOUND,
            name=f"get_{kind}_version", summary=f"Get a {what} version",
            description=f"One version of the {what}: its status, progress and, once completed, its image (signed URLs).")
    async def get_version(book_id: uuid.UUID, version_id: uuid.UUID, principal: AnonPrincipal,
                          books: BookServiceDep, item_id: uuid.UUID | None = None) -> VersionRead:
        return await books.version(principal, book_id, content_type, item_id, version_id)

    @on.patch(f"{path}/versions/{{version_id}}", response_model=VersionRead, responses=SELECT,
              name=f"select_{kind}_version", summary=f"Select a {what} version",
              description=f"`is_selected: true` makes this finished version the {what}'s picture (the one printed).")
    async def select_version(book_id: uuid.UUID, version_id: uuid.UUID, data: VersionUpdate,
                             principal: AnonPrincipal, books: BookServiceDep,
                             item_id: uuid.UUID | None = None) -> VersionRead:
        if not data.is_selected:
            return await books.version(principal, book_id, content_type, item_id, version_id)
        return await books.select_version(principal, book_id, content_type, item_id, version_id)

    @on.delete(f"{path}/versions/{{version_id}}", status_code=status.HTTP_204_NO_CONTENT, responses=DELETE_VERSION,
               name=f"delete_{kind}_version", summary=f"Delete a {what} version",
               description=f"Hides the version from the {what} and its lists (owner only). Deleting the selected "
                           "version selects the finished one before it (else the newest left; none after the last). "
                           "A version that existed when the book's print order was paid is kept, readable by its "
                           "id with `deleted_at` set; any other is gone with its files. The retry spent stays "
                           "spent.")
    async def delete_version(book_id: uuid.UUID, version_id: uuid.UUID, principal: AnonPrincipal,
                             books: BookServiceDep, item_id: uuid.UUID | None = None) -> Response:
        await books.delete_version(principal, book_id, content_type, item_id, version_id)
        return NO_CONTENT


_version_routes(router, "/{book_id}/characters/{item_id}", ContentType.CHARACTER)
_version_routes(router, "/{book_id}/cover", ContentType.COVER)
_version_routes(pages, "/{book_id}/pages/{item_id}", ContentType.PAGE)


# -- retry allowances and packs --------------------------------------------------------------

@pages.get("/{book_id}/retries", summary="List a book's retry allowances",
           response_model=RetriesRead, responses={**USER, **NOT_FOUND})
async def list_retries(book_id: uuid.UUID, principal: UserPrincipal, retry_service: RetryServiceDep) -> RetriesRead:
    """Each item's allowance of regenerations `{content_type, content_id, used, max, remaining}`; a paid print order
    grants them, retry packs add."""
    return await retry_service.allowances(principal, book_id)


@retries.post("/apply", summary="Apply a retry pack", response_model=RetryAllowanceRead,
              responses={**USER, **NOT_FOUND, 403: {"description": "PERMISSION_DENIED: not your order"},
                         400: {"description": "INVALID_STATE: unpaid, already applied, or no retry pack"}})
async def apply_retry_pack(data: RetryApply, principal: UserPrincipal,
                           retry_service: RetryServiceDep) -> RetryAllowanceRead:
    """Add a paid, unused retry pack (an order line) to one item of your own book; answers the item's allowance
    after it."""
    return await retry_service.apply(principal, ContentType(data.content_type), data.content_id, data.order_id)
