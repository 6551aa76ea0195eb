"""Benchmark: GET /api/v1/products through the gateway vs directly against catalog.

Distributed mode on PostgreSQL and RabbitMQ (one process per service, relay and consumers
inside it), the same data for both runs, load from a second process (wrk when installed, else
bench/load.py). Prints req/s, p50 and p99 for both and the ratio gateway/direct.

    make bench            # or: uv run python -m bench.gateway_overhead --seconds 15
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import httpx

from atelier_testing.platform import wait_healthy
from bench import ROOT, command_line
from bench.own_platform import Run, staff_token
from bench.wrk import wrk

PATH = "/api/v1/products?limit=20"
# A cheap route (a static list) shows the gateway's own cost, which a heavy page would hide.
CHEAP = ("generation", "/api/v1/generation/models")


def python_load(url: str, seconds: int, concurrency: int, headers: dict[str, str]) -> dict[str, float]:
    cmd = [sys.executable, "-m", "bench.load", url, "--seconds", str(seconds), "--concurrency", str(concurrency)]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    return json.loads(subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout)


def main() -> None:
    parser = command_line(__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--products", type=int, default=60)
    parser.add_argument("--cheap", action="store_true", help=f"also measure {CHEAP[1]} (a static list)")
    args = parser.parse_args()

    trial = Run.new()
    topology = trial.topology(args.postgres, args.amqp, split=False, env={
        "ATELIER_CATALOG_SEED_DEMO_DATA": "true",
        # the limiter stays on the hot path, with a ceiling the load never reaches
        "ATELIER_GATEWAY_RATE_LIMIT_DEFAULT": "1000000000/hour",
        "ATELIER_GATEWAY_RATE_LIMIT_PER_IP": "1000000000/hour",
    })
    topology.prepare()
    topology.start()
    gateway = trial.url
    direct = topology.service_urls()["catalog"]
    with trial.cleanup(args.postgres, args.amqp, topology):
        wait_healthy(gateway, topology.children[-1][1], 120)
        with httpx.Client(base_url=gateway, timeout=30) as client:
            token = staff_token(client)
            for i in range(args.products):
                client.post("/api/v1/products", headers={"Authorization": f"Bearer {token}"}, json={
                    "name": f"Bench stone {i}", "sku": f"BENCH-{trial.name}-{i}", "price": f"{10 + i}.00",
                    "stock_quantity": 5, "kind": "physical", "description": "Benchmark product"}).raise_for_status()
            client.get(PATH).raise_for_status()
            anon = client.get("/api/v1/cart").headers["x-anonymous-token"]  # public reads mint none
        load = wrk if shutil.which("wrk") else python_load
        headers = {"X-Anonymous-Token": anon}
        load(f"{direct}{PATH}", 2, args.concurrency, headers)  # warm up both paths
        load(f"{gateway}{PATH}", 2, args.concurrency, headers)
        results = {"direct": load(f"{direct}{PATH}", args.seconds, args.concurrency, headers),
                   "gateway": load(f"{gateway}{PATH}", args.seconds, args.concurrency, headers)}
        cheap = {}
        if args.cheap:
            cheap_direct = topology.service_urls()[CHEAP[0]]
            load(f"{cheap_direct}{CHEAP[1]}", 2, args.concurrency, headers)
            cheap = {"direct": load(f"{cheap_direct}{CHEAP[1]}", args.seconds, args.concurrency, headers),
                     "gateway": load(f"{gateway}{CHEAP[1]}", args.seconds, args.concurrency, headers)}

    print(f"load: {'wrk' if shutil.which('wrk') else 'bench/load.py'}, "
          f"{args.concurrency} connections, {args.seconds}s each, 1 gateway + 1 catalog process")
    for path, figures in ((PATH, results), (CHEAP[1], cheap)):
        if not figures:
            continue
        print(f"GET {path}")
        print(f"{'':8} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
        for name, r in figures.items():
            print(f"{name:8} {r['rps']:>10.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['errors']:>7}")
        print(f"ratio gateway/direct: {figures['gateway']['rps'] / figures['direct']['rps']:.2f}")


if __name__ == "__main__":
    main()
