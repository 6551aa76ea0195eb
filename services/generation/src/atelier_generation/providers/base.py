"""The provider port: what the worker asks of any hosted model provider (fal.ai, OpenAI Images,
Replicate, Google Gemini, kie.ai), and the typed outcomes it gets back.

A provider is either *queued* — `submit` returns the provider's request id, then `poll` follows it
and `fetch` brings the images — or *synchronous* (`synchronous = True`: OpenAI Images, Gemini) —
`submit` is the whole generation and returns the images with no request id to come back to.

Failures are three classes and nothing else leaves an adapter:
- `SafetyRefusal`: the provider's safety system refused the prompt or the picture (job `blocked`);
- `ProviderUnavailable`: a passing refusal — 429, 5xx, no connection — that may be tried again,
  after `retry_after` seconds when the provider said so; on a submit it means *not accepted*;
- `ProviderFailed`: anything else (a 4xx, garbage, not an image, a submit whose answer was lost).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Protocol


class ProviderError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SafetyRefusal(ProviderError):
    """The provider's safety system refused: the reason is shown to the customer."""


class ProviderUnavailable(ProviderError):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderFailed(ProviderError):
    pass


class InvalidWebhook(ProviderError):
    """A webhook whose signature, timestamp or body does not hold: refused, nothing changes."""


@dataclass(frozen=True)
class ProviderRequest:
    # The provider's own model id and the catalogue's parameters for it.
    model: str
    prompt: str
    params: Mapping[str, Any] = field(default_factory=dict)
    batch_size: int = 1
    seed: int | None = None
    size: int = 1024
    # PNG/JPEG bytes the picture must stay consistent with (a storybook's approved character).
    references: tuple[bytes, ...] = ()
    # Where the provider should announce the end of the job; None: it is only polled.
    webhook_url: str | None = None


@dataclass(frozen=True)
class ProviderResult:
    images: list[bytes]
    # What the provider reported it cost, in USD (or computed from the usage it reported and the
    # model's configured prices); None when it reports nothing.
    cost: Decimal | None = None
    usage: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Submission:
    """A queued provider's request id, or a synchronous provider's result."""

    request_id: str | None = None
    result: ProviderResult | None = None


@dataclass(frozen=True)
class Progress:
    done: bool
    # 0–100 as far as the provider lets us know (queued ≈ 10, running ≈ 40).
    percent: int = 0


@dataclass(frozen=True)
class WebhookEvent:
    request_id: str
    done: bool


class Provider(Protocol):
    name: ClassVar[str]
    # True: `submit` is the generation itself and there is no request id to resume by.
    synchronous: ClassVar[bool]
    # Whether `ProviderRequest.references` are sent (others ignore them).
    accepts_references: ClassVar[bool]

    async def submit(self, request: ProviderRequest) -> Submission: ...

    async def poll(self, model: str, request_id: str) -> Progress:
        """Raises `SafetyRefusal` / `ProviderFailed` once the provider says the job failed."""

    async def fetch(self, model: str, request_id: str) -> ProviderResult:
        """The finished job's images, downloaded (provider URLs expire)."""

    async def cancel(self, model: str, request_id: str) -> None:
        """Best effort: a provider that cannot cancel does nothing."""

    async def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """The delivery's request id, once its signature holds; raises `InvalidWebhook`."""


class SynchronousProvider:
    """What a synchronous provider (OpenAI Images, Gemini: the submit is the generation, there is
    no request id) answers to the calls of a queued job: nothing to poll, fetch, cancel or hear."""

    name: ClassVar[str]
    title: ClassVar[str]  # in messages: "OpenAI Images"
    synchronous: ClassVar[bool] = True

    async def poll(self, model: str, request_id: str) -> Progress:
        raise ProviderFailed(f"{self.title} has no jobs to poll")

    async def fetch(self, model: str, request_id: str) -> ProviderResult:
        raise ProviderFailed(f"{self.title} has no jobs to fetch")

    async def cancel(self, model: str, request_id: str) -> None:
        return None

    async def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        raise InvalidWebhook(f"{self.title} sends no webhooks")
