"""Benchmark: catalog search, filtered list and detail pages at two catalog sizes.

Creates a PostgreSQL database of its own, migrates it, seeds `--small` products
(`atelier_catalog.demo.seed_bulk`), starts the catalog app with uvicorn in a second process,
measures each page with wrk (or bench/load.py), then grows the catalog to `--large` and measures
again. Prints p50/p99 at both sizes and large/small ratios (the cost should grow at most
logarithmically). Measured directly against catalog; bench/gateway_overhead.py gives the
gateway's own share. The database is dropped at the end.

    uv run python bench/catalog_search.py --small 10000 --large 1000000 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateway_overhead import python_load, wrk  # noqa: E402

PAGES = {
    "search": "/api/v1/products?search=carrara%20slab&limit=20",
    "filtered list": "/api/v1/products?category=natural-stone&min_price=100&max_price=600&in_stock=true"
                     "&ordering=-price&limit=20&offset=200",
    "detail": None,  # filled with a real slug after seeding
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database(server: str, name: str, *, drop: bool = False) -> None:
    import psycopg

    with psycopg.connect(f"{server.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' if drop else f'CREATE DATABASE "{name}"')


async def _seed(url: str, n: int) -> None:
    from atelier_catalog.demo import seed_bulk
    from atelier_common.db import Database

    db = Database(url, service="catalog")
    try:
        start = time.perf_counter()
        await seed_bulk(db, n)
        print(f"  seeded {n:,} products in {time.perf_counter() - start:.1f} s", flush=True)
    finally:
        await db.dispose()


def _measure(base: str, seconds: int, concurrency: int) -> dict[str, dict[str, float]]:
    load = wrk if os.path.exists("/usr/bin/wrk") or any(
        os.path.exists(os.path.join(p, "wrk")) for p in os.environ.get("PATH", "").split(":")) else python_load
    results = {}
    for name, path in PAGES.items():
        httpx.get(base + path, timeout=30).raise_for_status()  # warm up and check it answers
        results[name] = load(base + path, seconds, concurrency, {})
        print(f"  {name:14s} p50 {results[name]['p50_ms']:7.2f} ms  p99 {results[name]['p99_ms']:7.2f} ms  "
              f"{results[name]['rps']:8.0f} req/s  errors {results[name]['errors']}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from atelier_common.migrations import upgrade

    import atelier_catalog

    name = f"atelier_bench_catalog_{uuid.uuid4().hex[:8]}"
    url = f"{args.postgres.rstrip('/')}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    _database(args.postgres, name)
    server = None
    try:
        upgrade(Path(atelier_catalog.__file__).parent / "migrations", url)
        asyncio.run(_seed(url, args.small))
        port = _free_port()
        env = {**os.environ, "ATELIER_CATALOG_DATABASE_URL": url, "ATELIER_LOG_LEVEL": "WARNING",
               "ATELIER_CATALOG_AUTO_MIGRATE": "false", "ATELIER_CATALOG_RESERVATION_SWEEP_SECONDS": "0"}
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "atelier_catalog.app:create_app", "--port", str(port),
             "--workers", str(args.workers), "--no-access-log", "--log-level", "warning"], env=env)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("catalog did not start")
            time.sleep(0.2)
        slug = httpx.get(base + "/api/v1/products?search=calacatta&limit=1").json()["results"][0]["slug"]
        PAGES["detail"] = f"/api/v1/products/{slug}"

        print(f"{args.small:,} products:", flush=True)
        small = _measure(base, args.seconds, args.concurrency)
        asyncio.run(_seed(url, args.large - args.small))
        print(f"{args.large:,} products:", flush=True)
        large = _measure(base, args.seconds, args.concurrency)

        print("\nratio large/small (p50, p99):")
        for page in PAGES:
            print(f"  {page:14s} {large[page]['p50_ms'] / small[page]['p50_ms']:5.2f}x  "
                  f"{large[page]['p99_ms'] / small[page]['p99_ms']:5.2f}x")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        _database(args.postgres, name, drop=True)


if __name__ == "__main__":
    main()
