"""Benchmark: one read route through a compatibility profile vs natively, through the same gateway.

The embedded platform (`atelier dev`, one process, SQLite), load from this second process (wrk when
installed, else bench/load.py), a few connections so the machine is not saturated: what is left is
the profile's own cost (matching, the internal call through the gateway's proxy, the translation).
Prints req/s, p50 and p99 of each pair and the ratios profile/native.

    uv run python -m bench.compat_overhead --seconds 8 --concurrency 4
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import httpx

from atelier_testing.platform import embedded
from bench.gateway_overhead import python_load
from bench.wrk import wrk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    load = wrk if shutil.which("wrk") else python_load
    env = {"ATELIER_GATEWAY_RATE_LIMIT_DEFAULT": "1000000000/hour",
           "ATELIER_GATEWAY_RATE_LIMIT_PER_IP": "1000000000/hour", "ATELIER_ACCESS_LOG": "false",
           "ATELIER_OTEL_EXPORTER": "none"}
    with tempfile.TemporaryDirectory(prefix="atelier-bench-compat-") as tmp, embedded(Path(tmp), env) as platform:
        with httpx.Client(base_url=platform.url, timeout=30) as client:
            response = client.get("/api/v1/products", params={"limit": 1, "kind": "physical"})
            product = response.json()["results"][0]["id"]
            anon = client.get("/api/v1/cart").headers["x-anonymous-token"]  # public reads mint none
        headers = {"X-Anonymous-Token": anon}
        pairs = {
            "product detail (S1 marbelle)": (f"/api/v1/products/{product}",
                                             f"/compat/marbelle/api/v1/products/{product}/"),
            "generation models (S4 figureforge)": ("/api/v1/generation/models", "/compat/figureforge/api/images/models/"),
        }
        results = {}
        for name, (native, profile) in pairs.items():
            for path in (native, profile):  # warm up
                load(f"{platform.url}{path}", 2, args.concurrency, headers)
            # interleaved, twice, the better run of each kept: the machine is shared, its noise is not ours
            runs: dict[str, list[dict[str, float]]] = {"native": [], "profile": []}
            for _ in range(2):
                for side, path in (("native", native), ("profile", profile)):
                    runs[side].append(load(f"{platform.url}{path}", args.seconds, args.concurrency, headers))
            results[name] = {side: max(r, key=lambda x: x["rps"]) for side, r in runs.items()}

    print(f"load: {'wrk' if shutil.which('wrk') else 'bench/load.py'}, {args.concurrency} connections, "
          f"{args.seconds}s each, embedded mode (one process)")
    for name, figures in results.items():
        print(f"GET {name}")
        print(f"{'':8} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
        for side, r in figures.items():
            print(f"{side:8} {r['rps']:>10.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['errors']:>7}")
        native, profile = figures["native"], figures["profile"]
        print(f"ratio profile/native: req/s {profile['rps'] / native['rps']:.2f}, "
              f"p50 {profile['p50_ms'] / native['p50_ms']:.2f} (+{profile['p50_ms'] - native['p50_ms']:.2f} ms)")


if __name__ == "__main__":
    main()
