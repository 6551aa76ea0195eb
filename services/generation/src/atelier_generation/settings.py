"""Settings of the generation service: `ATELIER_GENERATION_<FIELD>`, falling back to `ATELIER_<FIELD>`."""

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from atelier_common.settings import ServiceSettings
from atelier_common.storage import StorageSettings

GeneratorBackend = Literal["local", "http"]
ProviderName = Literal["fal", "openai", "replicate", "gemini", "kie"]


class ProviderSettings(BaseModel):
    """One hosted model provider, an entry of `ATELIER_GENERATION_PROVIDERS` (docs/providers.md)."""

    model_config = ConfigDict(extra="forbid")
    # Secrets: never shown in a repr or a log line.
    api_key: SecretStr
    # The provider's documented address by default; tests point it at a loopback fake.
    base_url: str | None = None
    # One HTTP call (a submit, a poll, a download); a synchronous provider's submit is the whole generation.
    timeout_seconds: float = 120.0
    # Replicate: the `whsec_…` secret its Standard Webhooks deliveries are signed with.
    webhook_secret: SecretStr | None = None
    # fal: where its webhook signing keys are published (a JWKS).
    jwks_url: str | None = None


class ModelSettings(BaseModel):
    """One model of `ATELIER_GENERATION_MODELS`: added to the built-in catalogue, or replacing its entry by id."""

    model_config = ConfigDict(extra="forbid")
    # The model's id in the API (a built-in model with the same id is replaced), and its name.
    id: str = Field(min_length=1, max_length=50)
    name: str
    # What the customer pays per image.
    credits: int = Field(ge=0)
    kind: Literal["image", "storybook"] = "image"
    # The provider that runs it (an entry of `providers`) and the provider's own id of the model.
    provider: ProviderName
    provider_model: str = Field(min_length=1)
    # Sent to the provider as model input, except `usd_per_million_tokens`, which prices reported tokens.
    params: dict[str, Any] = {}
    # Another model's id, tried when the provider keeps refusing this one.
    fallback: str | None = None
    # The storefronts that offer it (empty: every storefront).
    storefronts: list[str] = []
    # Its images appear in the public gallery to subscribers only.
    premium: bool = False


class GenerationSettings(ServiceSettings, StorageSettings):
    model_config = SettingsConfigDict(env_prefix="ATELIER_GENERATION_")
    service_name: ClassVar[str] = "generation"
    generated_secrets: ClassVar[tuple[str, ...]] = (*ServiceSettings.generated_secrets, "url_signing_secret")

    # -- generators --------------------------------------------------------------------------
    # Which generator renders every model; `model_backends` overrides it per model id.
    generator_backend: GeneratorBackend = "local"
    model_backends: dict[str, GeneratorBackend] = {}
    # The hosted model API the `http` backend calls (POST {base}/v1/images, /v1/restorations).
    http_generator_base_url: str = "http://models.internal"
    http_generator_api_key: str | None = None
    http_generator_timeout_seconds: float = 120.0
    # Pixels: the side of a generated image (what a provider is asked for) and of its thumbnail.
    image_size: int = 512
    thumbnail_size: int = 192

    # -- hosted model providers (docs/providers.md) ------------------------------------------
    # `{"fal": {"api_key": "...", "base_url": "..."}, ...}`: a provider not named here is off, and
    # the models that use it are not listed.
    providers: dict[ProviderName, ProviderSettings] = {}
    # `[{id, name, credits, kind, provider, provider_model, params?, fallback?, storefronts?}, ...]`
    models: list[ModelSettings] = []
    # Where providers deliver webhooks (the gateway's public address); unset: jobs are only polled.
    provider_webhook_base_url: str | None = None
    # A provider job is polled every `provider_poll_seconds`, growing to `provider_poll_max_seconds`,
    # and given up (cancelled, failed, refunded) after `provider_job_timeout_seconds`.
    provider_poll_seconds: float = 1.0
    provider_poll_max_seconds: float = 10.0
    provider_job_timeout_seconds: float = 900.0
    # A refused submit (429, 5xx, no connection) is tried again at most this many times within
    # this budget, honouring Retry-After; then the fallback model, if any, or failed + refunded.
    provider_submit_retries: int = 3
    provider_retry_budget_seconds: float = 120.0
    provider_backoff_seconds: float = 1.0

    # -- jobs --------------------------------------------------------------------------------
    # A job is tried at most this many times (crashes included); then it fails and is refunded.
    job_max_attempts: int = 3
    # A queued or running job untouched for this long is handed to the worker again.
    job_stale_seconds: int = 600
    # How often the worker looks for such jobs (0: only at start).
    job_sweep_seconds: float = 60.0
    # Per subscription tier ("free" when there is none); unknown tiers use "free".
    generation_rate_limits: dict[str, str] = {"free": "10/minute", "pro": "30/minute", "studio": "60/minute"}
    # The public gallery, per client address.
    gallery_rate_limit_anonymous: str = "100/minute"
    # A job's progress stream (`/generation/jobs/{id}/events`): checked this often, closed after
    # `sse_max_seconds`, a heartbeat after `sse_heartbeat_seconds` without news (idle proxies close it).
    sse_poll_seconds: float = 0.5
    sse_max_seconds: float = 600.0
    sse_heartbeat_seconds: float = 15.0

    # -- storage and URLs --------------------------------------------------------------------
    # Files: `storage_backend` local (under `storage_dir`, by default `<data_dir>/assets`) or s3
    # (`s3_bucket`, `s3_endpoint_url`, …: every replica and the worker see the same files).

    # Signs asset URLs and share tokens (HMAC-SHA256); unset: this install's own (generated_secrets).
    url_signing_secret: str = ""
    signed_url_ttl_seconds: int = 3600
    # The page a social share points at.
    share_target_url: str = "https://reviv.pics"

    # -- restorations (S2) -------------------------------------------------------------------
    # A restoration's upload: at most this size, its shortest side at least this many pixels.
    max_upload_bytes: int = 10 * 1024 * 1024
    min_image_side: int = 500
    # Pillow's decompression-bomb guard is set to this, and uploads above it are refused.
    max_image_pixels: int = 40_000_000
    # The longest side of a restored image and of its watermarked preview.
    restoration_max_side: int = 4096
    preview_max_side: int = 640
    # Restorations a user keeps at once (not expired), and how long each is kept.
    restoration_history_limit: int = 6
    restoration_expiry_days: int = 60
    # What unlocking a restoration's full image costs.
    unlock_credits: int = 1
    # A share-unlock link's lifetime.
    share_token_ttl_seconds: int = 900
    # confirm-share must follow the recorded redirect within this time.
    share_redirect_ttl_seconds: int = 3600

    # -- storybooks (S0) ---------------------------------------------------------------------
    # Each item's retries before any paid print order (then the tier's `max_retries_per_unit`).
    free_retries_per_item: int = 0
    # The free illustrations anonymous visitors start (a character's first, the cover's first),
    # per client address: a fresh anonymous token is one request away, so the address is what
    # bounds a script, and a window is what lets the next visitor behind it in (docs/limits.md).
    anonymous_free_jobs_per_ip: str = "30/hour"
    # The most characters and pages one book may have.
    book_max_characters: int = 20
    book_max_pages: int = 100

    # -- credits -----------------------------------------------------------------------------
    # `GET /credits/transactions` answers the newest this many.
    transactions_limit: int = 50

    def secret_fields(self) -> tuple[str, ...]:
        return (*super().secret_fields(), "url_signing_secret", "s3_secret_access_key")

    @property
    def resolved_storage_dir(self) -> Path:
        return self.storage_dir or self.data_dir / "assets"

    def backend_for(self, model_id: str) -> GeneratorBackend:
        return self.model_backends.get(model_id, self.generator_backend)
