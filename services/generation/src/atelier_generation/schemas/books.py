"""Storybooks (S0): books, their characters, pages and cover, each item's versions, and retries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import orjson
from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    field_validator,
)

from atelier_generation import domain
from atelier_generation.schemas._shared import _Input

Title = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, max_length=5000)]
Trait = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=100)]
AgeRange = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, max_length=20)]
Style = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, max_length=100)]
Language = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, max_length=10)]
Instruction = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, max_length=1000)]
ContentTypeName = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, to_upper=True)]
PrintOption = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, max_length=50)]
Lettering = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, max_length=255)]
SNAPSHOT_MAX_BYTES = 10_000


def _snapshot_size(value: Any) -> Any:
    """A client's prompt snapshot is any JSON, kept as given, within a bound."""
    if value is not None and len(orjson.dumps(value)) > SNAPSHOT_MAX_BYTES:
        raise ValueError(f"at most {SNAPSHOT_MAX_BYTES} bytes of JSON")
    return value


PromptSnapshot = Annotated[Any, AfterValidator(_snapshot_size)]


class BookCreate(_Input):
    """A new book, or the whole of one (PUT)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"title": "Milo and the Moon Lantern", "description": "A bedtime adventure about a brave little fox.",
         "age_range": "3-6", "style": "watercolour", "language": "en"}]})

    title: Title
    description: LongText = ""
    age_range: AgeRange = ""
    style: Style = ""
    language: Language = "en"
    # The print the customer has in mind (S0's book options): free text, shown back as given.
    style_version: PrintOption | None = None
    print_size: PrintOption | None = None
    paper_type: PrintOption | None = None
    binding_type: PrintOption | None = None


class BookUpdate(_Input):
    """PATCH: the fields given change."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"description": "A small dog sails to the lighthouse"}]})

    title: Title | None = None
    description: LongText | None = None
    age_range: AgeRange | None = None
    style: Style | None = None
    language: Language | None = None
    style_version: PrintOption | None = None
    print_size: PrintOption | None = None
    paper_type: PrintOption | None = None
    binding_type: PrintOption | None = None


class BookRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "195df106-37a8-47b7-b4a4-84484fb00017", "title": "Max Goes to Sea",
         "description": "A small dog's first voyage", "age_range": "3-5", "style": "", "language": "en",
         "status": "draft", "style_version": None, "print_size": None, "paper_type": None, "binding_type": None,
         "page_count": 0, "cover_version_id": None, "images_made": 0, "last_generation_at": None,
         "print_paid_at": None, "print_tier": None, "storefront": "default",
         "created_at": "2026-11-26T02:15:31.603999Z", "updated_at": "2026-11-26T02:15:31.603999Z"}]})

    id: uuid.UUID
    title: str
    description: str
    age_range: str
    style: str
    language: str
    status: str
    style_version: str | None
    print_size: str | None
    paper_type: str | None
    binding_type: str | None
    # What its items add up to: pages, the cover's selected version, finished pictures, the
    # latest version asked for; and when its print order was paid (S0's book figures).
    page_count: int
    cover_version_id: uuid.UUID | None
    images_made: int
    last_generation_at: datetime | None
    print_paid_at: datetime | None
    # The print tier of the book's latest paid print order (None before one).
    print_tier: str | None
    # The storefront the book was made on.
    storefront: str
    created_at: datetime
    updated_at: datetime


class CharacterCreate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "Max", "description": "A scruffy terrier", "traits": ["brave", "curious"]}]})

    name: Title
    description: LongText = ""
    traits: Annotated[list[Trait], Field(max_length=20)] = []


class CharacterUpdate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"traits": ["brave", "curious", "loyal"]}]})

    name: Title | None = None
    description: LongText | None = None
    traits: Annotated[list[Trait], Field(max_length=20)] | None = None


class PageCreate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"text": "Max sets sail.", "illustration_prompt": "a terrier on a small sailboat at dawn"}]})

    # Left out, the page goes after the last one.
    number: Annotated[int, Field(strict=True, ge=1, le=10_000)] | None = None
    text: LongText = ""
    # What the page's picture shows; left out, the page's text is illustrated.
    illustration_prompt: LongText = ""


class PageUpdate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"text": "Max sets sail at dawn."}]})

    number: Annotated[int, Field(strict=True, ge=1, le=10_000)] | None = None
    text: LongText | None = None
    illustration_prompt: LongText | None = None


class VersionCreate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"prompt": "brighter colours, a calmer sea"}]})

    # An instruction for this version only ("brighter colours"), added to the item's own words.
    prompt: Instruction | None = None
    # The cover's lettering (the cover only; the title is also put in the picture's prompt).
    title_text: Lettering | None = None
    subtitle_text: Lettering | None = None
    author_name: Lettering | None = None
    # The client's own record of what it asked (S0's `prompt_snapshot`): kept and shown back.
    prompt_snapshot: PromptSnapshot = None


class VersionUpdate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"is_selected": True}]})

    # Only `true` means something: this version becomes the item's selected one.
    is_selected: StrictBool


class VersionRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "07930e48-e07e-4621-bbe8-25ab7379b90c", "content_type": "CHARACTER",
         "content_id": "973e4481-a2f8-44de-b1ff-5fd54e73127b", "version_number": 1, "status": "completed",
         "progress": 100, "job_id": "07930e48-e07e-4621-bbe8-25ab7379b90c", "error": None,
         "image_url": "http://localhost:8000/api/v1/images/files/books/b6f9562c-0a41-5dab-9fe7-939a14877449.png?exp=1795662935&sig=766e33fd528d41bf6eea9327c684c2f624a95c9944485a230fed12bab668c6dc",
         "thumbnail_url": "http://localhost:8000/api/v1/images/files/books/b6f9562c-0a41-5dab-9fe7-939a14877449_thumb.png?exp=1795662935&sig=3d98fa95809280fafd498aba7a4f6da78babd71c18c64f94a3a159ce67779052",
         "width": 512, "height": 512, "is_selected": True,
         "prompt": "Character portrait for the children's book \"Max Goes to Sea\". Max. A scruffy terrier. Traits: brave, curious",
         "title_text": None, "subtitle_text": None, "author_name": None, "prompt_snapshot": None,
         "created_at": "2026-11-26T02:15:31.781933Z", "deleted_at": None}]})

    id: uuid.UUID
    content_type: str
    content_id: uuid.UUID
    version_number: int
    # The job's: queued, running, completed, failed (progress on /generation/jobs/{job_id}/events).
    status: str
    progress: int
    job_id: uuid.UUID
    error: str | None
    image_url: str | None
    thumbnail_url: str | None
    width: int | None
    height: int | None
    is_selected: bool
    # The prompt the picture was made from.
    prompt: str
    title_text: str | None
    subtitle_text: str | None
    author_name: str | None
    prompt_snapshot: Any
    created_at: datetime
    # Set once deleted: only a version a paid print used is kept, readable by its id (hidden from
    # lists and from the item).
    deleted_at: datetime | None = None


class _ItemRead(BaseModel):
    id: uuid.UUID
    book_id: uuid.UUID
    content_type: str
    selected_version: VersionRead | None
    latest_version: VersionRead | None
    version_count: int
    created_at: datetime
    updated_at: datetime


class CharacterRead(_ItemRead):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "973e4481-a2f8-44de-b1ff-5fd54e73127b", "book_id": "195df106-37a8-47b7-b4a4-84484fb00017",
         "content_type": "CHARACTER", "selected_version": None,
         "latest_version": {"id": "07930e48-e07e-4621-bbe8-25ab7379b90c", "content_type": "CHARACTER",
          "content_id": "973e4481-a2f8-44de-b1ff-5fd54e73127b", "version_number": 1, "status": "running",
          "progress": 5, "job_id": "07930e48-e07e-4621-bbe8-25ab7379b90c", "error": None, "image_url": None,
          "thumbnail_url": None, "width": None, "height": None, "is_selected": False,
          "prompt": "Character portrait for the children's book \"Max Goes to Sea\". Max. A scruffy terrier. Traits: brave, curious",
          "title_text": None, "subtitle_text": None, "author_name": None, "prompt_snapshot": None,
          "created_at": "2026-11-26T02:15:31.781933Z", "deleted_at": None}, "version_count": 1,
         "created_at": "2026-11-26T02:15:31.776152Z", "updated_at": "2026-11-26T02:15:31.776152Z", "name": "Max",
         "description": "A scruffy terrier", "traits": ["brave", "curious"], "number": 1,
         "reference_photo_url": None}]})

    name: str
    description: str
    traits: list[str]
    number: int
    reference_photo_url: str | None


class PageRead(_ItemRead):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "b0740e7a-0d2b-45da-9b00-8493073fabb0", "book_id": "195df106-37a8-47b7-b4a4-84484fb00017",
         "content_type": "PAGE", "selected_version": None,
         "latest_version": {"id": "4eb9a58c-d489-42a1-8367-4e3a2c991a58", "content_type": "PAGE",
          "content_id": "b0740e7a-0d2b-45da-9b00-8493073fabb0", "version_number": 1, "status": "queued",
          "progress": 0, "job_id": "4eb9a58c-d489-42a1-8367-4e3a2c991a58", "error": None, "image_url": None,
          "thumbnail_url": None, "width": None, "height": None, "is_selected": False,
          "prompt": "Story page illustration for the children's book \"Max Goes to Sea\". a terrier on a small sailboat at dawn",
          "title_text": None, "subtitle_text": None, "author_name": None, "prompt_snapshot": None,
          "created_at": "2026-11-26T02:15:32.580585Z", "deleted_at": None}, "version_count": 1,
         "created_at": "2026-11-26T02:15:32.558042Z", "updated_at": "2026-11-26T02:15:32.558042Z", "number": 1,
         "text": "Max sets sail.", "illustration_prompt": "a terrier on a small sailboat at dawn"}]})

    number: int
    text: str
    illustration_prompt: str


# The cover's example: its first version, finished and selected.
_COVER_VERSION_EXAMPLE: dict[str, Any] = {
    "id": "1219957d-6875-4d61-aa4d-7f7dd6e46df3", "content_type": "COVER",
    "content_id": "6979db28-f93c-4adc-a6ca-064c4677759e", "version_number": 1, "status": "completed",
    "progress": 100, "job_id": "1219957d-6875-4d61-aa4d-7f7dd6e46df3", "error": None,
    "image_url": "http://localhost:8000/api/v1/images/files/books/f24ba540-8517-55b8-a67d-346c70aa4741.png?exp=1795662935&sig=db15996bddda2b42587df714851ca45e156204770920127daf68d0555221653e",
    "thumbnail_url": "http://localhost:8000/api/v1/images/files/books/f24ba540-8517-55b8-a67d-346c70aa4741_thumb.png?exp=1795662935&sig=2664e09d72102004bfc3685510e12abbe37292b40639bea4bf1faa487d472c5a",
    "width": 512, "height": 512, "is_selected": True,
    "prompt": "Book cover for the children's book \"Max Goes to Sea\". A small dog sails to the lighthouse",
    "title_text": None, "subtitle_text": None, "author_name": None, "prompt_snapshot": None,
    "created_at": "2026-11-26T02:15:32.757510Z", "deleted_at": None}


class CoverRead(_ItemRead):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "6979db28-f93c-4adc-a6ca-064c4677759e", "book_id": "195df106-37a8-47b7-b4a4-84484fb00017",
         "content_type": "COVER", "selected_version": _COVER_VERSION_EXAMPLE, "latest_version": _COVER_VERSION_EXAMPLE,
         "version_count": 1, "created_at": "2026-11-26T02:15:32.745659Z", "updated_at": "2026-11-26T02:15:32.922313Z"}]})


ItemRead = CharacterRead | PageRead | CoverRead


class RetryAllowanceRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"content_type": "PAGE", "content_id": "b0740e7a-0d2b-45da-9b00-8493073fabb0", "used": 0, "max": 3,
         "remaining": 3}]})

    content_type: str
    content_id: uuid.UUID
    used: int
    max: int
    remaining: int


class RetriesRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"book_id": "195df106-37a8-47b7-b4a4-84484fb00017",
         "results": [{"content_type": "CHARACTER", "content_id": "973e4481-a2f8-44de-b1ff-5fd54e73127b", "used": 0,
           "max": 0, "remaining": 0}]}]})

    book_id: uuid.UUID
    results: list[RetryAllowanceRead]


class RetryApply(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"content_type": "PAGE", "content_id": "b0740e7a-0d2b-45da-9b00-8493073fabb0",
         "order_id": "3c0e6f1a-8b2d-4e5f-9a7c-1d2e3f4a5b6c"}]})

    content_type: ContentTypeName
    content_id: uuid.UUID
    # S0's field name too.
    order_id: uuid.UUID = Field(validation_alias=AliasChoices("order_id", "retry_pack_order_id"))

    @field_validator("content_type")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in domain.ContentType.__members__:
            raise ValueError(f"must be one of {', '.join(domain.ContentType)}")
        return value


class BookOwnership(BaseModel):
    """`GET /internal/books/{id}?owner_id=` for orders' print orders."""

    id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    page_count: int
    status: str


class BookItemOwnership(BaseModel):
    """`GET /internal/book-items/{content_type}/{content_id}?owner_id=` for orders' retry-pack targets."""

    content_type: str
    content_id: uuid.UUID
    book_id: uuid.UUID
