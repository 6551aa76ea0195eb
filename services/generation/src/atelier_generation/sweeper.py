"""The worker role's housekeeping: re-announce stale jobs and remove expired restorations."""

from __future__ import annotations

import asyncio
import logging

from atelier_generation.context import GenerationContext
from atelier_generation.service import JobRunner, RestorationService

log = logging.getLogger("atelier.generation")


async def sweep(context: GenerationContext) -> None:
    """One round; an entry point like the worker, so it owns its transactions."""
    await JobRunner(context).requeue_stale()
    async with context.db.transaction() as session:
        await RestorationService(session, context).purge_expired()


async def sweep_forever(context: GenerationContext, every: float) -> None:
    while True:
        try:
            await sweep(context)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("generation sweep failed; will try again")  # housekeeping must outlive a bad round
        if every <= 0:
            return
        await asyncio.sleep(every)

