"""The periodic release of reservations whose orders were never paid (started by `bootstrap`)."""

from __future__ import annotations

import logging

from atelier_catalog.context import CatalogContext
from atelier_catalog.service import ReservationService
from atelier_common.db import Database
from atelier_common.service import Runtime

log = logging.getLogger("atelier.catalog.sweeper")


async def sweep(db: Database, context: CatalogContext) -> int:
    """One round in one transaction; the number of orders whose stock went back."""
    async with db.transaction() as session:
        return await ReservationService(session, context).expire_due()


async def sweep_once(runtime: Runtime) -> int:
    """One round for a running catalog (tests run the sweep themselves with this)."""
    context: CatalogContext = runtime.context
    return await sweep(runtime.db, context)
