"""A loopback TCP proxy whose link can be cut (connections refused), blackholed (accepted, never
answered) and restored: a broker's or Redis's outage on demand."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any
from urllib.parse import urlsplit


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._holding = False  # blackholed: accept, read nothing, answer nothing

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._holding:
            self._writers.add(writer)  # held open until `restore`/`cut`/`stop` aborts it
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.close()
            return
        self._writers.update({writer, up_writer})

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers.difference_update({writer, up_writer})

    @property
    def open_connections(self) -> int:
        """The connections open through (or, blackholed, held by) the proxy, each side counted."""
        return len(self._writers)

    async def cut(self) -> None:
        """Stop accepting and drop every open connection."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for w in list(self._writers):  # before waiting: a server may wait for its connections
            w.transport.abort()
        self._writers.clear()
        if server is not None:
            await server.wait_closed()

    async def blackhole(self) -> None:
        """Drop every open connection; new ones are accepted and never answered."""
        await self.cut()
        self._holding = True
        await self.start()

    async def restore(self) -> None:
        if self._holding:
            await self.cut()
            self._holding = False
        if self._server is None:
            await self.start()

    async def stop(self) -> None:
        await self.cut()


class RedisLink:
    """A `TcpProxy` to a Redis, on an event loop of its own: for a platform running in child processes,
    driven from a test or a benchmark, to refuse, blackhole and restore that Redis at will."""

    def __init__(self, redis_url: str) -> None:
        target = urlsplit(redis_url)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379)
        self._do(self.proxy.start())
        self.url = f"redis://127.0.0.1:{self.proxy.port}{target.path or '/0'}"

    def _do(self, coro: Coroutine[Any, Any, object]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def refuse(self) -> None:
        self._do(self.proxy.cut())

    def blackhole(self) -> None:
        self._do(self.proxy.blackhole())

    def restore(self) -> None:
        self._do(self.proxy.restore())

    def close(self) -> None:
        self._do(self.proxy.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
