"""A service app running its lifespan, reached over an in-process ASGI client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI

from atelier_common.events.envelope import Envelope, IntegrationEvent
from atelier_testing.bus import RecordingBus

T = TypeVar("T")


class ServiceHarness:
    def __init__(self, app: FastAPI, bus: RecordingBus, *, own_bus: bool = True) -> None:
        self.app = app
        self.bus = bus
        self._own_bus = own_bus
        self._stack = AsyncExitStack()
        self.client: httpx.AsyncClient

    async def __aenter__(self) -> ServiceHarness:
        await self._stack.enter_async_context(self.app.router.lifespan_context(self.app))
        if self._own_bus:
            await self.bus.start()
            self._stack.push_async_callback(self.bus.stop)
        self.client = await self._stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://testserver"))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    async def drain(self) -> None:
        await self.bus.drain()

    async def deliver(self, event: IntegrationEvent, *, producer: str = "test", envelope_id: Any = None) -> Envelope:
        """Publish `event` as another service would and wait until it is handled."""
        env = Envelope.wrap(event, producer=producer)
        if envelope_id is not None:
            env = env.model_copy(update={"id": envelope_id})
        await self.bus.publish([env])
        await self.drain()
        return env

    def published(self, type_: str) -> list[Envelope]:
        return [e for e in self.bus.published if e.type == type_]


async def poll_until(check: Callable[[], Awaitable[T]], *, timeout: float = 15.0, interval: float = 0.05,
                     message: str = "condition") -> T:
    """Call `check` until it returns something truthy or the deadline passes."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"{message} not reached within {timeout}s (last: {last!r})")
