"""Identity's context: the long-lived collaborators of its use cases, built once by `bootstrap.context`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from atelier_common.contracts.identity import Storefront
from atelier_common.db import Database
from atelier_common.denylist import SharedRevocations
from atelier_common.events.bus import Routes
from atelier_common.keys import SigningKey
from atelier_common.ratelimit import RateLimiter
from atelier_common.storefronts import StorefrontDirectory, UnknownStorefront
from atelier_identity import policies
from atelier_identity.api.cookies import RefreshCookie
from atelier_identity.clients import OrdersClient, PaymentsClient
from atelier_identity.keyring import KeyRing
from atelier_identity.mail import Mailer
from atelier_identity.oidc import OidcProviders
from atelier_identity.security import AccessTokenSigner, PasswordHasher
from atelier_identity.settings import IdentitySettings
from atelier_identity.webhooks import WebhookSender


@dataclass(frozen=True)
class IdentityContext:
    settings: IdentitySettings
    # For the reads a use case makes outside its request's transaction (a sign-in's account, read
    # before the password check so that no write lock waits on Argon2).
    db: Database
    # The signing keys: the active one signs, the published ones are /.well-known/jwks.json.
    keys: KeyRing
    signer: AccessTokenSigner
    passwords: PasswordHasher
    limiter: RateLimiter
    mailer: Mailer
    refresh_cookie: RefreshCookie
    oidc: OidcProviders
    payments: PaymentsClient
    orders: OrdersClient
    # This process's copy of the storefronts (the runtime's): mail senders, links, passkey relying parties.
    storefronts: StorefrontDirectory
    # The outbound webhooks' pooled HTTP client and URL policy.
    webhooks: WebhookSender
    # The fan-out's queue hears an event type only while an endpoint wants it (`service/webhooks.py`).
    webhook_routes: Routes
    # The install's Redis marks of revoked subjects (API keys), read by the gateways; None without Redis.
    revocations: SharedRevocations | None = None

    @property
    def signing_key(self) -> SigningKey:
        """The key access tokens are signed with now (it changes when `atelier keys rotate` runs)."""
        return self.keys.current

    @property
    def longest_access_ttl(self) -> timedelta:
        """The longest an access token issued now may live (the install's or a storefront's
        `access_token_minutes`): how long every revocation must be kept."""
        return policies.longest_access_ttl(self.settings, self.storefronts.all())

    async def storefront_of_event(self, slug: str | None) -> Storefront:
        """The storefront an event happened on. A slug this copy cannot find (deleted since) is the
        default storefront: the customer's mail still goes, the event does not fail."""
        try:
            return await self.storefronts.get(slug)
        except UnknownStorefront:
            return self.storefronts.default
