"""Failures of the identity service, one class each; `atelier_common.errors` renders them."""

from __future__ import annotations

from atelier_common.auth import KEY_SCOPES, STAFF_ROLES
from atelier_common.errors import AtelierError


class IdentityError(AtelierError):
    pass


class EmailExists(IdentityError):
    code, status, default_message = "EMAIL_EXISTS", 409, "An account with this email already exists"


class UsernameTaken(IdentityError):
    code, status, default_message = "USERNAME_TAKEN", 409, "This username is already taken"


class WeakPassword(IdentityError):
    # The contract answers every field-level rejection as VALIDATION_ERROR with per-field details,
    # so the password policy (a domain rule) uses that code rather than one of its own.
    code, status, default_message = "VALIDATION_ERROR", 400, "The password does not meet the policy"

    def __init__(self, problems: list[str]) -> None:
        super().__init__(details={"fields": {"password": problems}})


class RegistrationIncomplete(IdentityError):
    """A registration without a field its storefront needs (`username_accounts.username_only`)."""

    code, status, default_message = "VALIDATION_ERROR", 400, "A required field is missing"

    def __init__(self, message: str | None = None, fields: list[str] | None = None) -> None:
        super().__init__(message, details={"fields": {name: ["This field is required."] for name in fields or []}})


class NoEmailAddress(IdentityError):
    code, status, default_message = (
        "NO_EMAIL_ADDRESS", 409, "This account has no email address: add one first (POST /auth/email-change)")


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
    # Single-use mailed tokens answer 400, unlike the 401 of bearer and refresh tokens (docs/api.md, Errors).
    code, status, default_message = "INVALID_TOKEN", 400, "The token is invalid, expired or already used"


class AccountGone(IdentityError):
    """A correctly signed access token whose account no longer exists or is disabled."""

    code, status, default_message = "INVALID_TOKEN", 401, "The token's account no longer exists"


class UserNotFound(IdentityError):
    code, status, default_message = "USER_NOT_FOUND", 404, "User not found"


class WrongPassword(IdentityError):
    """Re-authentication failed (change password, email change, account deletion).

    400, not 401: the caller's access token is fine, and a 401 would send clients to refresh it.
    """

    code, status, default_message = "INVALID_PASSWORD", 400, "The current password is incorrect"


class DeletionNotConfirmed(IdentityError):
    code, status, default_message = (
        "VALIDATION_ERROR", 400, 'Confirm with your password, or with confirm "DELETE" for an account without one')

    def __init__(self, field: str) -> None:
        super().__init__(details={"fields": {field: [self.default_message]}})


class SameEmail(IdentityError):
    code, status, default_message = "VALIDATION_ERROR", 400, "The new email is your current email"

    def __init__(self) -> None:
        super().__init__(details={"fields": {"new_email": [self.default_message]}})


class InvalidMagicCode(IdentityError):
    # Wrong, expired, used or locked after too many attempts: one answer, like every single-use token.
    code, status, default_message = "INVALID_TOKEN", 400, "The code is invalid, expired or already used"


class OAuthProviderUnknown(IdentityError):
    code, status, default_message = "OAUTH_PROVIDER_NOT_FOUND", 404, "This sign-in provider is not available"


class InvalidReturnTo(IdentityError):
    code, status, default_message = (
        "VALIDATION_ERROR", 400, "return_to must be a relative path or an address of the frontend")

    def __init__(self) -> None:
        super().__init__(details={"fields": {"return_to": [self.default_message]}})


class OAuthFailed(IdentityError):
    code, status, default_message = "OAUTH_FAILED", 400, "The sign-in with the provider failed"


class OAuthEmailNotVerified(IdentityError):
    code, status, default_message = (
        "OAUTH_EMAIL_NOT_VERIFIED", 400, "The provider did not confirm that this email address is verified")


class OAuthUserExists(IdentityError):
    code, status, default_message = (
        "OAUTH_USER_EXISTS", 400, "This email belongs to an account that signs in with a provider")


class PasskeyRejected(IdentityError):
    code, status, default_message = "PASSKEY_INVALID", 400, "The passkey response could not be verified"


class PasskeyExists(IdentityError):
    code, status, default_message = "PASSKEY_EXISTS", 409, "This passkey is already registered"


class PasskeyNotFound(IdentityError):
    code, status, default_message = "PASSKEY_NOT_FOUND", 404, "Passkey not found"


class AddressNotFound(IdentityError):
    code, status, default_message = "ADDRESS_NOT_FOUND", 404, "Address not found"


class AddressLimitReached(IdentityError):
    code, status, default_message = "ADDRESS_LIMIT_REACHED", 409, "The address book is full"

    def __init__(self, limit: int) -> None:
        super().__init__(f"At most {limit} addresses can be saved", details={"limit": limit})


class AddressLabelExists(IdentityError):
    code, status, default_message = "ADDRESS_LABEL_EXISTS", 409, "Another address already has this label"


class LastAddress(IdentityError):
    code, status, default_message = "ADDRESS_NOT_DELETABLE", 409, "The last remaining address cannot be deleted"


class StorefrontNotFound(IdentityError):
    code, status, default_message = "STOREFRONT_NOT_FOUND", 404, "Storefront not found"


class StorefrontExists(IdentityError):
    code, status, default_message = "STOREFRONT_EXISTS", 409, "A storefront with this slug already exists"


class StorefrontOriginTaken(IdentityError):
    code, status, default_message = "STOREFRONT_ORIGIN_TAKEN", 409, "Another storefront already has this origin"

    def __init__(self, origins: list[str], storefront: str) -> None:
        super().__init__(details={"origins": origins, "storefront": storefront})


class StorefrontProfileTaken(IdentityError):
    code, status, default_message = (
        "STOREFRONT_PROFILE_TAKEN", 409, "Another storefront already has this compatibility profile")

    def __init__(self, profile: str, storefront: str) -> None:
        super().__init__(details={"compat_profile": profile, "storefront": storefront})


class StorefrontInUse(IdentityError):
    code, status, default_message = "STOREFRONT_IN_USE", 409, "The storefront has orders"

    def __init__(self, message: str, *, orders: int, unpaid: int) -> None:
        super().__init__(message, details={"orders": orders, "unpaid": unpaid})


class StorefrontNotDeletable(IdentityError):
    code, status, default_message = (
        "STOREFRONT_NOT_DELETABLE", 409, "The default storefront cannot be deleted; make another one the default first")


class DefaultStorefrontRequired(IdentityError):
    code, status, default_message = (
        "DEFAULT_STOREFRONT_REQUIRED", 409,
        "One storefront is always the default; make another one the default instead")


class StorefrontSlugImmutable(IdentityError):
    code, status, default_message = "VALIDATION_ERROR", 400, "A storefront's slug cannot be changed"

    def __init__(self) -> None:
        super().__init__(details={"fields": {"slug": [self.default_message]}})


class UnknownStaffRole(IdentityError):
    code, status, default_message = "VALIDATION_ERROR", 400, "Unknown staff role"

    def __init__(self, roles: list[str]) -> None:
        super().__init__(f"Unknown staff role {', '.join(roles)}; the roles are {', '.join(STAFF_ROLES)}")


class MailNotFound(IdentityError):
    code, status, default_message = "MAIL_NOT_FOUND", 404, "Mail not found"


class StaffAccountNeedsAdmin(IdentityError):
    """Support acted on an account holding a staff role: that is the admin's. The common
    permission code, as `RequireRole` answers: clients handle one 403."""

    code, status, default_message = "PERMISSION_DENIED", 403, "Actions on a staff account need the admin role"


class AccountSuspended(IdentityError):
    """A staff action that a suspended account cannot use: a conflict with its state."""

    code, status, default_message = "ACCOUNT_SUSPENDED", 409, "The account is suspended: reactivate it first"


class EmailAlreadyVerified(IdentityError):
    """A verification mail for an address already proven: it would have nothing to prove."""

    code, status, default_message = "EMAIL_ALREADY_VERIFIED", 409, "The email address is already verified"


class WebhookEndpointNotFound(IdentityError):
    code, status, default_message = "WEBHOOK_ENDPOINT_NOT_FOUND", 404, "No such webhook endpoint"


class WebhookDeliveryNotFound(IdentityError):
    code, status, default_message = "WEBHOOK_DELIVERY_NOT_FOUND", 404, "No such webhook delivery"


class WebhookUrlNotAllowed(IdentityError):
    code, status, default_message = "WEBHOOK_URL_NOT_ALLOWED", 400, "This webhook URL is not allowed"

    def __init__(self, reason: str) -> None:
        super().__init__(f"This webhook URL is not allowed: {reason}", details={"fields": {"url": [reason]}})


class WebhookEventsNotAllowed(IdentityError):
    """An API key subscribing its endpoint to events its roles may not read."""

    code, status, default_message = "PERMISSION_DENIED", 403, "This key's roles may not receive these events"

    def __init__(self, events: list[str]) -> None:
        super().__init__(f"This key's roles may not receive {', '.join(events)}",
                         details={"fields": {"events": [f"not allowed: {', '.join(events)}"]}})


class WebhookStorefrontOutOfScope(IdentityError):
    """An API key's endpoint for a storefront it may not touch, or for every storefront while its
    scope names some."""

    code, status, default_message = ("PERMISSION_DENIED", 403,
                                     "This key's endpoints receive only the storefronts it may touch: name one")


class WebhooksForAdmins(IdentityError):
    code, status, default_message = ("PERMISSION_DENIED", 403,
                                     "Webhook endpoints are an admin's, or an API key's own")


class UnknownWebhookEvent(IdentityError):
    code, status, default_message = "VALIDATION_ERROR", 400, "Unknown webhook event type"

    def __init__(self, unknown: list[str], known: list[str]) -> None:
        super().__init__(f"Unknown event type {', '.join(unknown)}; the types are {', '.join(known)}",
                         details={"fields": {"events": [f"unknown: {', '.join(unknown)}"]}})


# Signing keys (`atelier keys`).
class KeyNotFound(IdentityError):
    code, status, default_message = "SIGNING_KEY_NOT_FOUND", 404, "No such signing key"


class ActiveKeyNotRetirable(IdentityError):
    code, status, default_message = "SIGNING_KEY_ACTIVE", 409, "The active signing key cannot be retired: rotate first"


class KeyStillPublished(IdentityError):
    code, status, default_message = ("SIGNING_KEY_STILL_NEEDED", 409,
                                     "Tokens signed by this key may still be alive: retire it early with --force")


class ShippingZoneNotFound(IdentityError):
    code, status, default_message = "NOT_FOUND", 404, "Shipping zone not found"


class ShippingMethodNotFound(IdentityError):
    code, status, default_message = "NOT_FOUND", 404, "Shipping method not found"


class CustomerGroupNotFound(IdentityError):
    code, status, default_message = "CUSTOMER_GROUP_NOT_FOUND", 404, "No customer group has this id"


class CustomerGroupExists(IdentityError):
    code, status, default_message = "CUSTOMER_GROUP_EXISTS", 409, "The storefront has a customer group of this code"


class CustomersNotFound(IdentityError):
    """A bulk assignment naming accounts that do not exist: nothing was assigned (all or nothing)."""

    code, status, default_message = "CUSTOMERS_NOT_FOUND", 404, "No account has some of these ids or e-mails"

    def __init__(self, not_found: list[str]) -> None:
        super().__init__(details={"not_found": not_found})


class StaffNotGroupable(IdentityError):
    code, status, default_message = (
        "VALIDATION_ERROR", 400, "Staff accounts read the catalog at its own prices: they join no customer group")

    def __init__(self, staff: list[str]) -> None:
        super().__init__(details={"fields": {"customers": [f"{entry} is a staff account" for entry in staff]}})


class ApiKeyNotFound(IdentityError):
    code, status, default_message = "API_KEY_NOT_FOUND", 404, "No such API key"


class InvalidApiKey(IdentityError):
    # One answer for unknown, revoked, expired and rotated-out secrets: a caller learns nothing more.
    code, status, default_message = "INVALID_TOKEN", 401, "The API key is invalid, expired or revoked"


class StorefrontNotInScope(IdentityError):
    """A storefront an API key may not touch, named by a staff write: as unknown to it as another
    storefront's customer is (docs/security.md, "API keys")."""

    code, status, default_message = "STOREFRONT_NOT_FOUND", 404, "Storefront not found"


class UnknownApiKeyScope(IdentityError):
    code, status, default_message = "VALIDATION_ERROR", 400, "Unknown API key scope"

    def __init__(self, scopes: list[str]) -> None:
        super().__init__(f"Unknown API key scope {', '.join(scopes)}; the scopes are {', '.join(KEY_SCOPES)}",
                         details={"fields": {"scopes": [f"unknown: {', '.join(scopes)}"]}})


class ApiKeyWithoutAccess(IdentityError):
    code, status, default_message = "VALIDATION_ERROR", 400, "An API key needs a role or a scope"

    def __init__(self) -> None:
        super().__init__(details={"fields": {"roles": ["give at least one role or scope"]}})


class UnknownStorefrontScope(IdentityError):
    code, status, default_message = "VALIDATION_ERROR", 400, "Unknown storefront"

    def __init__(self, slug: str) -> None:
        super().__init__(f"Unknown storefront {slug}", details={"fields": {"storefronts": [f"unknown: {slug}"]}})


class ApiKeyExpiryPast(IdentityError):
    code, status, default_message = "VALIDATION_ERROR", 400, "An API key's expiry must be in the future"

    def __init__(self) -> None:
        super().__init__(details={"fields": {"expires_at": ["must be in the future"]}})
