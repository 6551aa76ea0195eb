"""A loopback TCP proxy whose link can be cut (connections refused), blackholed (accepted, never
answered) and restored: a broker's or Redis's outage on demand."""

from __future__ import annotations

import asyncio
import contextlib


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
