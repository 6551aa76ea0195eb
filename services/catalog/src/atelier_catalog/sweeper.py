"""The periodic release of reservations whose orders were never paid."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from atelier_catalog.service import ReservationService
from atelier_catalog.settings import CatalogSettings
from atelier_common.service import Runtime

log = logging.getLogger("atelier.catalog.sweeper")


async def sweep_once(runtime: Runtime) -> int:
    """One round in one transaction; the number of orders whose stock went back."""
    settings: CatalogSettings = runtime.settings  # type: ignore[assignment]
    async with runtime.db.transaction() as session:
        return await ReservationService(session, ttl_minutes=settings.reservation_ttl_minutes).expire_due()


async def _sweep_forever(runtime: Runtime, every: float) -> None:
    while True:
        try:
            await sweep_once(runtime)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("reservation sweep failed; will try again")
        await asyncio.sleep(every)


async def start(runtime: Runtime) -> None:
    settings: CatalogSettings = runtime.settings  # type: ignore[assignment]
    # The consumers own reservations; an api-only process leaves the sweep to them.
    if "consumer" in runtime.roles and settings.reservation_sweep_seconds > 0:
        runtime.reservation_sweeper = asyncio.create_task(  # type: ignore[attr-defined]
            _sweep_forever(runtime, settings.reservation_sweep_seconds))


async def stop(runtime: Runtime) -> None:
    task: asyncio.Task[None] | None = getattr(runtime, "reservation_sweeper", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
