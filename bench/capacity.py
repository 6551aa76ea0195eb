"""The capacity model: from measured per-process figures to a sizing table for a traffic mix.

    uv run python -m bench.capacity            # rewrites the generated part of docs/capacity.md
    uv run python -m bench.capacity --print    # prints it instead

Input: `bench/figures.json`, what the benchmarks measured on this 2-core machine (each figure with
the command that gave it). A Python process uses at most one core, so a role's throughput per
process at saturation is taken as its throughput per core. Output: for 100, 1,000 and 10,000
requests per second of the mix below, the processes per role (with headroom), the PostgreSQL
connections they may hold (`atelier_common.db.ROLE_POOLS`), the broker's delivery rate and the
generation workers, and the first limit each size meets.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

HERE = Path(__file__).parent
DOC = HERE.parent / "docs" / "capacity.md"
BEGIN, END = "<!-- capacity:begin -->", "<!-- capacity:end -->"

# Share of the requests reaching the gateway, by kind (a storefront with paid generation).
MIX = {"browse": 0.50, "detail": 0.20, "search": 0.12, "cart": 0.12, "checkout": 0.04, "generation": 0.02}
# Requests one checkout journey sends (cart, address, order, payment, pay, two reads).
REQUESTS_PER_CHECKOUT = 8
# Share of the public catalog reads (browse, detail, search) the gateway answers from the shared
# cache (an assumption, not a measurement: a page is invalidated by any change to what it shows,
# and popular pages are re-read within the 30 s safety TTL). Set it with --hit-ratio.
HIT_RATIO = 0.8
# Keep every role under this share of its measured ceiling (bursts, deploys, a lost pod).
HEADROOM = 0.6
# PostgreSQL connections one process may hold (atelier_common.db.ROLE_POOLS).
CONNECTIONS = {"api": 5, "relay": 1, "consumer": 2, "worker": 2, "housekeeping": 1}
# Where the next limit sits, per component, on common hardware (order of magnitude, not measured here).
LIMITS = {"postgres_connections": 500, "postgres_writes_per_s": 5_000, "rabbitmq_deliveries_per_s": 20_000}


def load_figures(path: Path) -> dict[str, float]:
    raw = json.loads(path.read_text())
    return {name: float(entry["value"]) for name, entry in raw["figures"].items()}


def size(total_rps: float, f: dict[str, float], hit_ratio: float = HIT_RATIO) -> dict[str, float]:
    """Processes per role for `total_rps` requests per second of the mix."""
    rate = {kind: total_rps * share for kind, share in MIX.items()}
    hits = hit_ratio * (rate["browse"] + rate["detail"] + rate["search"])
    for kind in ("browse", "detail", "search"):  # what reaches catalog
        rate[kind] *= 1 - hit_ratio
    checkouts = rate["checkout"] / REQUESTS_PER_CHECKOUT

    def procs(load: float, per_process: float) -> int:
        return max(1, math.ceil(load / (per_process * HEADROOM)))

    catalog_load = (rate["browse"] / f["catalog_list_rps"] + rate["detail"] / f["catalog_detail_rps"]
                    + rate["search"] / f["catalog_search_rps"])  # in process-seconds per second
    out: dict[str, float] = {
        "checkouts_per_s": checkouts,
        # A hit costs the gateway a Redis read instead of a proxied request.
        "gateway": procs(total_rps - hits + hits * f["gateway_rps"] / f.get("gateway_cache_hit_rps", f["gateway_rps"]),
                         f["gateway_rps"]),
        "catalog_api": max(1, math.ceil(catalog_load / HEADROOM)),
        "cart_api": procs(rate["cart"], f["cart_add_rps"]),
        # The checkout's own requests (order, payment, identity) scale with the measured platform rate.
        "checkout_apis": procs(checkouts, f["checkouts_per_s_per_core"]),
        "deliveries_per_s": checkouts * f["deliveries_per_checkout"],
        "generation_jobs_per_s": rate["generation"] / 2,  # a job is submitted, then polled once
    }
    out["consumers"] = procs(out["deliveries_per_s"], f["consumer_events_per_s"])
    out["generation_workers"] = procs(out["generation_jobs_per_s"], f["generation_jobs_per_s"])
    apis = out["catalog_api"] + out["cart_api"] + out["checkout_apis"]
    # Relays: one per service is plenty until the outbox rate approaches a relay's publish rate.
    out["relays"] = 6 * max(1, math.ceil(out["deliveries_per_s"] / 4 / (f["relay_events_per_s"] * HEADROOM)))
    out["pg_connections"] = (apis * CONNECTIONS["api"] + out["consumers"] * CONNECTIONS["consumer"]
                             + out["relays"] * CONNECTIONS["relay"] + out["generation_workers"] * CONNECTIONS["worker"]
                             + 6 * CONNECTIONS["housekeeping"])
    out["cores"] = (out["gateway"] + apis + out["consumers"] + out["generation_workers"]) * HEADROOM
    return out


def first_limit(row: dict[str, float]) -> str:
    if row["pg_connections"] > LIMITS["postgres_connections"]:
        return ("PostgreSQL connections: put PgBouncer (transaction pooling) in front, and read replicas "
                "for catalog's reads")
    if row["deliveries_per_s"] > LIMITS["rabbitmq_deliveries_per_s"] / 2:
        return "one RabbitMQ node: a 3-node cluster with quorum queues (ATELIER_AMQP_QUEUE_TYPE=quorum)"
    if row["pg_connections"] > 100:
        return "the default max_connections=100: raise it (or PgBouncer) before adding processes"
    return "nothing on one machine of this size beyond its cores"


def render(figures: dict[str, float], source: str, hit_ratio: float = HIT_RATIO) -> str:
    lines = [f"Generated by `bench/capacity.py` from `{source}`; headroom {HEADROOM:.0%} of each measured ceiling; "
             f"{hit_ratio:.0%} of the catalog reads answered from the gateway's cache (assumed).",
             "", "| requests/s | checkouts/s | gateway | catalog API | cart API | order+payment+identity APIs | "
             "consumers | relays | generation workers | PostgreSQL connections | broker deliveries/s | app cores | first limit |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for total in (100, 1_000, 10_000):
        r = size(total, figures, hit_ratio)
        lines.append(f"| {total:,} | {r['checkouts_per_s']:.1f} | {r['gateway']:.0f} | {r['catalog_api']:.0f} | "
                     f"{r['cart_api']:.0f} | {r['checkout_apis']:.0f} | {r['consumers']:.0f} | {r['relays']:.0f} | "
                     f"{r['generation_workers']:.0f} | {r['pg_connections']:.0f} | {r['deliveries_per_s']:.0f} | "
                     f"{r['cores']:.0f} | {first_limit(r)} |")
    lines += ["", "Per process (one core), as measured:", ""]
    lines += [f"- `{name}`: {value:g}" for name, value in figures.items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--figures", type=Path, default=HERE / "figures.json")
    parser.add_argument("--print", action="store_true", help="print instead of rewriting docs/capacity.md")
    parser.add_argument("--hit-ratio", type=float, default=HIT_RATIO,
                        help="share of catalog reads answered from the cache")
    args = parser.parse_args()
    table = render(load_figures(args.figures), args.figures.relative_to(HERE.parent).as_posix()
                   if args.figures.is_relative_to(HERE.parent) else str(args.figures), args.hit_ratio)
    if args.print:
        print(table)
        return
    text = DOC.read_text()
    DOC.write_text(re.sub(f"{re.escape(BEGIN)}.*?{re.escape(END)}", f"{BEGIN}\n{table}\n{END}", text, flags=re.S))
    print(f"{DOC.relative_to(HERE.parent)} updated")


if __name__ == "__main__":
    main()
