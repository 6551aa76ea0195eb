"""Benchmark: catalog search, filtered list and detail pages through the gateway, at two sizes.

Starts the distributed topology (`atelier up --no-split --workers catalog=2`: a process per
service, two for catalog, and the gateway, on PostgreSQL and RabbitMQ), seeds the catalog to the first of `--sizes`
(`atelier_catalog.demo.seed_bulk`), measures each page through the gateway with wrk (or
bench/load.py), grows the catalog to the next size and measures again. Prints p50/p99 at each
size and the largest/smallest ratios (cost should grow at most logarithmically).

Seeding a million products takes about two minutes; `--keep NAME` keeps the databases (named
`atelier_<NAME>_*`) so that a second run reuses what is already seeded.

    uv run python -m bench.catalog_search --sizes 10000 1000000 --seconds 10
"""

from __future__ import annotations

import asyncio
import shutil
import time

import httpx

from bench import command_line
from bench.gateway_overhead import python_load
from bench.own_platform import Run
from bench.wrk import wrk

PAGES = {
    "search": "/api/v1/products?search=carrara%20slab&limit=20",
    "filtered list": "/api/v1/products?category=natural-stone&min_price=100&max_price=600&in_stock=true"
                     "&ordering=-price&limit=20&offset=200",
    "detail": "",  # a real slug, found after seeding
}


async def _grow(url: str, target: int) -> None:
    """Seed bulk products until the catalog holds `target` products."""
    from sqlalchemy import text

    from atelier_catalog.demo import seed_bulk
    from atelier_common.db import Database

    db = Database(url, service="catalog")
    try:
        async with db.engine.connect() as connection:
            have = (await connection.execute(text("SELECT count(*) FROM product"))).scalar_one()
        if have < target:
            start = time.perf_counter()
            await seed_bulk(db, target - have)
            print(f"  seeded {target - have:,} products in {time.perf_counter() - start:.1f} s", flush=True)
    finally:
        await db.dispose()


def _measure(base: str, seconds: int, concurrency: int, headers: dict[str, str]) -> dict[str, dict[str, float]]:
    load = wrk if shutil.which("wrk") else python_load
    results = {}
    for name, path in PAGES.items():
        httpx.get(base + path, headers=headers, timeout=30).raise_for_status()  # it answers
        load(base + path, 2, concurrency, headers)  # warm: prepared statements, cached estimates
        results[name] = load(base + path, seconds, concurrency, headers)
        r = results[name]
        print(f"  {name:14s} p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  {r['rps']:7.0f} req/s"
              f"  errors {r['errors']}", flush=True)
    return results


def main() -> None:
    parser = command_line(__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000],
                        help="catalog sizes to measure at, smallest first")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--catalog-workers", type=int, default=2,
                        help="catalog API processes (the other services run one each)")
    parser.add_argument("--keep", metavar="NAME", help="keep (and reuse) databases named atelier_NAME_*")
    args = parser.parse_args()

    trial = Run.new(name=args.keep)
    prefix = trial.prefix
    topology = trial.topology(args.postgres, args.amqp, split=False, api_workers={"catalog": args.catalog_workers},
                              env={
                                  "ATELIER_CATALOG_RESERVATION_SWEEP_SECONDS": "0",
                                  # the limiter stays on the hot path, with a ceiling the load never reaches
                                  "ATELIER_GATEWAY_RATE_LIMIT_DEFAULT": "1000000000/hour",
                                  "ATELIER_GATEWAY_RATE_LIMIT_PER_IP": "1000000000/hour",
                              })
    catalog_url = f"{args.postgres.rstrip('/')}/{prefix}catalog".replace("postgresql://", "postgresql+psycopg://", 1)
    results = {}
    with trial.cleanup(args.postgres, args.amqp, topology, keep=bool(args.keep)):
        topology.prepare()  # creates and migrates the databases
        asyncio.run(_grow(catalog_url, args.sizes[0]))
        topology.start()
        if not topology.wait_ready(180):
            raise SystemExit("the platform did not become healthy")
        gateway = trial.url
        with httpx.Client(base_url=gateway, timeout=30) as client:
            response = client.get("/api/v1/products?search=calacatta&limit=1")
            anon = client.get("/api/v1/cart").headers["x-anonymous-token"]  # public reads mint none
            PAGES["detail"] = f"/api/v1/products/{response.json()['results'][0]['slug']}"
        headers = {"X-Anonymous-Token": anon}
        for size in args.sizes:
            asyncio.run(_grow(catalog_url, size))
            print(f"{size:,} products, through the gateway, {args.concurrency} connections, "
                  f"{args.catalog_workers} catalog processes:", flush=True)
            results[size] = _measure(gateway, args.seconds, args.concurrency, headers)

    if len(args.sizes) < 2:
        return
    small, large = results[args.sizes[0]], results[args.sizes[-1]]
    print(f"\n{'page':14s} {'p50 small':>10} {'p50 large':>10} {'p99 small':>10} {'p99 large':>10}"
          f" {'p50 ratio':>10} {'p99 ratio':>10}")
    for page in PAGES:
        s, b = small[page], large[page]
        print(f"{page:14s} {s['p50_ms']:10.2f} {b['p50_ms']:10.2f} {s['p99_ms']:10.2f} {b['p99_ms']:10.2f}"
              f" {b['p50_ms'] / s['p50_ms']:10.2f} {b['p99_ms'] / s['p99_ms']:10.2f}")


if __name__ == "__main__":
    main()
