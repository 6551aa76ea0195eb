"""Generation's failures, one class each; `atelier_common.errors` renders them."""

from __future__ import annotations

from atelier_common.errors import AtelierError


class GenerationError(AtelierError):
    pass


# A missing resource answers 404 `NOT_FOUND` (docs/api.md, Errors); the class says what was not found.
class JobNotFound(GenerationError):
    code, status, default_message = "NOT_FOUND", 404, "Job not found"


class ImageNotFound(GenerationError):
    code, status, default_message = "NOT_FOUND", 404, "Image not found"


class RestorationNotFound(GenerationError):
    code, status, default_message = "NOT_FOUND", 404, "Restoration not found"


class UnknownModel(GenerationError):
    code, status, default_message = "VALIDATION_ERROR", 400, "Unknown generation model"


class InvalidTag(GenerationError):
    code, status, default_message = "VALIDATION_ERROR", 400, "Tags are words, or key:value pairs"


class InsufficientCredits(GenerationError):
    code, status, default_message = "INSUFFICIENT_CREDITS", 403, "Not enough credits"


class DeductionExceedsBalance(GenerationError):
    """Staff took back more than the customer has: a conflict with the current balance,
    not the customer's lack of credits, hence 409 where spending says 403."""

    code, status, default_message = "INSUFFICIENT_CREDITS", 409, "The deduction is more than the balance"


# -- uploads (S2) ----------------------------------------------------------------------------

class FileTooLarge(GenerationError):
    code, status, default_message = "FILE_TOO_LARGE", 413, "The file is larger than allowed"


class UnsupportedFormat(GenerationError):
    code, status, default_message = "UNSUPPORTED_FORMAT", 400, "Only JPG, PNG and WEBP images are accepted"


class ImageTooSmall(GenerationError):
    code, status, default_message = "IMAGE_TOO_SMALL", 400, "The image is too small"


class ImageTooLarge(GenerationError):
    code, status, default_message = "IMAGE_TOO_LARGE", 400, "The image has too many pixels"


class HistoryLimit(GenerationError):
    code, status, default_message = "HISTORY_LIMIT", 403, "You already have the maximum number of restorations"


# -- unlocks (S2) ----------------------------------------------------------------------------

class InvalidState(GenerationError):
    code, status, default_message = "INVALID_STATE", 400, "The restoration is not completed"


class AlreadyUnlocked(GenerationError):
    code, status, default_message = "ALREADY_UNLOCKED", 409, "The restoration is already unlocked"


class SocialShareUsed(GenerationError):
    code, status, default_message = "SOCIAL_SHARE_USED", 403, "The one-time social share unlock was already used"


class ShareNotInitiated(GenerationError):
    code, status, default_message = "SHARE_NOT_INITIATED", 400, "The share link was not opened, or it expired"


class UnknownSharePlatform(GenerationError):
    code, status, default_message = "NOT_FOUND", 404, "Unknown share platform"


class InvalidShareToken(GenerationError):
    code, status, default_message = "INVALID_TOKEN", 400, "The share link is invalid or expired"


# -- storybooks (S0) -------------------------------------------------------------------------

class BookNotFound(GenerationError):
    code, status, default_message = "NOT_FOUND", 404, "Book not found"


class ItemNotFound(GenerationError):
    # The message names the kind: "Character not found", "Page not found", "Cover not found".
    code, status, default_message = "NOT_FOUND", 404, "Not found"


class VersionNotFound(GenerationError):
    code, status, default_message = "NOT_FOUND", 404, "Version not found"


class AnonymousLimit(GenerationError):
    code, status, default_message = ("PERMISSION_DENIED", 403,
                                     "Sign in to do this: an anonymous visitor has one book, one character and its first cover")


class CharacterTaken(GenerationError):
    # The sequential second try is `AnonymousLimit` (403); this is the one that raced the first.
    code, status, default_message = "CONFLICT", 409, "Another request added this book's character at the same moment"


class RetryLimit(GenerationError):
    code, status, default_message = "RETRY_LIMIT", 403, "No retries left for this item"


class TooManyItems(GenerationError):
    code, status, default_message = "VALIDATION_ERROR", 400, "The book has as many of these as it may"


class NumberTaken(GenerationError):
    code, status, default_message = "CONFLICT", 409, "That page number is taken"


class VersionNotReady(GenerationError):
    code, status, default_message = "INVALID_STATE", 400, "Only a finished version can be selected"


class VersionInProgress(GenerationError):
    code, status, default_message = "INVALID_STATE", 400, "A version still being made cannot be deleted"


class PackNotYours(GenerationError):
    code, status, default_message = "PERMISSION_DENIED", 403, "That order is not yours"


class PackNotApplicable(GenerationError):
    code, status, default_message = "INVALID_STATE", 400, "That order has no paid, unused retry pack"


# -- signed URLs -----------------------------------------------------------------------------

class InvalidSignature(GenerationError):
    code, status, default_message = "INVALID_SIGNATURE", 403, "The link is invalid or expired"


# -- generators (never shown to clients: a job records them as its failure reason) ------------

class GeneratorFailed(GenerationError):
    code, status, default_message = "GENERATOR_FAILED", 502, "The image generator failed"


# -- hosted providers' webhooks --------------------------------------------------------------

class UnknownProvider(GenerationError):
    code, status, default_message = "NOT_FOUND", 404, "No such provider is configured"


class InvalidWebhookSignature(GenerationError):
    code, status, default_message = "INVALID_SIGNATURE", 400, "The webhook signature is invalid"


class UnknownProviderRequest(GenerationError):
    code, status, default_message = "NOT_FOUND", 404, "No job has that provider request"


class WebhookNotVerifiable(GenerationError):
    # The provider's signing keys could not be fetched: the provider delivers again later.
    code, status, default_message = "SERVICE_UNAVAILABLE", 503, "The webhook cannot be verified now"


class JobNotRetryable(GenerationError):
    """Staff retry takes a failed job only: a queued or running one is under way, a completed
    one is done, a blocked one was refused by the provider's safety system (the same prompt would be
    again), a storybook page is retried from its book."""

    code, status, default_message = "JOB_NOT_RETRYABLE", 409, "Only a failed job can be retried"


class RetryUnpaid(GenerationError):
    """The customer no longer has the credits a staff retry costs: a conflict with their
    balance, not their permission, hence 409."""

    code, status, default_message = "INSUFFICIENT_CREDITS", 409, "The customer has not enough credits for the retry"
