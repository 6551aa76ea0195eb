"""Benchmark: the bare ceiling of this machine, the yardstick every other figure is divided by.

Two apps with nothing of Atelier in them, served the way the services are (uvicorn with uvloop and
httptools, one worker per core), loaded with the same `wrk -t2 -c32`:

- `hello`: FastAPI returning a small JSON object;
- `select`: FastAPI running one indexed SELECT (a primary-key lookup in a 10,000-row table)
  through a psycopg connection pool, answering the row as JSON.

    uv run python -m bench.ceiling [--seconds 20]      # prints req/s, p50, p99; --json for bench/all.py
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench import ROOT, command_line

ROWS = 10_000


def hello() -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/hello")
    async def _hello() -> dict[str, str]:
        return {"status": "ok", "service": "ceiling"}

    return app


def select() -> Any:
    from fastapi import FastAPI
    from psycopg_pool import AsyncConnectionPool

    pool = AsyncConnectionPool(os.environ["CEILING_DSN"], min_size=4, max_size=4, open=False)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        await pool.open()
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/row/{row_id}")
    async def _row(row_id: int) -> dict[str, Any]:
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT id, name, price FROM item WHERE id = %s", (row_id,))
            found = await cur.fetchone()
        return {"id": found[0], "name": found[1], "price": str(found[2])} if found else {}

    return app


def serve(factory: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "uvicorn", f"bench.ceiling:{factory}", "--factory", "--app-dir", str(ROOT),
           "--port", str(port), "--workers", str(os.cpu_count() or 1), "--loop", "uvloop", "--http", "httptools",
           "--no-access-log", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env={**os.environ, **env})
    deadline = time.monotonic() + 60
    probe = "/hello" if factory == "hello" else "/row/1"
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"the {factory} app did not start")


def measure(postgres: str, seconds: int, concurrency: int) -> dict[str, dict[str, float]]:
    from atelier_testing.platform import free_port_block
    from bench.checkout import tree_cpu
    from bench.wrk import cpu_per_request, wrk

    name = f"atelier_ceiling_{uuid.uuid4().hex[:8]}"
    server = postgres.rstrip("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = f"{server}/{name}"
    out: dict[str, dict[str, float]] = {}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE item (id integer PRIMARY KEY, name text NOT NULL, price numeric(12,2) NOT NULL)")
            conn.execute("INSERT INTO item SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, %s) g", (ROWS,))
            conn.execute("ANALYZE item")
        port = free_port_block(2)
        procs.append(serve("hello", port, {}))
        procs.append(serve("select", port + 1, {"CEILING_DSN": dsn}))
        hello_url = f"http://127.0.0.1:{port}/hello"
        wrk(hello_url, 3, concurrency, {})
        before = tree_cpu(procs[0].pid)
        out["fastapi json"] = wrk(hello_url, seconds, concurrency, {})
        # The servers' CPU per answer: steadier than req/s on a machine shared with other work.
        out["fastapi json"]["cpu_us"] = cpu_per_request(tree_cpu(procs[0].pid) - before, out["fastapi json"], seconds)
        script = Path(f"/tmp/{name}.lua")
        ids = ", ".join(str(random.randint(1, ROWS)) for _ in range(500))
        script.write_text(f"ids = {{{ids}}}\nrequest = function()\n"
                          "  return wrk.format('GET', '/row/' .. ids[math.random(#ids)])\nend\n")
        try:
            base = f"http://127.0.0.1:{port + 1}"
            wrk(base, 3, concurrency, script=script)
            out["indexed select"] = wrk(base, seconds, concurrency, script=script)
        finally:
            script.unlink(missing_ok=True)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return out


def main() -> None:
    parser = command_line(__doc__, amqp=False)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (apt-get install wrk)")
    figures = measure(args.postgres, args.seconds, args.concurrency)
    if args.json:
        print(json.dumps(figures))
        return
    for name, r in figures.items():
        print(f"{name:16s} {r['rps']:8.0f} req/s  p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms  errors {r['errors']}")


if __name__ == "__main__":
    main()
