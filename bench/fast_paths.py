"""Benchmark: each fast path (`atelier_common.fast`) against the plain library path it replaces, in
CPU per operation (`time.process_time()` of the process doing the work, so the other processes on
a busy machine count less), A and B alternated `--rounds` times. Figures only, no assertion.

- `http`: the gateway's forward of a small JSON GET, `PooledUpstream` (the platform's HTTP/1.1
  client) vs `HttpxUpstream`, against a uvicorn in another process; CPU of the forwarding process.
- `internal`: one call to another service (`InternalApi.call`, a small JSON GET), over the
  platform's HTTP/1.1 client (the `http1` fast path) vs httpx; CPU of the calling process.
- `statements`: one inbox delivery (`inbox.handle_once`: session, BEGIN, the claim, COMMIT) and one
  primary-key SELECT inside a transaction, `db.Statement` fast vs plain, on PostgreSQL.
- `protocol`: a small JSON answer served by uvicorn with the fast path's httptools protocol, uvicorn's
  own httptools (which lets trailers in) and h11 (the switch's plain position), loaded by wrk (one
  thread, 8 connections); CPU of the server process (/proc).

    uv run python -m bench.fast_paths [--only http internal statements protocol] [--rounds 4] [-n 2000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench import ROOT, add_servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(port: int, http: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "--app-dir", str(ROOT), "bench.fast_paths:app",
                                "--host", "127.0.0.1", "--port", str(port), "--http", http, "--no-access-log",
                                "--log-level", "warning", "--loop", "uvloop", "--lifespan", "off"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.1)
    raise RuntimeError("the server did not start")


BODY = b'{"items":[{"id":"stable-diffusion","name":"A model","credits":1}],"total":1}'


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]})
    await send({"type": "http.response.body", "body": BODY})


# --- http -----------------------------------------------------------------------------------------

async def _forward_cpu(upstream: Any, n: int) -> float:
    headers = [(b"host", b"shop.example"), (b"accept", b"application/json")]
    scope = {"type": "http", "method": "GET", "path": "/api/v1/generation/models", "query_string": b"",
             "headers": headers}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    def on_start(status: int, headers: list[tuple[bytes, bytes]]) -> None:
        return None

    for _ in range(200):  # warm: connections open, code paths hot
        await upstream.forward("svc", scope, receive, send, headers, on_start)
    started = time.process_time()
    for _ in range(n):
        await upstream.forward("svc", scope, receive, send, headers, on_start)
    return (time.process_time() - started) / n * 1e6


def bench_http(rounds: int, n: int) -> None:
    import uvloop

    from atelier_gateway.upstream import HttpxUpstream, PooledUpstream

    port = free_port()
    server = serve(port, "httptools")
    try:
        figures: dict[str, list[float]] = {"PooledUpstream (http1)": [], "HttpxUpstream": []}

        async def run() -> None:
            for _ in range(rounds):
                for name, kind in (("PooledUpstream (http1)", PooledUpstream), ("HttpxUpstream", HttpxUpstream)):
                    upstream = kind({"svc": f"http://127.0.0.1:{port}"}, timeout=30, connections=10)
                    figures[name].append(await _forward_cpu(upstream, n))
                    await upstream.close()

        uvloop.run(run())
    finally:
        server.terminate()
        server.wait()
    report("http: one forward of a small GET, µs of CPU in the gateway's process", figures)


# --- internal -----------------------------------------------------------------------------------

def bench_internal(rounds: int, n: int) -> None:
    import httpx
    import uvloop

    from atelier_common import fast
    from atelier_common.internal import InternalApi
    from atelier_common.settings import AtelierSettings

    port = free_port()
    server = serve(port, "httptools")
    settings = AtelierSettings(environment="test", service_urls={"svc": f"http://127.0.0.1:{port}"})
    try:
        figures: dict[str, list[float]] = {"InternalApi over http1": [], "InternalApi over httpx": []}

        async def calls(api: InternalApi, count: int) -> None:
            for _ in range(count):
                (await api.call("svc", "GET", "/internal/orders/1")).json()

        async def run() -> None:
            for _ in range(rounds):
                for name, switch in (("InternalApi over http1", "all"), ("InternalApi over httpx", "none")):
                    fast.switch(switch)
                    async with httpx.AsyncClient() as http:
                        api = InternalApi(http, settings)
                        await calls(api, 200)  # warm: connections open, code paths hot
                        started = time.process_time()
                        await calls(api, n)
                        figures[name].append((time.process_time() - started) / n * 1e6)
                        await api.aclose()
            fast.switch(None)

        uvloop.run(run())
    finally:
        server.terminate()
        server.wait()
    report("internal: one call to another service, µs of CPU in the caller's process", figures)


# --- statements -----------------------------------------------------------------------------------

def bench_statements(rounds: int, n: int, postgres: str) -> None:
    import uvloop
    from sqlalchemy import select

    from atelier_common import fast, inbox
    from atelier_common.columns import table_of
    from atelier_common.db import Database, Statement
    from atelier_common.inbox import InboxMessage
    from atelier_common.migrations import ensure_database

    url = f"{postgres.rstrip('/')}/atelier_bench_fast_{uuid.uuid4().hex[:8]}".replace(
        "postgresql://", "postgresql+psycopg://")
    ensure_database(url)
    db = Database(url, service="bench", pool_size=2, max_overflow=0)
    table = table_of(InboxMessage)
    by_id = Statement(select(table.c.event_id).where(table.c.event_id == fast_bind()))
    delivery: dict[str, list[float]] = {"fast": [], "plain": []}
    single: dict[str, list[float]] = {"fast": [], "plain": []}

    async def handler(event: Any, context: Any) -> None:
        return None

    async def run() -> None:
        async with db.engine.begin() as conn:
            await conn.run_sync(InboxMessage.metadata.create_all, tables=[table])
        for _ in range(rounds):
            for position in ("fast", "plain"):
                fast.switch("all" if position == "fast" else "none")
                for _ in range(100):
                    await inbox.handle_once(db, "bench", _envelope(), None, handler, None)
                started = time.process_time()
                for _ in range(n):
                    await inbox.handle_once(db, "bench", _envelope(), None, handler, None)
                delivery[position].append((time.process_time() - started) / n * 1e6)
                async with db.transaction() as session:
                    for _ in range(100):
                        await by_id.rows(session, {"id": uuid.uuid4()})
                    started = time.process_time()
                    for _ in range(n):
                        await by_id.rows(session, {"id": uuid.uuid4()})
                    single[position].append((time.process_time() - started) / n * 1e6)
        fast.switch(None)
        await db.dispose()

    try:
        uvloop.run(run())
    finally:
        subprocess.run(["psql", postgres, "-qc", f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]}"],
                       capture_output=True, check=False)
    report("statements: one inbox delivery (no-op handler), µs of CPU", delivery)
    report("statements: one primary-key SELECT inside a transaction, µs of CPU", single)


def fast_bind() -> Any:
    from sqlalchemy import bindparam

    return bindparam("id")


def _envelope() -> Any:
    from atelier_common.events import Envelope

    return Envelope(type="bench.nothing", producer="bench", data={})


# --- protocol -------------------------------------------------------------------------------------

def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_protocol(rounds: int, seconds: int) -> None:
    from atelier_common.fast.protocol import HTTPTOOLS

    if shutil.which("wrk") is None:
        print("protocol: wrk is not installed")
        return
    kinds = {"httptools, trailers dropped (fast)": HTTPTOOLS, "uvicorn httptools": "httptools", "uvicorn h11 (plain)": "h11"}
    figures: dict[str, list[float]] = {name: [] for name in kinds}
    for _ in range(rounds):
        for name, http in kinds.items():
            port = free_port()
            server = serve(port, http)
            try:
                url = f"http://127.0.0.1:{port}/"
                subprocess.run(["wrk", "-t1", "-c8", "-d1s", url], capture_output=True, check=True)
                before = _cpu_seconds(server.pid)
                out = subprocess.run(["wrk", "-t1", "-c8", f"-d{seconds}s", url], capture_output=True, text=True,
                                     check=True).stdout
                used = _cpu_seconds(server.pid) - before
                requests = int(next(line for line in out.splitlines() if "requests in" in line).split()[0])
                figures[name].append(used / requests * 1e6)
            finally:
                server.terminate()
                server.wait()
    report("protocol: one small JSON answer, µs of CPU in the server process", figures)


def report(title: str, figures: dict[str, list[float]]) -> None:
    print(title)
    for name, values in figures.items():
        print(f"  {name:32} " + "  ".join(f"{v:7.1f}" for v in values) + f"   min {min(values):7.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", default=["http", "internal", "statements", "protocol"])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=4, help="each protocol load")
    add_servers(parser, amqp=False)
    args = parser.parse_args()
    if "http" in args.only:
        bench_http(args.rounds, args.n)
    if "internal" in args.only:
        bench_internal(args.rounds, args.n)
    if "statements" in args.only:
        bench_statements(args.rounds, args.n, args.postgres)
    if "protocol" in args.only:
        bench_protocol(args.rounds, args.seconds)


if __name__ == "__main__":
    main()
