"""The worker role's sweep: re-announce stale jobs. (Expired restorations are the housekeeping
role's business: `atelier_generation.housekeeping`.)"""

from __future__ import annotations

import logging

from atelier_generation.context import GenerationContext
from atelier_generation.service import JobRunner

log = logging.getLogger("atelier.generation")


async def sweep(context: GenerationContext) -> None:
    """One round; an entry point like the worker, so it owns its transactions."""
    await JobRunner(context).requeue_stale()
