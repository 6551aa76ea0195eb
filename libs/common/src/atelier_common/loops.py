"""Background loops (the outbox relay, housekeeping, sweepers, the mail sender) that stop between
two steps of database work, never inside one.

A loop runs in a `BackgroundLoop`'s task and wraps each unit of database work (a transaction, or
a statement run on its own) in `async with loop.step():`. `stop()` waits for the step under way
to end, then cancels the task, which is then between two steps.

Why: on SQLite, a cancel that lands while a statement runs (it goes on in aiosqlite's thread)
makes SQLAlchemy drop the connection without rolling it back, and that connection keeps the
database's write lock until it is garbage-collected. The next start of the app waited for it
(30 s, then "database is locked": identity's staff-bootstrap test, in CI).

Stopping never hangs: a step still running after `stop_timeout` (a broker publish that never
returns) is cancelled where it is, with a warning.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

log = logging.getLogger("atelier.loops")

# Longer than a healthy step takes, including a publish waiting for the broker's confirm (10 s).
STOP_TIMEOUT_SECONDS = 15.0


class BackgroundLoop:
    """One background task whose database work runs in steps, one step at a time."""

    def __init__(self, name: str, *, stop_timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        self.name = name
        self.stop_timeout = stop_timeout
        self._step = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def start(self, body: Coroutine[Any, Any, None]) -> None:
        self._task = asyncio.create_task(body, name=self.name)

    def every(self, seconds: float, round: Callable[[], Awaitable[object]], *, now: bool = True) -> None:
        """Run `round` (at once unless `now` is False) and then every `seconds`, each round one
        step; a failed round is logged and the loop goes on. `seconds` ≤ 0: one round only."""

        async def body() -> None:
            if not now:
                await asyncio.sleep(seconds)
            while True:
                try:
                    async with self.step():
                        await round()
                except Exception:  # a periodic chore must outlive a bad round
                    log.exception("%s: a round failed; again in %s s", self.name, seconds)
                if seconds <= 0:
                    return
                await asyncio.sleep(seconds)

        self.start(body())

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @asynccontextmanager
    async def step(self) -> AsyncIterator[None]:
        """One unit of database work, which `stop()` lets finish. Also taken by callers outside the
        task (a test's or the bus drain's `flush()`), so that they do not interleave with the loop."""
        async with self._step:
            yield

    async def stop(self) -> None:
        """Wait for the step under way (at most `stop_timeout`), then cancel the task and wait for it."""
        task, self._task = self._task, None
        if task is None:
            return
        try:
            async with asyncio.timeout(self.stop_timeout):
                await self._step.acquire()
            held = True
        except TimeoutError:
            held = False
            log.warning("%s: a step still ran after %s s; cancelling it where it is", self.name, self.stop_timeout)
        try:
            # Held until the task is done: it cannot begin another step before the cancel reaches it.
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        finally:
            if held:
                self._step.release()


async def woken_or_timed_out(wake: asyncio.Event, seconds: float) -> None:
    """Wait until `wake` is set or `seconds` pass, then clear it: the top of a polling loop (the outbox
    relay, the mail sender, webhook deliveries) that a commit can wake early.

    Not asyncio.wait_for: on Python 3.11 it swallows a cancel that arrives as the event fires, and
    `BackgroundLoop.stop()` would then wait for the loop forever."""
    try:
        async with asyncio.timeout(seconds):
            await wake.wait()
    except TimeoutError:
        pass
    wake.clear()
