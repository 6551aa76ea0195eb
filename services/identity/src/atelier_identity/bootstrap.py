"""Wiring: builds identity's long-lived objects once at startup and attaches them to the runtime."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from atelier_common.keys import SigningKey, jwks
from atelier_common.ratelimit import RateLimiter
from atelier_common.service import Runtime
from atelier_identity.api.cookies import RefreshCookie
from atelier_identity.mail import Mailer
from atelier_identity.security import AccessTokenSigner, PasswordHasher
from atelier_identity.service import AuthService, UserService, create_user
from atelier_identity.settings import IdentitySettings


@dataclass(frozen=True)
class Identity:
    """What identity's routes reach through `request.app.state.runtime.identity`."""

    auth: AuthService
    users: UserService
    mailer: Mailer
    refresh_cookie: RefreshCookie
    signing_key: SigningKey
    jwks: dict[str, Any]


async def start(runtime: Runtime) -> None:
    settings: IdentitySettings = runtime.settings  # type: ignore[assignment]
    key = SigningKey.load(settings.signing_key_pem, settings.data_dir / "keys" / "identity.pem")
    # Identity verifies the tokens it signs without fetching its own JWKS over HTTP.
    runtime.verifier.jwks.pin(key.kid, key.private_key.public_key())
    # Building the hasher computes its dummy hash: real Argon2 work, kept off the event loop.
    passwords = await asyncio.to_thread(
        PasswordHasher, time_cost=settings.password_hash_time_cost,
        memory_cost_kib=settings.password_hash_memory_cost_kib, parallelism=settings.password_hash_parallelism)
    signer = AccessTokenSigner(key, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                               ttl=timedelta(minutes=settings.access_token_ttl_minutes))
    mailer = Mailer(runtime.db, settings)
    auth = AuthService(db=runtime.db, settings=settings, passwords=passwords, signer=signer,
                       limiter=RateLimiter(settings.redis_url), mailer=mailer)
    runtime.identity = Identity(auth=auth, users=UserService(), mailer=mailer,  # type: ignore[attr-defined]
                                refresh_cookie=RefreshCookie(secure=settings.secure_cookies),
                                signing_key=key, jwks=jwks(key))
    if settings.bootstrap_staff_email and settings.bootstrap_staff_password:
        await create_user(runtime.db, email=settings.bootstrap_staff_email,
                          password=settings.bootstrap_staff_password, staff=True, verified=True, passwords=passwords)
    # The mail sender is a relay like the outbox's: it runs where the relay role runs.
    if "relay" in runtime.roles:
        await mailer.start()


async def stop(runtime: Runtime) -> None:
    identity: Identity | None = getattr(runtime, "identity", None)
    if identity is not None:
        await identity.mailer.stop()
