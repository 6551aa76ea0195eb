"""The writing side: which namespaces a transaction wrote, noted from the ORM's flushes and
statements, and bumped (and purged at the CDN) once it has committed, before the response is sent
or the event acknowledged: this is what keeps a reader from an answer older than the last commit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from itertools import chain
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from atelier_common.cache.stores import CacheStore
from atelier_common.cdn import CdnPurger
from atelier_common.db import WRITE_TRACKER
from atelier_common.redisguard import RedisUnavailable

log = logging.getLogger("atelier.cache")

_TRACKER = WRITE_TRACKER  # `db.Statement`s note their writes through it too
_DIRTY = "atelier.cache.dirty"
_PURGED = "atelier.cache.purged"


# The surrogate keys a written row purges at a CDN (`ServiceSpec.cache_keys`): table name, row.
RowKeys = Callable[[str, Any], Iterable[str]]


class WriteTracker:
    """Notes which namespaces a transaction wrote (ORM flushes and DML statements alike) and bumps
    their counters once it has committed. `tables` maps table names to the namespaces they feed.
    With a `purger`, the same change is purged at the CDN: `row_keys` of each row the ORM flushed,
    or — a statement, whose rows are unknown — the namespaces' keys (every answer carries them)."""

    def __init__(self, tables: Mapping[str, Iterable[str]], store: CacheStore | None,
                 purger: CdnPurger | None = None, row_keys: RowKeys | None = None) -> None:
        self.tables = {name: tuple(ns) for name, ns in tables.items()}
        self.store = store
        self.purger = purger
        self.row_keys = row_keys
        if not event.contains(Session, "after_flush", _after_flush):
            event.listen(Session, "after_flush", _after_flush)
            event.listen(Session, "do_orm_execute", _do_orm_execute)

    def note(self, session: Session, table: str | None, row: Any = None) -> None:
        dirty: set[str] = session.info.setdefault(_DIRTY, set())
        # A statement whose table we cannot tell: everything this service caches.
        namespaces = tuple(chain.from_iterable(self.tables.values())) if table is None else self.tables.get(table, ())
        dirty.update(namespaces)
        if self.purger is None or not namespaces:
            return
        purged: set[str] = session.info.setdefault(_PURGED, set())
        if row is not None and self.row_keys is not None and table is not None:
            purged.update(self.row_keys(table, row))
        else:
            purged.update(namespaces)

    async def committed(self, info: dict[str, Any]) -> None:
        dirty = info.pop(_DIRTY, None)
        purged = info.pop(_PURGED, None)
        if purged and self.purger is not None:
            self.purger.purge(purged)
        if not dirty or self.store is None:
            return
        try:
            # Owed once committed: a cancel of the caller (a delivery's handler, when its broker
            # channel closes; a request whose client left) must not cut the bump off. The one hook
            # that awaits what it owes (the relay's publish runs in a task of its own).
            await asyncio.shield(self.store.bump(sorted(dirty)))
        except Exception as exc:
            if isinstance(exc, RedisUnavailable):  # owed: RedisStore retries it until Redis is back
                log.warning("cache invalidation of %s deferred until Redis answers: %s", sorted(dirty), exc)
            else:
                log.error("cache invalidation of %s failed after a commit: %s", sorted(dirty), exc)


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    tracker: WriteTracker | None = session.info.get(_TRACKER)
    if tracker is None:
        return
    for obj in chain(session.new, session.dirty, session.deleted):
        tracker.note(session, getattr(obj, "__tablename__", None), obj)


def _do_orm_execute(state: ORMExecuteState) -> None:
    tracker: WriteTracker | None = state.session.info.get(_TRACKER)
    if tracker is None or not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    tracker.note(state.session, getattr(table, "name", None))


def tracker_info(tracker: WriteTracker) -> dict[str, Any]:
    """What a session's `info` carries so that its writes are tracked."""
    return {_TRACKER: tracker}
