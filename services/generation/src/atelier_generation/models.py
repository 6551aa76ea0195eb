"""Tables of the generation service.

Every owned row carries `owner_id`: the user id, or the anonymous id until
`identity.anonymous_claimed` moves it. No relationships are mapped: each query says what it
reads, and the repository loads children (tags) with one extra query per page.
"""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Numeric,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from atelier_common.columns import UtcDateTime, json_field, utcnow
from atelier_common.contracts.identity import DEFAULT_STOREFRONT
from atelier_common.imports import ImportRefRow
from atelier_common.owners import OwnerRow, owner_indexes


def _storefront() -> Any:
    """The storefront a row was made on (docs/storefronts.md); rows older than storefronts: the default."""
    return Field(default=DEFAULT_STOREFRONT, max_length=64, sa_column_kwargs={"server_default": DEFAULT_STOREFRONT})


def _timestamp(*, nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    return Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


# -- credits ---------------------------------------------------------------------------------

class CreditWallet(SQLModel, table=True):
    """One balance per account, whatever storefront it is spent on (accounts are platform-wide);
    the transactions say which storefront each credit came from or went to."""

    __tablename__ = "credit_wallet"
    # The last line of defence behind the guarded UPDATE … WHERE balance >= :n.
    __table_args__ = (CheckConstraint("balance >= 0", name="ck_credit_wallet_balance_non_negative"),)

    owner_id: uuid.UUID = Field(primary_key=True)
    balance: int = 0
    updated_at: datetime = _timestamp()


class CreditTransaction(SQLModel, table=True):
    __tablename__ = "credit_transaction"
    __table_args__ = (
        # A credit-pack line is granted once, whatever event announces it.
        UniqueConstraint("order_id", "product_id", name="uq_credit_transaction_order_product"),
        Index("ix_credit_transaction_owner_created", "owner_id", "created_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID
    kind: str = Field(max_length=20)
    # Signed: +5 for a purchase, -2 for a job, +2 for its refund.
    amount: int
    balance_after: int
    # The job or restoration the credits were spent on (or refunded for).
    reference_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None
    product_id: uuid.UUID | None = None
    description: str = Field(default="", max_length=200)
    # A purchase: its order's storefront; spent or refunded: the job's (the wallet is the account's).
    storefront: str = _storefront()
    created_at: datetime = _timestamp()


class CreditPack(SQLModel, table=True):
    """Projection of catalog's `credit_pack` products (from `catalog.product_changed`)."""

    __tablename__ = "credit_pack"

    product_id: uuid.UUID = Field(primary_key=True)
    sku: str = Field(max_length=100)
    name: str = Field(max_length=200)
    credits: int
    price: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    currency: str = Field(max_length=3)
    is_active: bool = True
    # The storefronts the pack is sold on (empty: every one), as catalog scopes the product.
    storefronts: list[str] = Field(default_factory=list, sa_column=Column(
        JSON().with_variant(JSONB(), "postgresql"), nullable=False, server_default=text("'[]'")))
    updated_at: datetime = _timestamp()


class Subscription(SQLModel, table=True):
    """Projection of `subscription.changed`, plus this service's own count of quota used."""

    __tablename__ = "subscription"

    user_id: uuid.UUID = Field(primary_key=True)
    plan_sku: str | None = Field(default=None, max_length=100)
    tier: str | None = Field(default=None, max_length=50)
    status: str = Field(max_length=30)
    monthly_quota: int = 0
    current_period_end: datetime | None = _timestamp(nullable=True)
    cancel_at_period_end: bool = False
    # Images taken from the quota in the period that ends at `quota_period_end`.
    quota_used: int = 0
    quota_period_end: datetime | None = _timestamp(nullable=True)
    # The storefront of the latest applied `subscription.changed` (one plan per account).
    storefront: str = _storefront()
    # When the applied event happened: an older event arriving late changes nothing.
    source_occurred_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


# -- jobs and images -------------------------------------------------------------------------

class GenerationJob(SQLModel, table=True):
    __tablename__ = "generation_job"
    __table_args__ = (
        Index("ix_generation_job_owner_created", "owner_id", "created_at"),
        Index("ix_generation_job_status_heartbeat", "status", "heartbeat_at"),
        CheckConstraint("kind IN ('image', 'restoration', 'storybook')", name="ck_generation_job_kind"),
        CheckConstraint("status IN ('queued', 'running', 'completed', 'failed', 'blocked')",
                        name="ck_generation_job_status"),
        # A provider's webhook names its request: the job is found by it.
        Index("ix_generation_job_provider_request", "provider", "provider_request_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID
    kind: str = Field(max_length=20)
    status: str = Field(default="queued", max_length=20)
    model: str = Field(max_length=50)
    prompt: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    filters: dict[str, Any] = json_field()
    batch_size: int = 1
    seed: int = 0
    credits_charged: int = 0
    # Images paid from the subscription quota of the period ending at `quota_period_end`.
    quota_charged: int = 0
    quota_period_end: datetime | None = _timestamp(nullable=True)
    attempts: int = 0
    progress: int = 0
    error: str | None = Field(default=None, max_length=500)
    # The storefront of the request that made it; its events and its credit rows carry it.
    storefront: str = _storefront()
    created_at: datetime = _timestamp()
    started_at: datetime | None = _timestamp(nullable=True)
    finished_at: datetime | None = _timestamp(nullable=True)
    # Last sign of life (created, claimed, progressed, re-queued): the sweep's staleness clock.
    heartbeat_at: datetime = _timestamp()
    # -- a hosted provider's job (docs/providers.md) --
    # The model that actually ran: `model`, or its fallback.
    served_model: str | None = Field(default=None, max_length=50)
    provider: str | None = Field(default=None, max_length=32)
    provider_model: str | None = Field(default=None, max_length=200)
    # Set (in its own transaction) before a submit goes out, cleared when the provider refused it:
    # a run that finds it set without a request id does not know whether the provider took the job.
    provider_submitted_at: datetime | None = _timestamp(nullable=True)
    # Stored (in its own transaction) as soon as the provider accepted: a crashed run resumes by it.
    provider_request_id: str | None = Field(default=None, max_length=200)
    # From the submit to the result in hand.
    provider_latency_ms: int | None = None
    # USD, as the provider reported it (or priced from the usage it reported); None: not reported.
    provider_cost: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 6), nullable=True))
    # Storage keys of the pictures the provider is given as references (a storybook's characters).
    reference_keys: list[str] = Field(default_factory=list, sa_column=Column(
        JSON().with_variant(JSONB(), "postgresql"), nullable=False, server_default=text("'[]'")))


class GeneratedImage(SQLModel, table=True):
    __tablename__ = "generated_image"
    __table_args__ = (
        Index("ix_generated_image_owner_created", "owner_id", "created_at"),
        Index("ix_generated_image_public_created", "is_public", "created_at"),
        Index("ix_generated_image_job", "job_id"),
    )

    id: uuid.UUID = Field(primary_key=True)
    owner_id: uuid.UUID
    job_id: uuid.UUID = Field(sa_column=Column(ForeignKey("generation_job.id", ondelete="CASCADE",
                                                          name="fk_generated_image_job_id"), nullable=False))
    model: str = Field(max_length=50)
    prompt: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    filters: dict[str, Any] = json_field()
    storage_key: str = Field(max_length=300)
    thumbnail_key: str = Field(max_length=300)
    width: int
    height: int
    size_bytes: int
    is_public: bool = False
    is_premium: bool = False
    created_at: datetime = _timestamp()


class ImageTag(SQLModel, table=True):
    __tablename__ = "image_tag"
    __table_args__ = (Index("ix_image_tag_tag", "tag", "image_id"),)

    image_id: uuid.UUID = Field(sa_column=Column(ForeignKey("generated_image.id", ondelete="CASCADE",
                                                            name="fk_image_tag_image_id"), primary_key=True))
    tag: str = Field(primary_key=True, max_length=64)


class ImageFavorite(SQLModel, table=True):
    __tablename__ = "image_favorite"
    __table_args__ = (Index("ix_image_favorite_owner_created", "owner_id", "created_at"),)

    owner_id: uuid.UUID = Field(primary_key=True)
    image_id: uuid.UUID = Field(sa_column=Column(ForeignKey("generated_image.id", ondelete="CASCADE",
                                                            name="fk_image_favorite_image_id"), primary_key=True))
    created_at: datetime = _timestamp()


# -- restorations (S2) -----------------------------------------------------------------------

class Restoration(SQLModel, table=True):
    """A restoration is a job of kind `restoration`; it shares the job's id."""

    __tablename__ = "restoration"
    __table_args__ = (Index("ix_restoration_owner_expires", "owner_id", "expires_at"),
                      # The expiry sweep's range: the index above leads with the owner.
                      Index("ix_restoration_expires_at", "expires_at"))

    id: uuid.UUID = Field(sa_column=Column(ForeignKey("generation_job.id", ondelete="CASCADE",
                                                      name="fk_restoration_job_id"), primary_key=True))
    owner_id: uuid.UUID
    original_key: str = Field(max_length=300)
    original_format: str = Field(max_length=10)
    width: int
    height: int
    size_bytes: int
    preview_key: str | None = Field(default=None, max_length=300)
    full_key: str | None = Field(default=None, max_length=300)
    unlock_method: str | None = Field(default=None, max_length=20)
    unlocked_at: datetime | None = _timestamp(nullable=True)
    expires_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    storefront: str = _storefront()
    created_at: datetime = _timestamp()


class ShareUnlock(SQLModel, table=True):
    """A user's one social-share unlock: started, its redirect opened, then used (once)."""

    __tablename__ = "share_unlock"

    user_id: uuid.UUID = Field(primary_key=True)
    restoration_id: uuid.UUID
    initiated_at: datetime = _timestamp()
    redirected_at: datetime | None = _timestamp(nullable=True)
    platform: str | None = Field(default=None, max_length=20)
    used_at: datetime | None = _timestamp(nullable=True)


# -- storybooks (S0) -------------------------------------------------------------------------

class Book(SQLModel, table=True):
    __tablename__ = "book"
    __table_args__ = (Index("ix_book_owner_created", "owner_id", "created_at"),
                      Index("ix_book_anonymous_updated_at", "anonymous", "updated_at"),
                      Index("ix_book_anon_reader_id", "anon_reader_id"),
                      Index("ix_book_claimed_at", "claimed_at"))

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # The user, or the anonymous id until `identity.anonymous_claimed` moves the book.
    owner_id: uuid.UUID
    # Made by an anonymous visitor and not (yet) claimed: housekeeping deletes it once untouched
    # for `anonymous_retention_days`, unless money was spent on it.
    anonymous: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    # An anonymous owner's client (S0 binds anonymous ownership to the token and the client's
    # address and User-Agent): a keyed hash of the two, never the values (`UrlSigner.client_hash`).
    client_hash: str | None = Field(default=None, max_length=64)
    # Once the visitor's identity is claimed: the anonymous id, which may still read the book (the
    # guest's browser keeps seeing what it bought), and when. Housekeeping clears both (and the
    # client hash) once that anonymous token must have expired.
    anon_reader_id: uuid.UUID | None = None
    claimed_at: datetime | None = _timestamp(nullable=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    age_range: str = Field(default="", max_length=20)
    style: str = Field(default="", max_length=100)
    language: str = Field(default="en", max_length=10)
    status: str = Field(default="draft", max_length=20)
    # What the customer chose for the print (S0): free text, shown back as given.
    style_version: str | None = Field(default=None, max_length=50)
    print_size: str | None = Field(default=None, max_length=50)
    paper_type: str | None = Field(default=None, max_length=50)
    binding_type: str | None = Field(default=None, max_length=50)
    # From the latest paid print order of the book: its tier and `max_retries_per_unit`, the base
    # of every item's retry allowance (None before any: the free base of the settings applies).
    print_tier: str | None = Field(default=None, max_length=100)
    print_retries: int | None = None
    print_order_id: uuid.UUID | None = None
    print_paid_at: datetime | None = _timestamp(nullable=True)
    # The storefront of the request that made it.
    storefront: str = _storefront()
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class BookItem(SQLModel, table=True):
    """A character, the cover or a page of a book: what is illustrated, version by version."""

    __tablename__ = "book_item"
    __table_args__ = (
        # Characters and pages are numbered within their book; the cover is number 0, once.
        UniqueConstraint("book_id", "content_type", "number", name="uq_book_item_book_type_number"),
        CheckConstraint("content_type IN ('CHARACTER', 'COVER', 'PAGE')", name="ck_book_item_content_type"),
        # The last line of defence behind the guarded UPDATE that spends a retry.
        CheckConstraint("retries_used >= 0", name="ck_book_item_retries_used_non_negative"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    book_id: uuid.UUID = Field(sa_column=Column(ForeignKey("book.id", ondelete="CASCADE", name="fk_book_item_book_id"),
                                                nullable=False))
    content_type: str = Field(max_length=20)
    number: int
    name: str = Field(default="", max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    traits: list[str] = Field(default_factory=list, sa_column=Column(JSON().with_variant(JSONB(), "postgresql"),
                                                                     nullable=False))
    text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    illustration_prompt: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # A character's reference photo (S0), as uploaded.
    reference_key: str | None = Field(default=None, max_length=300)
    selected_version_id: uuid.UUID | None = None
    # The last version number handed out: the next version takes this + 1, in the same UPDATE.
    versions_made: int = 0
    retries_used: int = 0
    # Retries added by retry packs applied to this item.
    retries_extra: int = 0
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class BookItemVersion(SQLModel, table=True):
    """One illustration of an item; it is a job of kind `storybook` and shares the job's id."""

    __tablename__ = "book_item_version"
    __table_args__ = (UniqueConstraint("item_id", "version_number", name="uq_book_item_version_number"),)

    id: uuid.UUID = Field(sa_column=Column(ForeignKey("generation_job.id", ondelete="CASCADE",
                                                      name="fk_book_item_version_job_id"), primary_key=True))
    item_id: uuid.UUID = Field(sa_column=Column(ForeignKey("book_item.id", ondelete="CASCADE",
                                                           name="fk_book_item_version_item_id"), nullable=False))
    version_number: int
    # Whether making it spent one of the item's retries (given back if the job fails).
    spent_retry: bool = False
    # The cover's lettering asked for this version (S0), and the client's own record of what it asked.
    title_text: str | None = Field(default=None, max_length=255)
    subtitle_text: str | None = Field(default=None, max_length=255)
    author_name: str | None = Field(default=None, max_length=255)
    prompt_snapshot: Any = Field(default=None, sa_column=Column(JSON().with_variant(JSONB(), "postgresql"),
                                                                nullable=True))
    image_key: str | None = Field(default=None, max_length=300)
    thumbnail_key: str | None = Field(default=None, max_length=300)
    width: int | None = None
    height: int | None = None
    created_at: datetime = _timestamp()
    # Deleted by its owner but kept: a paid print used it (`BookService.delete_version`). Hidden
    # from the item and its lists; other deleted versions are gone with their job and files.
    deleted_at: datetime | None = _timestamp(nullable=True)


class RetryPack(SQLModel, table=True):
    """A paid retry-pack line (from `order.paid`, or read from orders when applied first)."""

    __tablename__ = "retry_pack"
    __table_args__ = (Index("ix_retry_pack_owner", "owner_id"),)

    order_id: uuid.UUID = Field(primary_key=True)
    product_id: uuid.UUID = Field(primary_key=True)
    owner_id: uuid.UUID
    retries: int
    # The item the buyer named on the order line (applied when paid), if any.
    target_type: str | None = Field(default=None, max_length=20)
    target_id: uuid.UUID | None = None
    applied_item_id: uuid.UUID | None = None
    applied_at: datetime | None = _timestamp(nullable=True)
    # The storefront of the order that paid for it.
    storefront: str = _storefront()
    created_at: datetime = _timestamp()


class GenerationOwner(OwnerRow, table=True):
    """An owner (anonymous id or user) the saga events spoke of: who claimed an anonymous id, and
    whether the user was erased. `order.paid`, `identity.anonymous_claimed` and
    `identity.user_deleted` of one owner may arrive in any order or at once: each upserts the rows
    it concerns (an anonymous id before its user) and holds their locks to the end of its inbox
    transaction, so a purchase heard after the claim goes to the user, and nothing heard after
    the erasure is kept (`CreditService.grant_order`, `AccountService`)."""

    __tablename__ = "generation_owner"
    __table_args__ = owner_indexes("generation_owner")


class GenerationImportRef(ImportRefRow, table=True):
    """Which row a source's primary key became (`atelier import`): a second run finds it and skips."""

    __tablename__ = "generation_import_ref"
