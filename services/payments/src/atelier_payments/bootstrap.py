"""Payments' context: built once at start (providers, the orders client, the webhook URL), closed at stop."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import httpx

from atelier_common.counting import CountEstimates
from atelier_common.db import Database
from atelier_common.internal import service_url
from atelier_common.ratelimit import RateLimiter, rate_limiter
from atelier_common.service import Runtime
from atelier_common.storefronts import Storefront, StorefrontDirectory, UnknownStorefront
from atelier_payments.clients import CatalogClient, GenerationClient, IdentityClient, OrdersClient
from atelier_payments.domain import LOCAL, STRIPE
from atelier_payments.providers import PaymentProvider, Providers
from atelier_payments.providers.local import LocalProvider, SimpleProvider
from atelier_payments.settings import PaymentsSettings

log = logging.getLogger("atelier.payments")


@dataclass(frozen=True)
class PaymentsContext:
    """Long-lived collaborators of payments' use cases."""

    settings: PaymentsSettings
    providers: Providers
    orders: OrdersClient
    http: httpx.AsyncClient
    # Where the local checkout's Pay button sends its signed webhook: this service itself.
    local_webhook_url: str
    # For reads that must not hold the request's connection across an HTTP call (local Pay).
    db: Database
    # Subscriptions (S4): plans from catalog, the quota used from generation.
    catalog: CatalogClient | None = None
    generation: GenerationClient | None = None
    # The dev advance route names a user by email too.
    identity: IdentityClient | None = None
    # This process's copy of the storefronts (identity owns them): descriptors, redirects, names.
    storefronts: StorefrontDirectory | None = None
    # Estimated counts of finance's broad ledger pages, shared by every request of this process.
    estimates: CountEstimates = field(default_factory=CountEstimates)
    # Wrong gift card codes counted (`atelier_common.guesses`): Redis when set, else this process.
    limiter: RateLimiter = field(default_factory=RateLimiter)

    async def storefront(self, slug: str) -> Storefront | None:
        """The storefront of a payment or subscription; None when this copy does not know it
        (deleted since): the charge then goes out with the platform's own details."""
        if self.storefronts is None:
            return None
        try:
            return await self.storefronts.get(slug)
        except UnknownStorefront:
            log.warning("storefront %r is unknown; its payment details are not used", slug)
            return None


def build_providers(settings: PaymentsSettings) -> Providers:
    providers: dict[str, PaymentProvider] = {name: SimpleProvider(name) for name in settings.webhook_secrets}
    if settings.local_webhook_secret:
        providers[LOCAL] = LocalProvider(public_url=settings.public_base_url, secret=settings.local_webhook_secret,
                                         checkout_ttl=timedelta(minutes=settings.local_checkout_ttl_minutes))
    if settings.stripe_api_key:
        from atelier_payments.providers.stripe import StripeProvider

        providers[STRIPE] = StripeProvider(api_key=settings.stripe_api_key, api_base=settings.stripe_api_base,
                                           timeout=settings.http_timeout_seconds,
                                           max_network_retries=settings.stripe_max_network_retries)
    if settings.provider not in providers:
        raise ValueError(f"payment provider {settings.provider!r} is not configured")
    return Providers(settings.provider, providers)


@asynccontextmanager
async def context(runtime: Runtime) -> AsyncIterator[PaymentsContext]:
    settings = PaymentsSettings.of(runtime)
    webhook_url = service_url(settings, "payments").rstrip("/") + "/api/v1/payments/webhooks/local"
    providers = build_providers(settings)
    try:
        yield PaymentsContext(settings=settings, providers=providers, orders=OrdersClient(runtime.internal),
                              http=runtime.http, local_webhook_url=webhook_url,
                              catalog=CatalogClient(runtime.internal, settings.subscription_plan_skus),
                              generation=GenerationClient(runtime.internal), identity=IdentityClient(runtime.internal),
                              db=runtime.db, storefronts=runtime.storefronts,
                              estimates=CountEstimates(ttl=settings.count_estimate_seconds),
                              limiter=rate_limiter(settings))
    finally:
        await providers.close()
