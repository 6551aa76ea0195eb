"""Stopping a background loop in the middle of its step, for the tests of `atelier_common.loops`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def stop_inside_a_step(stop: Callable[[], Awaitable[None]], let_go: Callable[[], None], *,
                             timeout: float = 10) -> None:
    """Begin `stop()` while the loop's step is held, then let the step go on (`let_go`); return once
    `stop()` has (within `timeout`)."""
    stopping = asyncio.ensure_future(stop())
    await asyncio.sleep(0)  # stop() is under way
    let_go()
    async with asyncio.timeout(timeout):
        await stopping
