"""The SQL a step runs, for the services' statement-count tests: under load each statement is a
round trip and statement-building CPU, so the busiest paths pin their counts (`-s` prints them)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from atelier_common.db import Database


def _relays(text: str) -> bool:
    """The outbox relay's pass: it runs on its own after a commit, not as part of the step."""
    return "FROM outbox" in text or text.startswith("UPDATE outbox")


@contextmanager
def statements(db: Database, label: str, *, ignore: Sequence[str] = ()) -> Iterator[list[str]]:
    """The statements `db` runs meanwhile, whitespace folded, but the relay's and those starting
    with one of `ignore` (other background work); BEGIN/COMMIT are the driver's and not seen."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        text = " ".join(statement.split())
        if not _relays(text) and not text.startswith(tuple(ignore)):
            seen.append(text)

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
        print(f"\n{label}: {len(seen)} statements", *(f"    {text[:200]}" for text in seen), sep="\n")
