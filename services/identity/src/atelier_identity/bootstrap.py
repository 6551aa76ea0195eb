"""Identity's context: built once at start (keys, hasher, signer, limiter, mailer), closed at stop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from atelier_common.denylist import shared_revocations
from atelier_common.keys import SigningKey
from atelier_common.ratelimit import rate_limiter
from atelier_common.service import Runtime
from atelier_identity.api.cookies import RefreshCookie
from atelier_identity.clients import OrdersClient, PaymentsClient
from atelier_identity.context import IdentityContext
from atelier_identity.keyring import KeyRing
from atelier_identity.mail import Mailer
from atelier_identity.oidc import OidcProviders
from atelier_identity.security import AccessTokenSigner, PasswordHasher
from atelier_identity.service.keys import adopt_configured_key
from atelier_identity.service.users import create_user
from atelier_identity.service.webhooks import DeliveryWorker
from atelier_identity.settings import IdentitySettings
from atelier_identity.webhooks import UrlPolicy, WebhookSender

__all__ = ["IdentityContext", "context"]


@asynccontextmanager
async def context(runtime: Runtime) -> AsyncIterator[IdentityContext]:
    settings = IdentitySettings.of(runtime)
    configured = SigningKey.load(settings.signing_key_pem, settings.data_dir / "keys" / "identity.pem")
    access_ttl = timedelta(minutes=settings.access_token_ttl_minutes)
    # Identity verifies the tokens it signs without fetching its own JWKS over HTTP (the ring pins
    # its published keys on this verifier).
    await adopt_configured_key(runtime.db, configured, access_ttl=access_ttl)
    keys = KeyRing(runtime.db, configured, refresh_seconds=settings.signing_key_refresh_seconds, pins=runtime.verifier.jwks)
    await keys.start()
    # Building the hasher computes its dummy hash: real Argon2 work, kept off the event loop.
    hasher = await asyncio.to_thread(PasswordHasher.of, settings)
    signer = AccessTokenSigner(keys, issuer=settings.jwt_issuer, audience=settings.jwt_audience, ttl=access_ttl)
    mailer = Mailer(runtime.db, settings)
    sender = WebhookSender(
        timeout=settings.outbound_webhooks_timeout_seconds,
        max_response_bytes=settings.outbound_webhooks_max_response_bytes,
        keepalive=settings.outbound_webhooks_concurrency,
        policy=UrlPolicy(allow_private=settings.outbound_webhooks_allow_private_urls,
                         allowed_hosts=frozenset(h.lower().rstrip(".") for h in settings.outbound_webhooks_allowed_hosts),
                         resolve_seconds=settings.outbound_webhooks_timeout_seconds))
    # A revoked API key is marked in the shared Redis after its commit: gateways stop reusing its
    # exchange at once, the broker down too (docs/security.md, "API keys").
    revocations = shared_revocations(settings)
    if revocations is not None:
        runtime.db.on_session_commit(revocations.committed)
    ctx = IdentityContext(
        settings=settings, db=runtime.db, keys=keys, signer=signer, passwords=hasher,
        limiter=rate_limiter(settings), mailer=mailer, refresh_cookie=RefreshCookie(secure=settings.secure_cookies),
        oidc=OidcProviders.from_settings(settings), payments=PaymentsClient(runtime.internal),
        orders=OrdersClient(runtime.internal), storefronts=runtime.storefronts, webhooks=sender,
        webhook_routes=runtime.worker_routes, revocations=revocations)
    if settings.bootstrap_staff_email and settings.bootstrap_staff_password:
        # An entry point: create_user runs in its own transaction (retried once if another process
        # starting at the same moment creates the account first).
        await create_user(runtime.db, email=settings.bootstrap_staff_email,
                          password=settings.bootstrap_staff_password, staff=True, verified=True, passwords=hasher)
    # The mail sender is a relay like the outbox's: it runs where the relay role runs.
    if "relay" in runtime.roles:
        await mailer.start()
    # Outbound webhooks are sent by the worker role: a slow receiver never holds an API or consumer process.
    deliveries = DeliveryWorker(runtime.db, ctx) if "worker" in runtime.roles else None
    if deliveries is not None:
        await deliveries.start()
    try:
        yield ctx
    finally:
        if deliveries is not None:
            await deliveries.stop()
        await sender.close()
        await mailer.stop()
        await keys.stop()
        if revocations is not None:
            revocations.close()
