"""Generation's use cases, one module each, built per request or event from (session, context);
they flush but never commit. The worker's `JobRunner` is an entry point, not a use case."""

from atelier_generation.service.accounts import AccountService
from atelier_generation.service.books import BookService
from atelier_generation.service.credits import CreditService
from atelier_generation.service.images import ImageService
from atelier_generation.service.jobs import JobService
from atelier_generation.service.provider_webhooks import ProviderWebhookService
from atelier_generation.service.restorations import RestorationService
from atelier_generation.service.retries import RetryService
from atelier_generation.service.worker import JobRunner

__all__ = ["AccountService", "BookService", "CreditService", "ImageService", "JobRunner", "JobService",
           "ProviderWebhookService", "RestorationService", "RetryService"]
