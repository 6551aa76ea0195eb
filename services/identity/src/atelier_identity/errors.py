"""Failures of the identity service, one class each; `atelier_common.errors` renders them."""

from __future__ import annotations

from atelier_common.errors import AtelierError


class IdentityError(AtelierError):
    pass


class EmailExists(IdentityError):
    code, status, default_message = "EMAIL_EXISTS", 409, "An account with this email already exists"


class WeakPassword(IdentityError):
    # The contract answers every field-level rejection as VALIDATION_ERROR with per-field details,
    # so the password policy (a domain rule) uses that code rather than one of its own.
    code, status, default_message = "VALIDATION_ERROR", 400, "The password does not meet the policy"

    def __init__(self, problems: list[str]) -> None:
        super().__init__(details={"fields": {"password": problems}})


class InvalidEmail(IdentityError):
    code, status, default_message = "VALIDATION_ERROR", 400, "The email address is not valid"

    def __init__(self, problem: str) -> None:
        super().__init__(details={"fields": {"email": [problem]}})


class InvalidCredentials(IdentityError):
    code, status, default_message = "INVALID_CREDENTIALS", 401, "The email or password is incorrect"


class EmailNotVerified(IdentityError):
    code, status, default_message = "EMAIL_NOT_VERIFIED", 403, "Verify your email address before logging in"


class AccountDisabled(IdentityError):
    code, status, default_message = "ACCOUNT_DISABLED", 403, "This account is disabled"


class InvalidRefreshToken(IdentityError):
    code, status, default_message = "INVALID_TOKEN", 401, "The refresh token is invalid, expired or revoked"


class RefreshTokenReused(IdentityError):
    code, status, default_message = (
        "INVALID_TOKEN", 401, "The refresh token was already used; its sessions have been revoked")


class InvalidEmailToken(IdentityError):
    # Single-use mailed tokens answer 400, unlike the 401 of bearer and refresh tokens (API.md).
    code, status, default_message = "INVALID_TOKEN", 400, "The token is invalid, expired or already used"


class AccountGone(IdentityError):
    """A correctly signed access token whose account no longer exists or is disabled."""

    code, status, default_message = "INVALID_TOKEN", 401, "The token's account no longer exists"


class UserNotFound(IdentityError):
    code, status, default_message = "USER_NOT_FOUND", 404, "User not found"
