"""Benchmark: the gateway's cost per request with an API key beside one with a staff JWT.

Distributed mode on PostgreSQL, RabbitMQ and Redis (one process per service), the same cheap route
(`GET /api/v1/generation/models`, a static list, so the gateway's own work is what differs) three
ways: no token, a staff member's access token, and an API key (`Bearer atk_live_…`), which the
gateway exchanges once and then reuses, rereading identity's revocation mark in Redis (one GET) every
`--check-seconds` (the gateway's `API_KEY_REVOCATION_CHECK_SECONDS`, 1 s by default; 0: before every
request) (docs/security.md, "API keys"). Load from a second process (wrk when installed, else
bench/load.py). Prints req/s, p50, p99 and the gateway's CPU per request for each, and what a key
costs over a JWT.

    uv run python -m bench.api_keys --seconds 10
"""

from __future__ import annotations

import shutil

import httpx

from bench import command_line
from bench.checkout import tree_cpu
from bench.gateway_overhead import python_load
from bench.own_platform import Run, staff_token
from bench.wrk import cpu_per_request, wrk

PATH = "/api/v1/generation/models"


def main() -> None:
    parser = command_line(__doc__)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--check-seconds", type=float, default=1.0,
                        help="how often a kept exchange rereads its revocation mark (0: every request)")
    args = parser.parse_args()

    trial = Run.new("keys")
    topology = trial.topology(args.postgres, args.amqp, split=False, env={
        "ATELIER_ACCESS_LOG": "false", "ATELIER_REDIS_URL": args.redis,
        "ATELIER_REDIS_KEY_PREFIX": f"{trial.name}:", "ATELIER_CACHE_ENABLED": "false",
        "ATELIER_GATEWAY_API_KEY_REVOCATION_CHECK_SECONDS": str(args.check_seconds),
        # The limiters stay on the path, with ceilings the load never reaches.
        "ATELIER_GATEWAY_RATE_LIMIT_DEFAULT": "1000000000/hour",
        "ATELIER_GATEWAY_RATE_LIMIT_STAFF": "1000000000/hour",
        "ATELIER_GATEWAY_RATE_LIMIT_PER_IP": "1000000000/hour",
        "ATELIER_GATEWAY_RATE_LIMIT_CREDENTIALS_PER_IP": "1000000000/hour",
    })
    load = wrk if shutil.which("wrk") else python_load
    out: dict[str, dict[str, float]] = {}
    with trial.cleanup(args.postgres, args.amqp, topology):
        topology.prepare()
        topology.start()
        if not topology.wait_ready(240):
            raise SystemExit("the platform did not become healthy")
        gateway = trial.url
        with httpx.Client(base_url=gateway, timeout=30) as client:
            token = staff_token(client)
            made = client.post("/api/v1/staff/api-keys", headers={"Authorization": f"Bearer {token}"},
                               json={"name": f"bench {trial.name}", "roles": ["support"], "storefronts": ["*"]})
            made.raise_for_status()
            secret = made.json()["secret"]
            for bearer in (token, secret):
                client.get(PATH, headers={"Authorization": f"Bearer {bearer}"}).raise_for_status()
        gateway_pid = next(proc.pid for name, proc in topology.children if name == "gateway")
        for name, headers in (("no token", {}), ("staff JWT", {"Authorization": f"Bearer {token}"}),
                              ("API key", {"Authorization": f"Bearer {secret}"})):
            load(f"{gateway}{PATH}", 2, args.concurrency, headers)  # warm up
            before = tree_cpu(gateway_pid)
            out[name] = load(f"{gateway}{PATH}", args.seconds, args.concurrency, headers)
            out[name]["gateway_cpu_us"] = cpu_per_request(tree_cpu(gateway_pid) - before, out[name], args.seconds)

    print(f"load: {'wrk' if shutil.which('wrk') else 'bench/load.py'}, {args.concurrency} connections, "
          f"{args.seconds}s each, 1 gateway process; GET {PATH}; the mark reread every {args.check_seconds}s")
    print(f"{'':10} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'gw µs/req':>10}")
    for name, r in out.items():
        print(f"{name:10} {r['rps']:>10.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['errors']:>7} "
              f"{r['gateway_cpu_us']:>10.0f}")
    jwt, key = out["staff JWT"], out["API key"]
    print(f"API key over JWT: {key['gateway_cpu_us'] - jwt['gateway_cpu_us']:+.0f} µs of gateway CPU per request, "
          f"p50 {key['p50_ms'] - jwt['p50_ms']:+.2f} ms, req/s ratio {key['rps'] / jwt['rps']:.2f}")


if __name__ == "__main__":
    main()
