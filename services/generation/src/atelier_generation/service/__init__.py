"""Generation's use cases, one module each; every method may flush but never commits
(the worker's steps are the exception, see `worker.py`)."""

from atelier_generation.service._shared import Tools
from atelier_generation.service.accounts import AccountService
from atelier_generation.service.credits import CreditService
from atelier_generation.service.images import ImageService
from atelier_generation.service.jobs import JobService
from atelier_generation.service.restorations import RestorationService
from atelier_generation.service.worker import JobRunner

__all__ = ["AccountService", "CreditService", "ImageService", "JobRunner", "JobService", "RestorationService",
           "Tools"]
