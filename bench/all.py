"""`make bench`: every performance figure of issues #15 and #16 in one run, with its target and its
ratio to this machine's bare ceiling; then `bench/figures.json` and `docs/capacity.md` are rewritten
from what was measured.

Runs, one after the other (never two loads at once on 2 cores):
1. `ceiling.py`: FastAPI returning JSON, and one indexed SELECT through a psycopg pool;
2. `hot_paths.py`: list, search, detail and add to cart through the gateway (distributed, 10,000
   products, `wrk -t2 -c32`), cache on and off, and the cheap route through the gateway vs direct;
3. `checkout.py`: 8 concurrent whole guest checkouts: checkouts/s, whole-checkout p50/p99,
   webhook accepted → `paid` visible p50/p99 (the default storefront's guests, who stay guests:
   `python -m bench.checkout --create-account` measures those who ask for an account);
4. `relay.py`: outbox rows one relay publishes per second;
5. `generation.py`: local generator jobs/s and a 12 MP restoration with the worker's peak RSS;
6. `scale_out.py`: 1 vs 2 catalog API processes, 1 vs 2 cart consumers on one queue;
7. `ceiling.py` once more: this machine's speed drifts within minutes, and the two ceilings show
   by how much during the run.

    uv run python -m bench.all [--seconds 20] [--only ceiling hot checkout relay generation scale]
    uv run python -m bench.all --no-write     # print only, leave figures.json and the doc alone

Figures only, no assertion: a target missed is printed as missed. The data-scale benchmark
(`make bench-data`, `bench/data_scale.py`) is separate: its seeding alone outlasts this whole run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from atelier_platform.processes import default_gateway_workers
from bench import ROOT

HERE = Path(__file__).resolve().parent

STEPS = ("ceiling", "hot", "checkout", "relay", "generation", "scale")


def _row(name: str, value: float, unit: str, target: str = "", ceiling: float | None = None) -> str:
    ratio = f"{value / ceiling:6.3f}" if ceiling else "      "
    shown = f"{value:10.2f}" if unit == "ratio" else f"{value:10.1f}"
    return f"{name:56s} {shown} {unit:8s} {ratio}  {target}"


def main() -> None:
    from bench import hot_paths

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    hot_paths.add_arguments(parser)
    parser.add_argument("--only", nargs="+", choices=STEPS, default=list(STEPS))
    parser.add_argument("--no-write", action="store_true", help="do not rewrite figures.json and docs/capacity.md")
    args = parser.parse_args()
    started = time.monotonic()
    got: dict[str, dict] = {}

    if "ceiling" in args.only:
        from bench import ceiling

        print("== bare ceiling", flush=True)
        got["ceiling"] = ceiling.measure(args.postgres, args.seconds, args.concurrency)
    if "hot" in args.only:
        print("== hot paths through the gateway (cache on, then off)", flush=True)
        got["hot_on"] = hot_paths.run(args, cache=True)
        got["hot_off"] = hot_paths.run(args, cache=False)
    if "checkout" in args.only:
        from bench import checkout

        print("== whole guest checkouts, 8 concurrent", flush=True)
        got["checkout"] = checkout.measure(args.postgres, args.amqp, concurrency=8, seconds=30)
    if "relay" in args.only:
        import asyncio

        from bench import relay

        print("== outbox relay", flush=True)
        got["relay"] = asyncio.run(relay.measure(args.postgres, args.amqp, 5000))
    if "generation" in args.only:
        print("== generation", flush=True)
        got["generation"] = {kind: json.loads(subprocess.run(
            [sys.executable, "-m", "bench.generation", "--child", kind], cwd=ROOT, capture_output=True, text=True,
            check=True).stdout.strip().splitlines()[-1]) for kind in ("generate", "restore")}
    if "scale" in args.only:
        from bench import scale_out

        print("== scale-out", flush=True)
        ns = argparse.Namespace(postgres=args.postgres, amqp=args.amqp, seconds=15, concurrency=16, events=3000)
        got["scale_api"] = scale_out.api_figures(ns)
        got["scale_consumers"] = scale_out.consumer_figures(ns)

    if "ceiling" in args.only and len(args.only) > 1:
        print("== bare ceiling again", flush=True)
        got["ceiling_end"] = ceiling.measure(args.postgres, args.seconds, args.concurrency)

    print(f"\n{'figure':56s} {'value':>10} {'unit':8s} {'/ceil':>6}  target")
    json_rps = got.get("ceiling", {}).get("fastapi json", {}).get("rps")
    select_rps = got.get("ceiling", {}).get("indexed select", {}).get("rps")
    if "ceiling" in got:
        print(_row("ceiling: FastAPI JSON", json_rps, "req/s"))
        print(_row("ceiling: one indexed SELECT (psycopg pool)", select_rps, "req/s"))
    if "ceiling_end" in got:
        # Ratios stay against the first ceiling; these say how far the machine moved meanwhile.
        for name, label in (("fastapi json", "FastAPI JSON"), ("indexed select", "one indexed SELECT")):
            end = got["ceiling_end"][name]["rps"]
            print(_row(f"ceiling at the end: {label}", end, "req/s"))
            print(_row(f"ceiling at the end / at the start: {label}", end / got["ceiling"][name]["rps"], "ratio"))
    if "hot_on" in got:
        for name in ("list", "search", "detail", "add to cart"):
            # A hit is answered without the database: its yardstick is the bare JSON route.
            for label, figures, ceil in (("cache on", got["hot_on"], json_rps), ("cache off", got["hot_off"], select_rps)):
                r = figures[name]
                target = hot_paths.TARGET_RPS.get(name) or hot_paths.TARGET_RPS[f"detail ({label})"]
                print(_row(f"{name} ({label})", r["rps"], "req/s", f"≥ {target}", ceil))
                print(_row(f"{name} ({label}) p99", r["p99_ms"], "ms", f"≤ {0.2 * hot_paths.PEER_P99_MS[name]:.0f}"))
        for label, figures in (("cache on", got["hot_on"]), ("cache off", got["hot_off"])):
            print(_row(f"add to cart ({label}): lines per cart at the end, mean", figures["add to cart"]["cart_lines_mean"],
                       "lines"))
        for label, figures in (("proxied, cache off", got["hot_off"]), ("cache on", got["hot_on"])):
            direct, via = figures["cheap route direct"], figures["cheap route via gateway"]
            print(_row(f"cheap route direct ({label})", direct["rps"], "req/s", "", json_rps))
            print(_row(f"cheap route through the gateway ({label})", via["rps"], "req/s", "", json_rps))
            print(_row(f"cheap route gateway / direct ({label})", via["rps"] / direct["rps"], "ratio", "≥ 0.8"))
        floor = got["hot_off"]["cheap route via a bare TCP relay"]
        print(_row("cheap route through a bare TCP relay (cache off)", floor["rps"], "req/s", "", json_rps))
        print(_row("cheap route bare relay / direct: a Python gateway's best", floor["rps"]
                   / got["hot_off"]["cheap route direct"]["rps"], "ratio"))
    if "checkout" in got:
        c = got["checkout"]
        print(_row("checkouts (8 concurrent)", c["checkouts_per_s"], "/s", "≥ 30"))
        print(_row("whole checkout p50", c["checkout_p50_ms"], "ms"))
        print(_row("whole checkout p99", c["checkout_p99_ms"], "ms"))
        print(_row("webhook → order paid (paid_at) p50", c["paid_p50_ms"], "ms", "≤ 50"))
        print(_row("webhook → order paid (paid_at) p99", c["paid_p99_ms"], "ms", "≤ 250"))
        print(_row(f"webhook → paid seen, polling every {checkout.POLL_SECONDS * 1000:.0f} ms, p50",
                   c["paid_seen_p50_ms"], "ms"))
        print(_row(f"webhook → paid seen, polling every {checkout.POLL_SECONDS * 1000:.0f} ms, p99",
                   c["paid_seen_p99_ms"], "ms"))
        print(_row("failed checkouts", c["failures"], "", "0"))
        print(_row("CPU per checkout, every process", sum(c["cpu_ms_per_checkout"].values()), "ms",
                   "≤ 65 (30/s on 2 cores)"))
    if "relay" in got:
        print(_row("one outbox relay", got["relay"]["events_per_s"], "events/s"))
    if "generation" in got:
        g = got["generation"]
        print(_row("local generator", g["generate"]["jobs_per_second"], "jobs/s"))
        print(_row("12 MP restoration", g["restore"]["seconds"], "s", "≤ 2"))
        print(_row("restoration worker peak RSS", g["restore"]["peak_rss_mb"], "MB", "≤ 500"))
    if "scale_api" in got:
        api, events = got["scale_api"], got["scale_consumers"]
        print(_row("catalog API, 1 process", api[1]["rps"], "req/s"))
        print(_row("catalog API, 2 processes", api[2]["rps"], "req/s"))
        print(_row("catalog API 2 / 1", api[2]["rps"] / api[1]["rps"], "ratio"))
        print(_row("cart consumer, 1 process", events[1], "events/s"))
        print(_row("cart consumers, 2 on one queue", events[2], "events/s"))
        print(_row("cart consumers 2 / 1", events[2] / events[1], "ratio"))
    # The interpreter too: on a build without PGO and LTO (pyenv's default) the services spend 6-19 % more CPU.
    print(f"\n({os.cpu_count()} cores; load average now {os.getloadavg()[0]:.1f}; "
          f"Python {platform.python_version()} at {os.path.realpath(sys.executable)}; "
          f"{(time.monotonic() - started) / 60:.1f} min)")
    if not args.no_write:
        _write_figures(got, args.gateway_workers or default_gateway_workers(), args.cart_workers)  # as hot_paths ran them


def _write_figures(got: dict[str, dict], gateway_workers: int, carts: int) -> None:
    """Fold what was measured into bench/figures.json (a figure not measured this run is kept), then
    regenerate docs/capacity.md from it."""
    path = HERE / "figures.json"
    doc = json.loads(path.read_text())
    figures = doc["figures"]
    stamp = time.strftime("%Y-%m-%d")

    def put(name: str, value: float, source: str) -> None:
        figures[name] = {"value": round(value, 1), "source": f"{source} (make bench, {stamp})"}

    if "hot_off" in got:
        on, off = got["hot_on"], got["hot_off"]
        # Two catalog processes served each page: per process is half (they share the cores).
        put("catalog_list_rps", off["list"]["rps"] / 2, "product list page 1, cache off, two catalog processes, per process")
        put("catalog_detail_rps", off["detail"]["rps"] / 2, "product detail, cache off, two catalog processes, per process")
        put("catalog_search_rps", off["search"]["rps"] / 2, "search `marble`, cache off, two catalog processes, per process")
        put("cart_add_rps", off["add to cart"]["rps"] / carts, "add to cart (guest), one cart process" if carts == 1
            else f"add to cart (guest), {carts} cart processes, per process")
        put("gateway_rps", off["cheap route via gateway"]["rps"] / gateway_workers,
            f"the cheap route proxied by the gateway (cache off), per gateway worker ({gateway_workers})")
        put("gateway_cache_hit_rps", on["detail"]["rps"] / gateway_workers,
            f"product detail answered from the cache (Redis) by the gateway, per gateway worker ({gateway_workers})")
    if "checkout" in got:
        # The platform's own processes only: PostgreSQL, the broker and the load generator are
        # sized apart, and their share of these cores is not a service's.
        cpu = got["checkout"]["cpu_ms_per_checkout"]
        platform_ms = sum(ms for name, ms in cpu.items() if name not in ("postgresql", "rabbitmq", "load generator"))
        put("checkouts_per_s_per_core", 1000 / platform_ms,
            "bench/checkout.py: one second of CPU over the CPU per whole guest checkout of the services' and "
            "the gateway's processes, at 8 concurrent")
    if "relay" in got:
        put("relay_events_per_s", got["relay"]["events_per_s"],
            "bench/relay.py: outbox rows one relay publishes per second (confirmed, persistent, routed)")
    if "generation" in got:
        put("generation_jobs_per_s", got["generation"]["generate"]["jobs_per_second"],
            "bench/generation.py: the local generator, 512 px, one process")
    if "scale_consumers" in got:
        put("consumer_events_per_s", got["scale_consumers"][1], "bench/scale_out.py: cart read-model events/s, one consumer process")
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    subprocess.run([sys.executable, "-m", "bench.capacity"], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
