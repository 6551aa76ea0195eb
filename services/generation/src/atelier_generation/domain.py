"""Pure rules of generation: the model registry, costs, tags, job states, quotas. No I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from atelier_common.contracts.catalog import ProductChanged, ProductKind
from atelier_common.contracts.payments import OrderPaid


class JobKind(StrEnum):
    IMAGE = "image"
    RESTORATION = "restoration"
    # One illustration of a storybook item (S0): a character, a cover or a page.
    STORYBOOK = "storybook"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    # Refused by the provider's safety system: nothing made, the credits refunded, the reason shown.
    BLOCKED = "blocked"


ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)
TERMINAL_JOB_STATUSES = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.BLOCKED)
# Finished without a result: the job's charge was given back.
UNSUCCESSFUL_JOB_STATUSES = (JobStatus.FAILED, JobStatus.BLOCKED)

# S2 names a restoration's states differently; the job underneath is the same.
RESTORATION_STATUS = {JobStatus.QUEUED: "pending", JobStatus.RUNNING: "processing",
                      JobStatus.COMPLETED: "completed", JobStatus.FAILED: "failed", JobStatus.BLOCKED: "failed"}


class TransactionKind(StrEnum):
    PURCHASE = "purchase"
    GRANT = "grant"
    CONSUME = "consume"
    REFUND = "refund"
    UNLOCK = "unlock"
    # Staff gave or took credits by hand, with a reason the customer reads in the ledger.
    ADJUSTMENT = "adjustment"
    # The balance an account held in the product it moved in from (`atelier import`), once.
    OPENING = "opening"


class UnlockMethod(StrEnum):
    CREDITS = "credits"
    SOCIAL_SHARE = "social_share"


@dataclass(frozen=True)
class GenerationModel:
    id: str
    name: str
    credits: int
    kind: JobKind
    # Images made with a premium model are shown in the public gallery to subscribers only.
    premium: bool = False
    # The hosted provider that runs it (`providers/`), or None: the built-in generators
    # (`local`, or `http` by `model_backends`).
    provider: str | None = None
    # The provider's own model id (`fal-ai/flux-pro/v1.1`) and the parameters sent with it.
    provider_model: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    # Another model of the catalogue tried when the provider refuses the submit for a passing
    # reason (429, 5xx, unreachable); used only if it costs the customer the same or less.
    fallback: str | None = None
    # The storefronts that offer it; empty: every one.
    storefronts: tuple[str, ...] = ()


# S4 names flux-pro at 2 credits; the others round out a cheap/standard/premium range.
MODELS: tuple[GenerationModel, ...] = (
    GenerationModel("flux-schnell", "FLUX Schnell", 1, JobKind.IMAGE),
    GenerationModel("flux-pro", "FLUX Pro", 2, JobKind.IMAGE),
    GenerationModel("flux-ultra", "FLUX Ultra", 4, JobKind.IMAGE, premium=True),
    # Restoration itself is free; unlocking the full image costs this much (S2: 1 credit).
    GenerationModel("restore-v1", "Photo restoration", 1, JobKind.RESTORATION),
    # Storybook illustrations cost no credits: a regeneration spends the item's retry allowance.
    GenerationModel("storybook-v1", "Storybook illustration", 0, JobKind.STORYBOOK),
)
MODELS_BY_ID = {model.id: model for model in MODELS}
RESTORATION_MODEL = MODELS_BY_ID["restore-v1"]
STORYBOOK_MODEL = MODELS_BY_ID["storybook-v1"]
FILTER_KEYS = ("body_type", "pose", "lighting", "clothing", "background")


def image_model(model_id: str) -> GenerationModel | None:
    model = MODELS_BY_ID.get(model_id)
    return model if model is not None and model.kind is JobKind.IMAGE else None


class Catalogue:
    """The models this install sells: the built-in ones, added to or replaced by id from the
    settings, less those whose provider is not configured."""

    def __init__(self, models: Iterable[GenerationModel]) -> None:
        self.by_id = {model.id: model for model in models}

    @classmethod
    def build(cls, overrides: Iterable[GenerationModel], configured: Iterable[str]) -> Catalogue:
        merged = {model.id: model for model in MODELS}
        for model in overrides:
            previous = merged.get(model.id)
            # An override keeps what the settings cannot say (a built-in's premium flag).
            merged[model.id] = replace(model, premium=model.premium or bool(previous and previous.premium))
        available = set(configured)
        return cls(m for m in merged.values() if m.provider is None or m.provider in available)

    def __iter__(self) -> Any:
        return iter(self.by_id.values())

    def get(self, model_id: str) -> GenerationModel | None:
        return self.by_id.get(model_id)

    def image_model(self, model_id: str, storefront: str | None = None) -> GenerationModel | None:
        model = self.by_id.get(model_id)
        if model is None or model.kind is not JobKind.IMAGE:
            return None
        return model if storefront is None or offered_on(model, storefront) else None

    def listed(self, storefront: str) -> list[GenerationModel]:
        return [model for model in self.by_id.values() if offered_on(model, storefront)]

    def fallback_for(self, model: GenerationModel) -> GenerationModel | None:
        """`model`'s fallback, if it is sold here, does the same kind of work and costs no more."""
        fallback = self.by_id.get(model.fallback) if model.fallback else None
        if fallback is None or fallback.id == model.id or fallback.kind is not model.kind:
            return None
        return fallback if fallback.credits <= model.credits else None

    def cheapest_image_cost(self) -> int:
        return min((m.credits for m in self.by_id.values() if m.kind is JobKind.IMAGE), default=1) or 1


def offered_on(model: GenerationModel, storefront: str) -> bool:
    return not model.storefronts or storefront in model.storefronts


def provider_prompt(prompt: str, filters: dict[str, Any]) -> str:
    """A hosted model reads words: the filters join the prompt (`…; pose: standing, lighting: soft`)."""
    words = ", ".join(f"{key.replace('_', ' ')}: {filters[key]}" for key in FILTER_KEYS
                      if isinstance(filters.get(key), str) and filters[key].strip())
    return f"{prompt.strip()}; {words}" if words else prompt.strip()


def job_cost(model: GenerationModel, batch_size: int) -> int:
    return model.credits * batch_size


def cheapest_image_cost() -> int:
    return min(model.credits for model in MODELS if model.kind is JobKind.IMAGE)


# -- tags ------------------------------------------------------------------------------------

TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_\-]*(:[a-z0-9][a-z0-9_\- ]*)?$")
MAX_TAG_LENGTH = 64


def normalise_tag(tag: str) -> str:
    """Lower case, single spaces, none around the colon: `" Pose : Standing "` → `"pose:standing"`."""
    return ":".join(" ".join(part.lower().split()) for part in tag.split(":", 1))


def tags_from_filters(filters: dict[str, Any]) -> list[str]:
    """`{"pose": "Standing"}` → `["pose:standing"]`, in the registry's filter order."""
    tags = []
    for key in FILTER_KEYS:
        value = filters.get(key)
        if isinstance(value, str) and value.strip():
            tags.append(normalise_tag(f"{key}:{value}"))
    return tags


def parse_tag_list(raw: str | None) -> list[str]:
    """`"a:b, c:d"` → `["a:b", "c:d"]` (gallery filter), duplicates dropped."""
    if not raw:
        return []
    return list(dict.fromkeys(normalise_tag(t) for t in raw.split(",") if t.strip()))


# -- subscriptions and quotas ----------------------------------------------------------------

FREE_TIER = "free"
# Past due keeps the tier while the provider retries the renewal, as payments' `/subscriptions/current` says.
ACTIVE_SUBSCRIPTION_STATUSES = ("active", "trialing", "past_due")


def subscription_is_active(status: str | None, period_end: datetime | None, now: datetime) -> bool:
    return status in ACTIVE_SUBSCRIPTION_STATUSES and (period_end is None or period_end > now)


def effective_tier(tier: str | None, status: str | None, period_end: datetime | None, now: datetime) -> str:
    if tier and subscription_is_active(status, period_end, now):
        return tier
    return FREE_TIER


def quota_remaining(monthly_quota: int, used: int) -> int:
    return max(monthly_quota - used, 0)


def images_remaining(quota_left: int, balance: int) -> int:
    """What the caller can still make at least: the quota, then credits at the cheapest model."""
    return quota_left + balance // cheapest_image_cost()


def rate_limit_for(tier: str, limits: dict[str, str]) -> str:
    return limits.get(tier) or limits[FREE_TIER]


# -- social share unlock (S2) ----------------------------------------------------------------

SHARE_PLATFORMS = ("facebook", "twitter", "linkedin", "pinterest")
SHARE_CAPTION = "I just restored an old photo with reviv.pics"


def platform_share_url(platform: str, target_url: str, caption: str = SHARE_CAPTION) -> str:
    """Where each network's own share dialog lives."""
    url, text = quote(target_url, safe=""), quote(caption, safe="")
    return {
        "facebook": f"https://www.facebook.com/sharer/sharer.php?u={url}",
        "twitter": f"https://twitter.com/intent/tweet?url={url}&text={text}",
        "linkedin": f"https://www.linkedin.com/sharing/share-offsite/?url={url}",
        "pinterest": f"https://pinterest.com/pin/create/button/?url={url}&description={text}",
    }[platform]


# -- storybooks (S0) -------------------------------------------------------------------------

class ContentType(StrEnum):
    """What of a book is illustrated, each item with its own versions and retry allowance."""

    CHARACTER = "CHARACTER"
    COVER = "COVER"
    PAGE = "PAGE"


# The cover is the book's one item of its kind: it always has number 0.
COVER_NUMBER = 0


def retries_max(base: int, extra: int) -> int:
    """An item's allowance: the book's base (its print tier's `max_retries_per_unit`, or the free
    base before any paid print order) plus the retry packs applied to that item."""
    return base + extra


def retries_remaining(base: int, extra: int, used: int) -> int:
    return max(retries_max(base, extra) - used, 0)


def print_retries(attributes: dict[str, Any]) -> int | None:
    """`max_retries_per_unit` of a print tier line; None when missing or not a whole number >= 0."""
    value = attributes.get("max_retries_per_unit")
    if isinstance(value, bool):
        return None
    try:
        number = int(value) if isinstance(value, int | str) else None
    except ValueError:
        return None
    return number if number is not None and number >= 0 else None


def illustration_prompt(book_title: str, style: str, kind: ContentType, subject: str, extra: str | None,
                        *, lettering: tuple[str | None, str | None, str | None] = (None, None, None)) -> str:
    """What the generator is asked for one version of an item: the book's style and the item's
    own words, the cover's lettering (title, subtitle, author), then the client's instruction for
    this version (a regeneration's "make it brighter")."""
    what = {ContentType.CHARACTER: "Character portrait", ContentType.COVER: "Book cover",
            ContentType.PAGE: "Story page illustration"}[kind]
    title, subtitle, author = lettering
    letters = ", ".join(f"{label} \"{text}\"" for label, text in
                        (("title", title), ("subtitle", subtitle), ("author", author)) if text)
    parts = [f"{what} for the children's book \"{book_title}\"", f"style: {style}" if style else "", subject,
             f"lettering: {letters}" if letters else "", extra or ""]
    return ". ".join(part.strip() for part in parts if part and part.strip())[:1000]


# A provider is given at most this many reference pictures (a storybook's characters).
MAX_REFERENCE_IMAGES = 4

# What generation sells through an order: credits, retry packs and a book's print tier.
PAID_LINE_KINDS = frozenset({ProductKind.CREDIT_PACK, ProductKind.RETRY_PACK, ProductKind.PRINT_TIER})


def concerns_generation(event: OrderPaid) -> bool:
    """Whether a paid order has a line generation acts on; an order of slabs alone has none."""
    return any(line.kind in PAID_LINE_KINDS for line in event.lines)


def concerns_pack_list(event: ProductChanged) -> bool:
    """Whether a product change may touch the credit-pack list: a pack's, or any change of a
    product beyond its stock (a pack that became something else leaves the list). A variant's never
    does (packs are sold as products), nor does the stock of anything else: a sale of a slab."""
    return event.variant_id is None and (event.kind == ProductKind.CREDIT_PACK or not event.stock_only)
