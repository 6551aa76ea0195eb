"""Settings of the identity service: `ATELIER_IDENTITY_<FIELD>`, falling back to `ATELIER_<FIELD>`."""

from typing import ClassVar
from urllib.parse import urlsplit

import argon2
from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from atelier_common.settings import PricingSettings
from atelier_identity.legacy_hashes import WorkCaps


class IdentitySettings(PricingSettings):
    # PricingSettings: the default storefront's currency and tax (`storefronts.default_storefront`).
    model_config = SettingsConfigDict(env_prefix="ATELIER_IDENTITY_")
    service_name: ClassVar[str] = "identity"

    # The Ed25519 key that signs access tokens; without it one is kept under data_dir/keys.
    signing_key_pem: str | None = None
    # Access tokens (JWT) live this long.
    access_token_ttl_minutes: int = 15
    # How often each identity process rereads the signing keys (`atelier keys rotate` reaches it then;
    # until then it signs with the previous key, still published).
    signing_key_refresh_seconds: float = Field(default=5.0, gt=0)
    # Refresh tokens (opaque, stored hashed, rotated on every use) live this long.
    refresh_token_ttl_days: int = 7

    # Login is refused until the address is verified (S1); false also returns tokens at registration.
    require_verified_email: bool = True
    # Lifetimes of the single-use links mailed for verification, password reset and email change.
    email_verification_ttl_hours: int = 24
    # Where the links in mail point (the frontend's pages, which post the token back to the API).
    frontend_url: str = "http://localhost:3000"

    # Sign-in throttling (docs/security.md): failed passwords only, at login and at every check of
    # the current password. Per (account, client address): then that pair waits for the oldest to age.
    sign_in_failures_per_account_and_ip: str = "10/15 minutes"
    # Per account from every address: past it each address with failures waits after each further
    # one (1 s, doubling, at most the cap); an address without failures on the account never does.
    sign_in_failures_per_account: str = "20/15 minutes"
    sign_in_backoff_max_seconds: int = Field(default=60, ge=1)
    # Per client address across accounts (password spraying).
    sign_in_failures_per_ip: str = "100/minute"
    # S1: "Email verification: 3/min", per (account, client address) (docs/security.md).
    resend_verification_rate_limit_per_account_and_ip: str = "3/minute"
    # The other credential routes (magic-link request, passkey begin, check-user), docs/security.md:
    # per (account, client address), so a requester elsewhere never uses up the owner's, and per address.
    credential_rate_limit_per_account_and_ip: str = "5/minute"
    credential_rate_limit_per_ip: str = "100/minute"
    # S1: "Password reset: 3/min" (stricter than the platform's 5), per (account, client address).
    password_reset_rate_limit_per_account_and_ip: str = "3/minute"
    # Sign-in mail (magic links, reset links, verification links sent again) to one account from
    # every address, against mail-bombing. Past it a request is answered alike but mails only while
    # its own address has some of its reserve left: a flood from elsewhere never keeps the owner's.
    sign_in_mail_per_account: str = "10/hour"
    sign_in_mail_reserve_per_account_and_ip: str = "3/hour"
    # Wrong magic codes per (account, client address): then that pair waits (429). Per account from
    # every address: at it, a wrong code also ends the code it was tried on (its link still works).
    magic_code_failures_per_account_and_ip: str = "10/15 minutes"
    magic_code_failures_per_account: str = "10/hour"

    # (the reset and email-change links' lifetimes, with `email_verification_ttl_hours`)
    password_reset_ttl_minutes: int = 60
    email_change_ttl_hours: int = 24
    # S1 answers a taken address silently (no enumeration); true answers 409 EMAIL_EXISTS instead.
    email_change_reveals_taken_email: bool = False
    # The "set your password" link mailed to a buyer registered from a paid order (S0).
    welcome_password_ttl_hours: int = 72

    # S4 magic links: a 6-digit code (and a link) by mail.
    magic_link_ttl_minutes: int = 15
    magic_link_max_attempts: int = 5
    # The same right code again this soon after it signed in is acknowledged (200 `{repeated}`, no
    # new session) rather than refused: S4's frontend verifies its link at every render. 0: refused.
    magic_link_retry_seconds: int = 10

    # OAuth / OpenID Connect. Google is offered when its client id is set. Providers redirect to
    # `public_base_url` (the shared setting) + /api/v1/auth/oauth/<provider>/callback.
    oauth_google_client_id: str | None = None
    oauth_google_client_secret: str | None = None
    oauth_google_discovery_url: str = "https://accounts.google.com/.well-known/openid-configuration"
    oauth_scopes: str = "openid email profile"
    oauth_state_ttl_seconds: int = 600
    # S2: the ticket handed to the frontend in the redirect lives one minute.
    oauth_ticket_ttl_seconds: int = 60
    # Calls to the OpenID provider (discovery, token exchange).
    oauth_http_timeout_seconds: float = 10.0

    # WebAuthn passkeys (S2): the relying party is the frontend's site.
    webauthn_rp_id: str = "localhost"
    webauthn_rp_name: str = "Atelier"
    # Origins the browser may report; empty means the origin of frontend_url.
    webauthn_origins: list[str] = []
    # A registration or sign-in ceremony must complete within this.
    webauthn_timeout_seconds: int = 300

    # S1: at most 10 addresses per owner.
    address_limit: int = 10

    # Customer mail on `order.status_changed` for these statuses.
    order_notification_statuses: list[str] = ["paid", "shipped", "delivered", "cancelled", "refunded"]
    # Mail on `job.completed` / `job.failed` (off by default: jobs are followed in the app).
    job_notification_mail: bool = False

    # Argon2id cost; the defaults are argon2-cffi's (tens of milliseconds per hash). Tests lower them.
    password_hash_time_cost: int = argon2.DEFAULT_TIME_COST
    password_hash_memory_cost_kib: int = argon2.DEFAULT_MEMORY_COST
    password_hash_parallelism: int = argon2.DEFAULT_PARALLELISM
    # The most work one stored hash may ask of a sign-in (`legacy_hashes.WorkCaps`, docs/moving-in.md):
    # an imported hash beyond a cap is refused at import, and never run at sign-in.
    password_hash_max_pbkdf2_iterations: int = Field(default=WorkCaps.pbkdf2_iterations, ge=1)
    password_hash_max_argon2_memory_kib: int = Field(default=WorkCaps.argon2_memory_kib, ge=8)
    password_hash_max_argon2_time_cost: int = Field(default=WorkCaps.argon2_time_cost, ge=1)
    password_hash_max_argon2_parallelism: int = Field(default=WorkCaps.argon2_parallelism, ge=1)
    password_hash_max_bcrypt_cost: int = Field(default=WorkCaps.bcrypt_cost, ge=4, le=31)

    # Create the demo storefronts (docs/storefronts.md, `demo.DEMO_STOREFRONTS`) that are missing, at start.
    seed_demo_storefronts: bool = False
    # Their products' per-address limits too (`demo.DEMO_LIMITS`: registrations an hour, sign-in
    # lock-out). The test suite's platform turns them off: all its visitors share one address.
    demo_storefront_limits: bool = True

    # Create (or keep, and promote) a verified staff account at start.
    bootstrap_staff_email: str | None = None
    bootstrap_staff_password: str | None = None

    # Mail: SMTP when smtp_host is set, else the dev mailbox (GET /api/dev/mailbox).
    mail_from: str = "Atelier <no-reply@atelier.example>"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_use_tls: bool = False
    # None: STARTTLS when the server offers it.
    smtp_start_tls: bool | None = None
    smtp_timeout_seconds: float = 30.0
    # Mail is queued in the database and sent by a loop polling this often; a message that fails
    # this many times is given up.
    mail_poll_seconds: float = 2.0
    mail_max_attempts: int = 6
    # Housekeeping: sent (or given-up) mail — the dev mailbox's included — is deleted this long after.
    mail_retention_hours: float = Field(default=24.0, gt=0)

    # Outbound webhooks (docs/webhooks.md). Also read as `ATELIER_OUTBOUND_WEBHOOKS_…` (the shared
    # prefix). Private, loopback and link-local targets are refused (at registration and again at each
    # delivery, against DNS rebinding) unless allowed; `make dev` and the embedded mode allow them.
    outbound_webhooks_allow_private_urls: bool = False
    # Hosts (names or addresses) allowed even when private ones are not: an ERP inside the network.
    outbound_webhooks_allowed_hosts: list[str] = []
    # The wait before each retry after a failed attempt; when it runs out the endpoint is disabled
    # and admins are mailed. Default: Standard Webhooks' schedule, about a day (27.5 h) in 8 attempts.
    outbound_webhooks_retry_schedule_seconds: list[float] = [5, 300, 1800, 7200, 18000, 36000, 36000]
    # httpx's timeout: connecting, and each read or write (not the whole attempt).
    outbound_webhooks_timeout_seconds: float = Field(default=10.0, gt=0)
    # The whole of one attempt (resolving the host, connecting, sending, the answer): a receiver
    # that answers a byte at a time is cut off here. Counted from the claim, so within the lease.
    outbound_webhooks_deadline_seconds: float = Field(default=30.0, gt=0)
    # Of an answer's body at most this much is read (and never kept), then the connection is dropped.
    outbound_webhooks_max_response_bytes: int = Field(default=64 * 1024, ge=0)
    # Requests in flight at once per worker process, beyond each endpoint's first (an endpoint with
    # none in flight always gets one: a slow receiver never holds another's deliveries).
    outbound_webhooks_concurrency: int = Field(default=16, ge=1, le=256)
    # Requests in flight at once to one endpoint, per worker process.
    outbound_webhooks_endpoint_concurrency: int = Field(default=4, ge=1, le=256)
    # How often the worker looks for attempts that are due.
    outbound_webhooks_poll_seconds: float = Field(default=1.0, gt=0)
    # A claimed attempt is the claimer's this long; a crashed worker's attempt is retried after it.
    outbound_webhooks_lease_seconds: float = Field(default=120.0, gt=0)
    # Housekeeping: deliveries that ended (and their attempts) are deleted this long after.
    outbound_webhooks_retention_days: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _check_identity_settings(self) -> "IdentitySettings":
        if bool(self.bootstrap_staff_email) != bool(self.bootstrap_staff_password):
            raise ValueError("bootstrap_staff_email and bootstrap_staff_password go together")
        if self.environment == "production" and not self.signing_key_pem:
            # A key generated per process would give each replica its own, unpublished key.
            raise ValueError("signing_key_pem must be set in production")
        if not self.outbound_webhooks_retry_schedule_seconds or any(
                delay <= 0 for delay in self.outbound_webhooks_retry_schedule_seconds):
            raise ValueError("outbound_webhooks_retry_schedule_seconds needs at least one delay, each above 0")
        if self.outbound_webhooks_lease_seconds <= self.outbound_webhooks_deadline_seconds:
            # An attempt must end (and be recorded) while its claim holds, or another worker sends it too.
            raise ValueError("outbound_webhooks_lease_seconds must exceed outbound_webhooks_deadline_seconds")
        return self

    def secret_fields(self) -> tuple[str, ...]:
        return (*super().secret_fields(), "bootstrap_staff_password", "oauth_google_client_secret")

    @property
    def secure_cookies(self) -> bool:
        return self.environment not in ("dev", "test")

    @property
    def frontend_origin(self) -> str:
        parts = urlsplit(self.frontend_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def webauthn_expected_origins(self) -> list[str]:
        return self.webauthn_origins or [self.frontend_origin]
