"""Settings of the payments service: `ATELIER_PAYMENTS_<FIELD>`, falling back to `ATELIER_<FIELD>`."""

from typing import ClassVar, Literal

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from atelier_common.settings import DEV_SECRET, ServiceSettings


class PaymentsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ATELIER_PAYMENTS_")
    service_name: ClassVar[str] = "payments"
    generated_secrets: ClassVar[tuple[str, ...]] = (*ServiceSettings.generated_secrets, "webhook_secrets.local")

    # Who takes the money for new intents and checkout sessions: the embedded mode's built-in
    # `local` checkout page, or Stripe.
    provider: Literal["local", "stripe"] = "local"
    # The platform's public address (the gateway): local checkout pages are served under it.

    # With `provider=stripe` (both required then): the secret API key and the webhook signing secret.
    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None
    # Tests point the SDK at a local fake Stripe server.
    stripe_api_base: str = "https://api.stripe.com"
    # The Stripe SDK's own retries of a call that failed on the network.
    stripe_max_network_retries: int = 2
    # Stripe's own default: a signed event older than this is refused (replay protection).
    stripe_webhook_tolerance_seconds: int = 300

    # HMAC secrets of the simple providers (S0's payment webhook), by provider name. `local`
    # unset: this install's own (generated_secrets); production requires it.
    webhook_secrets: dict[str, str] = {}

    # Where `/credits/purchase` sends the buyer after Stripe Checkout (S2). Stripe replaces
    # {CHECKOUT_SESSION_ID}; the local provider does the same.
    credits_success_url: str = "http://localhost:3000/payment/success?session_id={CHECKOUT_SESSION_ID}"
    credits_cancel_url: str = "http://localhost:3000/payment/cancelled"
    # How long a local checkout page can be paid (Stripe's sessions last 24 hours).
    local_checkout_ttl_minutes: int = 24 * 60
    # The catalog products (kind subscription_plan) offered as plans, by SKU (S4).
    subscription_plan_skus: list[str] = ["pro_monthly", "studio_monthly"]
    # The local provider's billing period.
    local_subscription_period_days: int = 30
    # Where Stripe's billing portal (POST /subscriptions/portal) sends the user back.
    subscription_portal_return_url: str = "http://localhost:3000/account/subscription"
    # Finance's ledger counts entries exactly up to this many; past it (PostgreSQL) the count is
    # the planner's estimate and the response carries `X-Count-Estimated: true`.
    exact_count_limit: int = Field(default=1_000, ge=1)
    # An estimated count is reused this long for the same filters (0: estimate on every page).
    count_estimate_seconds: float = Field(default=60.0, ge=0)

    # Gift cards: how long a card issued without an expiry date stays usable (None: forever), and
    # the wrong codes a caller (or a client address) may type before waiting (`atelier_common.guesses`).
    gift_card_validity_days: int | None = Field(default=365, ge=1)
    gift_card_failures_per_caller: str = "10/15 minutes"
    gift_card_failures_per_ip: str = "50/15 minutes"

    @model_validator(mode="after")
    def _check_payment_settings(self) -> "PaymentsSettings":
        if self.provider == "stripe" and not (self.stripe_api_key and self.stripe_webhook_secret):
            raise ValueError("the stripe provider needs stripe_api_key and stripe_webhook_secret")
        if self.provider == "local" and not self.local_webhook_secret and self.environment == "production":
            raise ValueError("the local provider needs webhook_secrets['local']")
        if self.environment == "production":
            weak = sorted(name for name, secret in self.webhook_secrets.items() if secret in ("", DEV_SECRET))
            if weak:
                raise ValueError(f"webhook_secrets[{', '.join(weak)}] must be set to a real secret in production")
        return self

    def secret_fields(self) -> tuple[str, ...]:
        return (*super().secret_fields(), "stripe_api_key", "stripe_webhook_secret", "local_webhook_secret")

    @property
    def local_webhook_secret(self) -> str | None:
        return self.webhook_secrets.get("local")
