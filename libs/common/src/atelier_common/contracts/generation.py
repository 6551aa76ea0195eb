"""Events produced by generation."""

from __future__ import annotations

import uuid

from atelier_common.contracts.examples import CUSTOMER_ID, webhook_example
from atelier_common.contracts.identity import StorefrontEvent
from atelier_common.events.envelope import IntegrationEvent

# The examples' job (its owner: `examples`).
_JOB_ID = "a9d57fde-7423-477d-be81-11f499820286"


class CreditConsumed(StorefrontEvent):
    """Credits were spent (a job, an unlock, a regeneration): payments records it in the ledger."""

    type = "credit.consumed"
    user_id: uuid.UUID
    credits: int
    reason: str
    reference_id: uuid.UUID | None = None
    balance_after: int


class JobCompleted(StorefrontEvent):
    model_config = webhook_example({"storefront": "default", "job_id": _JOB_ID, "owner_id": CUSTOMER_ID, "kind": "image",
                                    "asset_ids": ["ed271751-f2ee-5ae6-bd10-8b882a1ce5e3"]})

    type = "job.completed"
    job_id: uuid.UUID
    owner_id: uuid.UUID
    kind: str
    asset_ids: list[uuid.UUID] = []


class JobFailed(StorefrontEvent):
    model_config = webhook_example({"storefront": "default", "job_id": _JOB_ID, "owner_id": CUSTOMER_ID, "kind": "image",
                                    "reason": "The provider timed out", "refunded_credits": 2})

    type = "job.failed"
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
