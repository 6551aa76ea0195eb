"""The floor under any Python gateway on this machine: a uvloop TCP relay that copies bytes between
a client's connection and one upstream connection of its own, parsing nothing (no HTTP, no token,
no header). `hot_paths.py` measures the cheap route through it beside the gateway: what it costs
is the least a Python process in the path can cost (two more sockets' system calls per request on
the same cores), so its ratio to direct is the best a gateway written in Python could reach here.

    uv run python -m bench.tcp_relay LISTEN_PORT UPSTREAM_PORT [--processes N]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing

import uvloop


class _Upstream(asyncio.Protocol):
    def __init__(self, client: asyncio.Transport) -> None:
        self.client = client

    def data_received(self, data: bytes) -> None:
        self.client.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.client.close()


class _Client(asyncio.Protocol):
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.upstream: asyncio.Transport | None = None
        self.early: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.opening = asyncio.get_running_loop().create_task(self._open())

    async def _open(self) -> None:
        upstream, _ = await asyncio.get_running_loop().create_connection(
            lambda: _Upstream(self.transport), "127.0.0.1", self.upstream_port)
        self.upstream = upstream
        for data in self.early:
            upstream.write(data)
        self.early.clear()

    def data_received(self, data: bytes) -> None:
        if self.upstream is None:
            self.early.append(data)
        else:
            self.upstream.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.upstream is not None:
            self.upstream.close()


def serve(port: int, upstream_port: int) -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(
            lambda: _Client(upstream_port), "127.0.0.1", port, reuse_port=True)
        await server.serve_forever()

    uvloop.run(main())


def start(port: int, upstream_port: int, processes: int) -> list[multiprocessing.Process]:
    """`processes` relays sharing `port` (SO_REUSEPORT), as the gateway's workers share theirs."""
    started = [multiprocessing.Process(target=serve, args=(port, upstream_port), daemon=True)
               for _ in range(processes)]
    for process in started:
        process.start()
    return started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("port", type=int)
    parser.add_argument("upstream_port", type=int)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()
    for process in start(args.port, args.upstream_port, args.processes):
        process.join()


if __name__ == "__main__":
    main()
