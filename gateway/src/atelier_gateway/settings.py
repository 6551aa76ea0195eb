"""Gateway settings: `ATELIER_GATEWAY_<FIELD>`, falling back to `ATELIER_<FIELD>`."""

from typing import ClassVar, Literal

from pydantic import Field, IPvAnyNetwork, model_validator
from pydantic_settings import SettingsConfigDict

from atelier_common.settings import AtelierSettings

# The platform's services: every other list of them (processes, ports, consumers) derives from these two.
SERVICES = ("identity", "catalog", "cart", "orders", "payments", "generation")
# Services whose long-running work gets a process (and a consumer group, `<service>-worker`) of its
# own: generation's jobs, identity's outbound webhook deliveries (a slow receiver never holds an
# API or a consumer).
WORKER_SERVICES = ("generation", "identity")


class GatewaySettings(AtelierSettings):
    model_config = SettingsConfigDict(env_prefix="ATELIER_GATEWAY_")
    service_name: ClassVar[str] = "gateway"

    # Where `atelier gateway` listens (`atelier dev` and `atelier up` take --host and --port).
    host: str = "127.0.0.1"
    port: int = 8000
    # The key that signs anonymous tokens; generated under data_dir/keys when not given.
    anon_signing_key_pem: str | None = None
    # An anonymous token's lifetime from the request that minted it.
    anon_token_days: int = 28
    # How often a kept API-key exchange rereads its key's revocation mark in Redis (identity writes it
    # at the revocation's commit): a revoked key stops within this, the broker down too. 0: before
    # every request (one Redis GET each); the default costs a busy key one GET a second per process.
    api_key_revocation_check_seconds: float = Field(default=1.0, ge=0, le=30)
    # The `anon_token` cookie with SameSite=None (and Secure): a frontend on another site than the
    # API (a product's own domain in front of a shared API) keeps its guest identity. Lax otherwise.
    cross_site_cookies: bool = False
    # Origins CORS allows (credentials included) besides the storefronts' own `origins`.
    cors_origins: list[str] = ["http://localhost:3000", "http://localhost:5173"]
    # Rate limits ("N/period", docs/limits.md). A signed-in caller's, per user:
    rate_limit_default: str = "1000/hour"
    # A staff token's own limit instead: the console works through many records an hour.
    rate_limit_staff: str = "20000/hour"
    # Every request without an access token (anonymous or none), per client address: the ceiling
    # of everyone behind one address (an office, a school, a carrier's NAT), so it is set where a
    # script stops and a crowd does not. Free allowances are guarded where they are given.
    rate_limit_per_ip: str = "3000/minute"
    # Credential attempts (sign-in, registration, reset, magic link, an API key's exchange) per
    # client address; identity throttles failed sign-ins per account on top (docs/limits.md).
    rate_limit_credentials_per_ip: str = "100/minute"
    # Each storefront's own budgets (`policies.anonymous_requests_per_minute`, `…customer…`) are
    # multiplied by this; 0: not counted (the limits above still are). The e2e suite scales them up.
    storefront_budget_scale: float = Field(default=1.0, ge=0)
    # false: the gateway counts no rate limit at all.
    rate_limits_enabled: bool = True
    # With Redis, `rate_limit_default` is counted in each gateway process and added to Redis's
    # count this often (`ratelimit.py`): no round trip per request; a caller may pass the limit by
    # what the other processes counted since their last sync. 0: Redis on every request.
    rate_limit_sync_seconds: float = Field(default=1.0, ge=0)
    # The proxies in front of the gateway (CIDRs, e.g. ["10.0.0.0/8"]): only from them are
    # `forwarded_header` and X-Forwarded-Proto/-Host believed, read from the right up to the first
    # untrusted hop (`forwarded.py`). Empty: the socket's peer is the client.
    trusted_proxies: list[IPvAnyNetwork] = []
    # Which header those proxies maintain: "x-forwarded-for" or RFC 7239 "forwarded".
    forwarded_header: Literal["x-forwarded-for", "forwarded"] = "x-forwarded-for"
    # A service's answer must arrive within this (504 otherwise); connections kept to the services.
    proxy_timeout_seconds: float = 30.0
    proxy_connections: int = 200
    # How long a client's idle connection stays open. Longer than the idle timeout of a load
    # balancer in front (60 s at AWS and Google) and than clients' own pools (httpx: 5 s): a server
    # that closes an idle connection first races the next request sent on it, which then fails
    # unanswered (uvicorn's default of 5 s did so under load).
    keep_alive_seconds: int = Field(default=75, ge=1)
    # The merged OpenAPI document (`/api/schema`) is rebuilt from the services' at most this often.
    openapi_cache_seconds: float = 60.0
    # Request bodies (413 beyond, before they are read): JSON and everything else, then uploads
    # (multipart, raw files): 10 MiB of file plus room for the multipart envelope.
    max_json_body_bytes: int = Field(default=1 << 20, ge=1)
    max_upload_body_bytes: int = Field(default=(10 << 20) + (64 << 10), ge=1)
    # The whole body must have arrived within this time (408 otherwise).
    body_read_timeout_seconds: float = Field(default=30.0, gt=0)
    # Compatibility profiles of the seed APIs served under /compat/<name>/ (`["all"]`: every one; the
    # platform serves all unless this is set: `atelier_platform.gateway`), and the one also served at
    # the root (for a one-product deployment).
    compat_profiles: list[str] = []
    compat_root_profile: str | None = None
    # Per-profile options, e.g. {"storybook": {"webhook_provider": "bog"}} (each profile's README lists its own).
    compat_options: dict[str, dict[str, str]] = {}

    @model_validator(mode="after")
    def _check_gateway_settings(self) -> "GatewaySettings":
        if self.environment == "production" and not self.anon_signing_key_pem:
            # A key generated per process would give each replica its own: a token minted by one
            # would be refused by the others and by the services (one JWKS).
            raise ValueError("anon_signing_key_pem must be set in production")
        return self

    @property
    def cookie_secure(self) -> bool:
        # A SameSite=None cookie without Secure is refused by browsers.
        return self.environment == "production" or self.cross_site_cookies
