"""Pure rules of identity: no I/O, no clock (callers pass `now`)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from atelier_common.auth import ROLE_CUSTOMER, ROLE_STAFF

PASSWORD_MIN_LENGTH = 8
# Argon2 hashes any length, but a megabyte password is a cheap way to burn our CPU.
PASSWORD_MAX_LENGTH = 256
VERIFY_EMAIL = "verify_email"


def normalise_email(email: str) -> str:
    """Addresses are compared and stored lower-case, so `A@x.com` and `a@x.com` are one account."""
    return email.strip().lower()


def password_problems(password: str, email: str) -> list[str]:
    """What is wrong with `password` for the account `email`; empty when it is acceptable."""
    problems = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(f"Password must be at least {PASSWORD_MIN_LENGTH} characters.")
    if password.isdigit():
        problems.append("Password cannot be entirely numeric.")
    lowered, email = password.lower(), normalise_email(email)
    local_part = email.partition("@")[0]
    if email and (email in lowered or lowered == local_part):
        problems.append("Password cannot be your email address.")
    return problems


def roles_of(*, is_staff: bool) -> list[str]:
    """Every account is a customer; staff can also administer the catalog and orders."""
    return [ROLE_CUSTOMER, ROLE_STAFF] if is_staff else [ROLE_CUSTOMER]


def is_business_customer(company_name: str | None) -> bool:
    return bool(company_name and company_name.strip())


def new_secret() -> str:
    """An opaque token for refresh tokens and mailed links (256 bits)."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """Only this digest is stored: a leaked table gives no usable token."""
    return hashlib.sha256(secret.encode()).hexdigest()


class RefreshState(StrEnum):
    VALID = "valid"
    UNKNOWN = "unknown"
    REVOKED = "revoked"
    REUSED = "reused"
    EXPIRED = "expired"


class IssuedToken(Protocol):
    used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime


def refresh_state(token: IssuedToken | None, now: datetime) -> RefreshState:
    """Whether a presented refresh token may be rotated.

    A token that was already rotated and shows up again was copied: someone holds a stolen
    token, so its whole family must go (checked before expiry, since the family may be alive).
    """
    if token is None:
        return RefreshState.UNKNOWN
    if token.revoked_at is not None:
        return RefreshState.REVOKED
    if token.used_at is not None:
        return RefreshState.REUSED
    if token.expires_at <= now:
        return RefreshState.EXPIRED
    return RefreshState.VALID
