"""Events produced by generation."""

from __future__ import annotations

import uuid

from atelier_common.contracts.identity import DEFAULT_STOREFRONT
from atelier_common.events.envelope import IntegrationEvent


class CreditConsumed(IntegrationEvent):
    """Credits were spent (a job, an unlock, a regeneration): payments records it in the ledger."""

    type = "credit.consumed"
    # The storefront it happened on (`contracts.identity.Storefront`); older events: the default.
    storefront: str = DEFAULT_STOREFRONT
    user_id: uuid.UUID
    credits: int
    reason: str
    reference_id: uuid.UUID | None = None
    balance_after: int


class JobCompleted(IntegrationEvent):
    type = "job.completed"
    # The storefront it happened on (`contracts.identity.Storefront`); older events: the default.
    storefront: str = DEFAULT_STOREFRONT
    job_id: uuid.UUID
    owner_id: uuid.UUID
    kind: str
    asset_ids: list[uuid.UUID] = []


class JobFailed(IntegrationEvent):
    type = "job.failed"
    # The storefront it happened on (`contracts.identity.Storefront`); older events: the default.
    storefront: str = DEFAULT_STOREFRONT
    job_id: uuid.UUID
    owner_id: uuid.UUID
    kind: str
    reason: str
    refunded_credits: int = 0


class JobRequested(IntegrationEvent):
    """Work for the generation worker: run this job (again, after a crash or a lost message).

    Consumed only by generation's own `worker` role; the job row says what to do, so the
    message carries nothing else and a duplicate is harmless.
    """

    type = "generation.job_requested"
    job_id: uuid.UUID
    kind: str
