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
    job_id: uuid.UUID
    status: str


class ImageRef(BaseModel):
    id: uuid.UUID
    url: str
    thumbnail_url: str


class JobRead(BaseModel):
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
    image_id: uuid.UUID
    favorited: bool


# -- credits ---------------------------------------------------------------------------------

class BalanceRead(BaseModel):
    balance: int


class CreditAdjustment(InputModel):
    """Staff's grant (positive) or deduction (negative) of credits (#36)."""

    amount: int = Field(ge=-1_000_000, le=1_000_000, description="credits to add (positive) or take (negative)")
    reason: str = Field(min_length=1, max_length=200, description="shown to the customer in their ledger")

    @field_validator("amount")
    @classmethod
    def _not_zero(cls, amount: int) -> int:
        if amount == 0:
            raise ValueError("A grant or deduction of zero credits changes nothing")
        return amount


class CreditAdjustmentRead(BaseModel):
    transaction_id: uuid.UUID
    user_id: uuid.UUID
    amount: int
    balance: int


class TransactionRead(BaseModel):
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
    id: uuid.UUID
    sku: str
    name: str
    credits: int
    price: Money
    currency: str
    price_cents: int
    active: bool


class UsageRead(BaseModel):
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
    job_id: uuid.UUID
    status: str


class RestorationRead(BaseModel):
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
    message: str
    status: str


class UnlockRead(BaseModel):
    full_image_url: str
    credits_remaining: int


class ManualShare(BaseModel):
    type: Literal["manual"] = "manual"
    caption: str
    deep_link: str


class ShareLinks(BaseModel):
    facebook: str
    twitter: str
    linkedin: str
    pinterest: str
    instagram: ManualShare
    expires_in: int


class ConfirmShareRead(BaseModel):
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
    name: Title
    description: LongText = ""
    traits: Annotated[list[Trait], Field(max_length=20)] = []


class CharacterUpdate(_Input):
    name: Title | None = None
    description: LongText | None = None
    traits: Annotated[list[Trait], Field(max_length=20)] | None = None


class PageCreate(_Input):
    # Left out, the page goes after the last one.
    number: Annotated[int, Field(strict=True, ge=1, le=10_000)] | None = None
    text: LongText = ""
    # What the page's picture shows; left out, the page's text is illustrated.
    illustration_prompt: LongText = ""


class PageUpdate(_Input):
    number: Annotated[int, Field(strict=True, ge=1, le=10_000)] | None = None
    text: LongText | None = None
    illustration_prompt: LongText | None = None


class VersionCreate(_Input):
    # An instruction for this version only ("brighter colours"), added to the item's own words.
    prompt: Instruction | None = None
    # The cover's lettering (the cover only; the title is also put in the picture's prompt).
    title_text: Lettering | None = None
    subtitle_text: Lettering | None = None
    author_name: Lettering | None = None
    # The client's own record of what it asked (S0's `prompt_snapshot`): kept and shown back.
    prompt_snapshot: PromptSnapshot = None


class VersionUpdate(_Input):
    # Only `true` means something: this version becomes the item's selected one.
    is_selected: StrictBool


class VersionRead(BaseModel):
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
    name: str
    description: str
    traits: list[str]
    number: int
    reference_photo_url: str | None


class PageRead(_ItemRead):
    number: int
    text: str
    illustration_prompt: str


class CoverRead(_ItemRead):
    pass


ItemRead = CharacterRead | PageRead | CoverRead


class RetryAllowanceRead(BaseModel):
    content_type: str
    content_id: uuid.UUID
    used: int
    max: int
    remaining: int


class RetriesRead(BaseModel):
    book_id: uuid.UUID
    results: list[RetryAllowanceRead]


class RetryApply(_Input):
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
