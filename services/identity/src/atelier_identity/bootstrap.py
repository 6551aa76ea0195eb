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
from atelier_identity.service import (
    AddressService,
    AuthService,
    AutoRegistration,
    Claims,
    EmailChangeService,
    Guard,
    MagicLinkService,
    NotificationService,
    OAuthService,
    PasskeyService,
    PasswordService,
    Sessions,
    UserService,
    Verification,
    create_user,
)
from atelier_identity.settings import IdentitySettings


@dataclass(frozen=True)
class Identity:
    """What identity's routes and consumers reach through `runtime.identity`."""

    auth: AuthService
    users: UserService
    passwords: PasswordService
    email_change: EmailChangeService
    magic_links: MagicLinkService
    oauth: OAuthService
    passkeys: PasskeyService
    addresses: AddressService
    auto_registration: AutoRegistration
    notifications: NotificationService
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
    hasher = await asyncio.to_thread(
        PasswordHasher, time_cost=settings.password_hash_time_cost,
        memory_cost_kib=settings.password_hash_memory_cost_kib, parallelism=settings.password_hash_parallelism)
    signer = AccessTokenSigner(key, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                               ttl=timedelta(minutes=settings.access_token_ttl_minutes))
    db, mailer, limiter = runtime.db, Mailer(runtime.db, settings), RateLimiter(settings.redis_url)
    addresses = AddressService(limit=settings.address_limit)
    claims = Claims(addresses=addresses)
    sessions = Sessions(settings=settings, signer=signer, claims=claims)
    guard = Guard(settings=settings, limiter=limiter, passwords=hasher)
    verification = Verification(settings=settings, mailer=mailer)
    users = UserService(guard=guard, sessions=sessions, addresses=addresses)
    passwords = PasswordService(settings=settings, passwords=hasher, sessions=sessions, guard=guard, mailer=mailer,
                                users=users)
    runtime.identity = Identity(  # type: ignore[attr-defined]
        auth=AuthService(db=db, settings=settings, passwords=hasher, sessions=sessions, verification=verification,
                         limiter=limiter),
        users=users, passwords=passwords,
        email_change=EmailChangeService(settings=settings, guard=guard, mailer=mailer, users=users),
        magic_links=MagicLinkService(db=db, settings=settings, sessions=sessions, guard=guard, mailer=mailer),
        oauth=OAuthService(db=db, settings=settings, sessions=sessions),
        passkeys=PasskeyService(db=db, settings=settings, sessions=sessions, guard=guard, verification=verification,
                                users=users),
        addresses=addresses,
        auto_registration=AutoRegistration(claims=claims, passwords=passwords),
        notifications=NotificationService(settings=settings, mailer=mailer),
        mailer=mailer, refresh_cookie=RefreshCookie(secure=settings.secure_cookies), signing_key=key, jwks=jwks(key))
    if settings.bootstrap_staff_email and settings.bootstrap_staff_password:
        await create_user(db, email=settings.bootstrap_staff_email, password=settings.bootstrap_staff_password,
                          staff=True, verified=True, passwords=hasher)
    # The mail sender is a relay like the outbox's: it runs where the relay role runs.
    if "relay" in runtime.roles:
        await mailer.start()


async def stop(runtime: Runtime) -> None:
    identity: Identity | None = getattr(runtime, "identity", None)
    if identity is not None:
        await identity.mailer.stop()
