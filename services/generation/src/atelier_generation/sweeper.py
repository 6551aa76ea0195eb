"""The worker role's sweep: re-announce stale jobs. (Expired restorations are the housekeeping
role's business: `atelier_generation.housekeeping`.)"""

from __future__ import annotations

import asyncio
import logging

from atelier_common.loops import BackgroundLoop
from atelier_generation.context import GenerationContext
from atelier_generation.service import JobRunner

log = logging.getLogger("atelier.generation")


async def sweep(context: GenerationContext) -> None:
    """One round; an entry point like the worker, so it owns its transactions."""
    await JobRunner(context).requeue_stale()


async def sweep_forever(loop: BackgroundLoop, context: GenerationContext, every: float) -> None:
    """`loop`'s body: a round is a step, which stopping the loop lets finish."""
    while True:
        try:
            async with loop.step():
                await sweep(context)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("generation sweep failed; will try again")  # housekeeping must outlive a bad round
        if every <= 0:
            return
        await asyncio.sleep(every)

