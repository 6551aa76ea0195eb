"""API models of generation: requests (unknown fields ignored, wrong types 400) and answers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

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

from atelier_common.inputs import InputModel
from atelier_common.money import Money
from atelier_generation import domain

Prompt = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=1000)]
FilterValue = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, max_length=50)]
ModelId = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=50)]
Tag = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=domain.MAX_TAG_LENGTH)]


class _Input(InputModel):
    # docs/api.md: unknown request fields are ignored; wrong types are 400.
    model_config = ConfigDict(extra="ignore")


# -- models and jobs -------------------------------------------------------------------------

class ModelRead(BaseModel):
    id: str
    name: str
    credits: int
    kind: str


class ModelsRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"models": [{"id": "flux-schnell", "name": "FLUX Schnell", "credits": 1, "kind": "image"}]}]})

    models: list[ModelRead]


class Filters(_Input):
    body_type: FilterValue | None = None
    pose: FilterValue | None = None
    lighting: FilterValue | None = None
    clothing: FilterValue | None = None
    background: FilterValue | None = None


class JobCreate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"prompt": "A watercolour fox reading a book under an oak tree", "filters": {"lighting": "golden hour"},
         "batch_size": 2, "model": "flux-pro"}]})

    prompt: Prompt
    filters: Filters = Filters()
    batch_size: Annotated[int, Field(strict=True, ge=1, le=4)] = 1
    model: ModelId = "flux-pro"
    # Same prompt, filters, model and seed → the same images; left out, the server picks one.
    seed: Annotated[int, Field(strict=True, ge=0, le=2**31 - 1)] | None = None


class JobAccepted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"job_id": "a9d57fde-7423-477d-be81-11f499820286", "status": "queued"}]})

    job_id: uuid.UUID
    status: str


class ImageRef(BaseModel):
    id: uuid.UUID
    url: str
    thumbnail_url: str


class JobRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"job_id": "a9d57fde-7423-477d-be81-11f499820286", "status": "completed", "progress": 100,
         "model": "flux-pro", "prompt": "a watercolour fox in a snowy forest",
         "filters": {"pose": "standing", "lighting": "soft"}, "batch_size": 1, "seed": 823710671,
         "credits_charged": 2, "attempts": 1, "error": None,
         "images": [{"id": "ed271751-f2ee-5ae6-bd10-8b882a1ce5e3",
           "url": "http://localhost:8000/api/v1/images/files/images/ed271751-f2ee-5ae6-bd10-8b882a1ce5e3.png?exp=1795662928&sig=f84a1558f29d33e96cfc6c8507b03d6ac4ceb21a86ac4461247baa0a31727d7e",
           "thumbnail_url": "http://localhost:8000/api/v1/images/files/images/ed271751-f2ee-5ae6-bd10-8b882a1ce5e3_thumb.png?exp=1795662928&sig=7c6bde8cc2c6cc1a93a4a70c34d65480856b18eb96ec6d6ebabc2541daf493d8"}],
         "storefront": "default", "created_at": "2026-11-26T02:15:27.916682Z",
         "started_at": "2026-11-26T02:15:28.088111Z", "finished_at": "2026-11-26T02:15:28.350716Z"}]})

    job_id: uuid.UUID
    status: str
    progress: int
    model: str
    prompt: str
    filters: dict[str, Any]
    batch_size: int
    seed: int
    credits_charged: int
    attempts: int
    error: str | None
    images: list[ImageRef]
    # The storefront the job was made on.
    storefront: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class WebhookAck(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"status": "received"}]})

    # received (the job is followed), resumed (announced again to a worker), ignored (already finished)
    status: str


class JobProgress(BaseModel):
    """One Server-Sent Event of a job's progress."""

    job_id: uuid.UUID
    status: str
    progress: int
    error: str | None = None


# -- images ----------------------------------------------------------------------------------

class ImageRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "ed271751-f2ee-5ae6-bd10-8b882a1ce5e3",
         "url": "http://localhost:8000/api/v1/images/files/images/ed271751-f2ee-5ae6-bd10-8b882a1ce5e3.png?exp=1795662928&sig=f84a1558f29d33e96cfc6c8507b03d6ac4ceb21a86ac4461247baa0a31727d7e",
         "thumbnail_url": "http://localhost:8000/api/v1/images/files/images/ed271751-f2ee-5ae6-bd10-8b882a1ce5e3_thumb.png?exp=1795662928&sig=7c6bde8cc2c6cc1a93a4a70c34d65480856b18eb96ec6d6ebabc2541daf493d8",
         "job_id": "a9d57fde-7423-477d-be81-11f499820286", "prompt": "a watercolour fox in a snowy forest",
         "model": "flux-pro", "filters": {"pose": "standing", "lighting": "soft"}, "tags": ["fox", "winter"],
         "is_public": True, "is_premium": False, "is_favorite": False, "is_owner": False, "width": 512,
         "height": 512, "created_at": "2026-11-26T02:15:28.353514Z"}]})

    id: uuid.UUID
    url: str
    thumbnail_url: str
    job_id: uuid.UUID
    prompt: str
    model: str
    filters: dict[str, Any]
    tags: list[str]
    is_public: bool
    is_premium: bool
    is_favorite: bool
    is_owner: bool
    width: int
    height: int
    created_at: datetime


class ImageUpdate(_Input):
    """PATCH: only the fields sent change; neither may be null."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"tags": ["fox", "winter"], "is_public": True}]})

    tags: Annotated[list[Tag], Field(max_length=20)] | None = None
    is_public: StrictBool | None = None

    @field_validator("tags")
    @classmethod
    def _valid_tags(cls, tags: list[str] | None) -> list[str] | None:
        if tags is None:
            raise ValueError("may not be null")
        normalised = list(dict.fromkeys(domain.normalise_tag(tag) for tag in tags))
        for tag in normalised:
            if not domain.TAG_PATTERN.match(tag):
                raise ValueError(f"{tag!r} is not a tag: use words or key:value (letters, digits, - and _)")
        return normalised

    @field_validator("is_public")
    @classmethod
    def _not_null(cls, value: bool | None) -> bool | None:
        if value is None:
            raise ValueError("may not be null")
        return value


class FavoriteRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"image_id": "ed271751-f2ee-5ae6-bd10-8b882a1ce5e3", "favorited": True}]})

    image_id: uuid.UUID
    favorited: bool


# -- credits ---------------------------------------------------------------------------------

class BalanceRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"balance": 10}]})

    balance: int


class CreditAdjustment(InputModel):
    """Staff's grant (positive) or deduction (negative) of credits."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"amount": 5, "reason": "Goodwill after a failed job"}]})

    amount: int = Field(ge=-1_000_000, le=1_000_000, description="credits to add (positive) or take (negative)")
    reason: str = Field(min_length=1, max_length=200, description="shown to the customer in their ledger")

    @field_validator("amount")
    @classmethod
    def _not_zero(cls, amount: int) -> int:
        if amount == 0:
            raise ValueError("A grant or deduction of zero credits changes nothing")
        return amount


class CreditAdjustmentRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"transaction_id": "15b86943-5e3a-4736-9086-7a59785121c2",
         "user_id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "amount": 5, "balance": 12}]})

    transaction_id: uuid.UUID
    user_id: uuid.UUID
    amount: int
    balance: int


class TransactionRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "e653b571-1338-43e1-8abe-21862f708c51", "amount": 10, "transaction_type": "purchase",
         "balance_after": 10, "reference_id": None, "order_id": "7ea73ec4-c195-4af3-8be3-bf6adfbecb99",
         "description": "PACK_10 × 1", "storefront": "default", "created_at": "2026-11-26T02:15:27.417917Z"}]})

    id: uuid.UUID
    amount: int
    transaction_type: str
    balance_after: int
    reference_id: uuid.UUID | None
    order_id: uuid.UUID | None
    description: str
    # Where the credits were bought or spent (the balance is the account's, on every storefront).
    storefront: str
    created_at: datetime


class CreditPackRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "1ccbbc64-a25e-4235-9055-95b9c3f6f2bd", "sku": "PACK_5", "name": "5 credits", "credits": 5,
         "price": "4.99", "currency": "USD", "price_cents": 499, "active": True}]})

    id: uuid.UUID
    sku: str
    name: str
    credits: int
    price: Money
    currency: str
    price_cents: int
    active: bool


class UsageRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"images_generated": 0, "credits_balance": 10, "images_remaining": 10, "subscription_tier": "free",
         "free_preview_used": True, "social_share_unlock_used": False}]})

    images_generated: int
    credits_balance: int
    images_remaining: int
    subscription_tier: str
    # S2's one-offs: a restoration started (its free preview) and the one share unlock spent.
    free_preview_used: bool
    social_share_unlock_used: bool


class QuotaRead(BaseModel):
    """A user's subscription quota this period (GET /internal/users/{user_id}/quota, for payments)."""

    monthly: int
    used: int
    remaining: int
    # The end of the period `used` counts in (generation's copy of the plan, from `subscription.changed`):
    # payments tells by it whether generation has heard of the plan's current period yet.
    period_end: datetime | None = None


# -- restorations (S2) -----------------------------------------------------------------------

class RestorationCreated(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"job_id": "fcff3c39-f55e-457e-b685-2421865be366", "status": "pending"}]})

    job_id: uuid.UUID
    status: str


class RestorationRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "fcff3c39-f55e-457e-b685-2421865be366", "job_id": "fcff3c39-f55e-457e-b685-2421865be366",
         "status": "completed", "error": None,
         "preview_url": "http://localhost:8000/api/v1/images/files/restorations/fcff3c39-f55e-457e-b685-2421865be366/preview.jpg?exp=1795662930&sig=e418c2d4057a5088d4ffd699ef3df00f338c02f5d7eb1515c63e907418d52b0e",
         "original_image_url": "http://localhost:8000/api/v1/images/files/restorations/fcff3c39-f55e-457e-b685-2421865be366/original.png?exp=1795662930&sig=51ada6f1da0e706ceb160ac389a26d892f2d047958046045e7ba2d7f41405d5c",
         "restored_preview_url": "http://localhost:8000/api/v1/images/files/restorations/fcff3c39-f55e-457e-b685-2421865be366/preview.jpg?exp=1795662930&sig=e418c2d4057a5088d4ffd699ef3df00f338c02f5d7eb1515c63e907418d52b0e",
         "restored_full_url": None, "is_unlocked": False, "unlock_method": None, "unlocked_at": None, "width": 600,
         "height": 600, "storefront": "default", "created_at": "2026-11-26T02:15:28.998433Z",
         "expires_at": "2027-01-25T02:15:28.998433Z"}]})

    id: uuid.UUID
    job_id: uuid.UUID
    status: str
    error: str | None
    # The watermarked low-resolution preview, once completed.
    preview_url: str | None
    original_image_url: str
    restored_preview_url: str | None
    # Only once unlocked.
    restored_full_url: str | None
    is_unlocked: bool
    unlock_method: str | None
    unlocked_at: datetime | None
    width: int
    height: int
    storefront: str
    created_at: datetime
    expires_at: datetime


class RestorationDeleted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"message": "Job deleted successfully", "status": "ok"}]})

    message: str
    status: str


class UnlockRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"full_image_url": "http://localhost:8000/api/v1/images/files/restorations/fcff3c39-f55e-457e-b685-2421865be366/full.jpg?exp=1795662930&sig=9fa702cb7eee5efba4463a0a1678d44dea11f680def74f604bf5a1b8e745cd1d",
         "credits_remaining": 7}]})

    full_image_url: str
    credits_remaining: int


class ManualShare(BaseModel):
    type: Literal["manual"] = "manual"
    caption: str
    deep_link: str


class ShareLinks(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"facebook": "http://localhost:8000/api/v1/restorations/06bfd4ec-84ed-4f0a-b64e-3617c344e524/share-redirect/facebook?s=eyJyIjoiMDZiZmQ0ZWMtODRlZC00ZjBhLWI2NGUtMzYxN2MzNDRlNTI0IiwidSI6ImY3ZGZjOGEyLTg2ZDktNDczYS1hNWFhLTUzOWRjYzU3MzMwYSIsImUiOjE3OTU2NjAyMzF9.5ae2ef04fbea3891c3ccc5c688b3fd646797eda8be9e9611468314cb3d1e2f17",
         "twitter": "http://localhost:8000/api/v1/restorations/06bfd4ec-84ed-4f0a-b64e-3617c344e524/share-redirect/twitter?s=eyJyIjoiMDZiZmQ0ZWMtODRlZC00ZjBhLWI2NGUtMzYxN2MzNDRlNTI0IiwidSI6ImY3ZGZjOGEyLTg2ZDktNDczYS1hNWFhLTUzOWRjYzU3MzMwYSIsImUiOjE3OTU2NjAyMzF9.5ae2ef04fbea3891c3ccc5c688b3fd646797eda8be9e9611468314cb3d1e2f17",
         "linkedin": "http://localhost:8000/api/v1/restorations/06bfd4ec-84ed-4f0a-b64e-3617c344e524/share-redirect/linkedin?s=eyJyIjoiMDZiZmQ0ZWMtODRlZC00ZjBhLWI2NGUtMzYxN2MzNDRlNTI0IiwidSI6ImY3ZGZjOGEyLTg2ZDktNDczYS1hNWFhLTUzOWRjYzU3MzMwYSIsImUiOjE3OTU2NjAyMzF9.5ae2ef04fbea3891c3ccc5c688b3fd646797eda8be9e9611468314cb3d1e2f17",
         "pinterest": "http://localhost:8000/api/v1/restorations/06bfd4ec-84ed-4f0a-b64e-3617c344e524/share-redirect/pinterest?s=eyJyIjoiMDZiZmQ0ZWMtODRlZC00ZjBhLWI2NGUtMzYxN2MzNDRlNTI0IiwidSI6ImY3ZGZjOGEyLTg2ZDktNDczYS1hNWFhLTUzOWRjYzU3MzMwYSIsImUiOjE3OTU2NjAyMzF9.5ae2ef04fbea3891c3ccc5c688b3fd646797eda8be9e9611468314cb3d1e2f17",
         "instagram": {"type": "manual", "caption": "I just restored an old photo with reviv.pics",
          "deep_link": "instagram://app"}, "expires_in": 900}]})

    facebook: str
    twitter: str
    linkedin: str
    pinterest: str
    instagram: ManualShare
    expires_in: int


class ConfirmShareRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"full_image_url": "http://localhost:8000/api/v1/images/files/restorations/d73ea0ba-2475-46ac-b815-fbca116622b1.png?exp=1795662850&sig=9cfe1332123aa0e520fd0a5899ce1af527d3dd9ea3df9d42b543e789d06a54db"}]})

    full_image_url: str


# -- /internal -------------------------------------------------------------------------------

class AccountSummary(BaseModel):
    owner_id: uuid.UUID
    credits_balance: int
    subscription_tier: str
    images_generated: int
    social_share_unlock_used: bool


# -- storybooks (S0) -------------------------------------------------------------------------

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
