"""Benchmark: the hot paths the performance targets name, through the gateway, with the response cache on and off.

The distributed mode (`--workers catalog=2`, one process per other service, the gateway in as
many processes as `atelier up` gives it), 10,000 products, `wrk -t2 -c32 -d20s` after a 5 s
warm-up, as the peers were measured when the targets were set: product list page 1, search `marble`, product detail, add
to cart (a random guest per request, from a pool of anonymous visitors whose carts exist before the
load, `--guests`), and a cheap route (`/api/v1/generation/models`) through the
gateway vs straight at its service, and (cache off) through a bare byte relay (`tcp_relay.py`),
the best any Python process in the path could do. Run twice: cache on (Redis) and cache off.
Prints req/s, p50, p99 and the ratios. Figures only, no assertion.

    uv run python -m bench.hot_paths [--seconds 20] [--products 10000] [--guests 400] [--cart-workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import time

import httpx

from atelier_platform.processes import default_gateway_workers
from atelier_testing.platform import free_port_block
from bench import add_servers, tcp_relay
from bench.catalog_search import _grow
from bench.checkout import tree_cpu
from bench.own_platform import Run
from bench.wrk import cpu_per_request, wrk

# Marbelle's and ecommerce-backend's p99 as measured when the targets were set: the target is 0.2 × these.
PEER_P99_MS = {"list": 621, "search": 1692, "detail": 258, "detail, no token": 258, "add to cart": 435}
TARGET_RPS = {"list": 600, "search": 400, "detail (cache on)": 2000, "detail (cache off)": 600, "add to cart": 450}

CART_LUA = """
-- Each wrk thread has its own Lua state with the same default seed: unseeded, both threads would
-- send the same tokens in the same order, two requests at once for every cart.
local threads = 0
setup = function(thread)
  thread:set("thread_no", threads)
  threads = threads + 1
end
init = function(args)
  math.randomseed(os.time() * 100 + (thread_no or 0))
end
request = function()
  local t = tokens[math.random(#tokens)]
  local p = products[math.random(#products)]
  return wrk.format("POST", "/api/v1/cart/items",
    {["Content-Type"]="application/json", ["X-Anonymous-Token"]=t},
    '{"product_id": "' .. p .. '", "quantity": 1}')
end
"""


def _cart_lines(gateway: str, tokens: list[str]) -> tuple[float, float]:
    """The mean and the largest number of lines in the guests' carts."""
    with httpx.Client(base_url=gateway, timeout=30) as client:
        lines = [len(client.get("/api/v1/cart", headers={"X-Anonymous-Token": token}).json()["items"])
                 for token in tokens]
    return sum(lines) / len(lines), max(lines)


def _ample_stock(client: httpx.Client, count: int, stock: int = 20) -> list[dict[str, object]]:
    """Products a guest can add many times: the grown catalog's stock runs from 1 up, and a guest
    adding a 1-in-stock product twice gets a correct 409 INSUFFICIENT_STOCK (the non-2xx answers of
    earlier runs), which measures the workload, not the service."""
    found: list[dict[str, object]] = []
    offset = 0
    while len(found) < count:
        page = client.get("/api/v1/products", params={"kind": "physical", "in_stock": "true", "limit": 100,
                                                      "offset": offset}).json()["results"]
        if not page:
            break
        found += [p for p in page if not p["track_inventory"] or p["stock_quantity"] >= stock]
        offset += 100
    return found[:count]


def _wait_listening(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def run(args: argparse.Namespace, cache: bool) -> dict[str, dict[str, float]]:
    trial = Run.new("hot")
    prefix = trial.prefix
    env = {"ATELIER_ACCESS_LOG": "false",
           "ATELIER_CATALOG_SEED_DEMO_DATA": "true", "ATELIER_CATALOG_RESERVATION_SWEEP_SECONDS": "0",
           "ATELIER_GATEWAY_RATE_LIMIT_DEFAULT": "1000000000/hour",
           "ATELIER_GATEWAY_RATE_LIMIT_PER_IP": "1000000000/hour", "ATELIER_CACHE_PREFIX": f"{trial.name}:"}
    if cache:
        env["ATELIER_REDIS_URL"] = args.redis
    else:
        env["ATELIER_CACHE_ENABLED"] = "false"
    topology = trial.topology(args.postgres, args.amqp, split=False, env=env,
                              api_workers={"catalog": 2, "cart": args.cart_workers},
                              gateway_workers=args.gateway_workers or default_gateway_workers())
    catalog_db = f"{args.postgres.rstrip('/')}/{prefix}catalog".replace("postgresql://", "postgresql+psycopg://", 1)
    out: dict[str, dict[str, float]] = {}
    label = "cache on" if cache else "cache off"
    with trial.cleanup(args.postgres, args.amqp, topology):
        topology.prepare()
        asyncio.run(_grow(catalog_db, args.products))
        topology.start()
        if not topology.wait_ready(240):
            raise SystemExit("the platform did not become healthy")
        gateway = trial.url
        with httpx.Client(base_url=gateway, timeout=30) as client:
            found = client.get("/api/v1/products", params={"search": "marble", "limit": 20}).json()["results"]
            detail = f"/api/v1/products/{found[0]['slug']}"
            physical = _ample_stock(client, 100)
            tokens = []
            for _ in range(args.guests):
                with httpx.Client(base_url=gateway, timeout=30) as fresh:
                    # The cart mints the guest (public reads mint none), and each guest's (empty) cart
                    # exists before the load: the run measures adding a line.
                    token = fresh.get("/api/v1/cart").headers["x-anonymous-token"]
                    tokens.append(token)
        headers = {"X-Anonymous-Token": tokens[0]}
        pages = {"list": "/api/v1/products?page=1", "search": "/api/v1/products?search=marble", "detail": detail}
        gateway_pid = next(proc.pid for name, proc in topology.children if name == "gateway")
        # As a crawler or a first visit asks it: no token, no cookie.
        for name, path, sent in (*((n, p, headers) for n, p in pages.items()), ("detail, no token", detail, {})):
            wrk(gateway + path, 5, args.concurrency, sent)
            before = tree_cpu(gateway_pid)
            out[name] = wrk(gateway + path, args.seconds, args.concurrency, sent)
            # The gateway's CPU per request (all its processes): steadier than req/s on a shared machine.
            out[name]["gateway_cpu_us"] = cpu_per_request(tree_cpu(gateway_pid) - before, out[name], args.seconds)
        script = trial.data_dir / "cart.lua"
        script.write_text(f"tokens = {json.dumps(tokens).replace('[', '{').replace(']', '}')}\n"
                          f"products = {json.dumps([p['id'] for p in physical]).replace('[', '{').replace(']', '}')}\n"
                          + CART_LUA)
        wrk(gateway, 5, args.concurrency, script=script)
        out["add to cart"] = wrk(gateway, args.seconds, args.concurrency, script=script)
        # An add answers the whole cart, so its cost grows with the cart: say how big they grew.
        out["add to cart"]["cart_lines_mean"], out["add to cart"]["cart_lines_max"] = _cart_lines(gateway, tokens)
        # The cheap route in both runs: with the cache on the gateway answers it from Redis; with
        # it off every request is proxied (the gateway's own cost against calling the service).
        service = topology.service_urls()["generation"]
        for name, base in (("cheap route direct", service), ("cheap route via gateway", gateway)):
            wrk(base + "/api/v1/generation/models", 5, args.concurrency, headers)
            out[name] = wrk(base + "/api/v1/generation/models", args.seconds, args.concurrency, headers)
        if not cache:
            # The same route through a bare byte relay in as many processes as the gateway has: the
            # best ratio to direct any Python process in the path could reach on this machine.
            relay_port = free_port_block(1)
            relays = tcp_relay.start(relay_port, int(service.rsplit(":", 1)[1]), os.cpu_count() or 1)
            try:
                _wait_listening(relay_port)
                base = f"http://127.0.0.1:{relay_port}"
                wrk(base + "/api/v1/generation/models", 5, args.concurrency, headers)
                out["cheap route via a bare TCP relay"] = wrk(base + "/api/v1/generation/models", args.seconds,
                                                              args.concurrency, headers)
            finally:
                for relay in relays:
                    relay.terminate()
        for name, r in out.items():
            cpu = f"  gateway {r['gateway_cpu_us']:5.0f} µs CPU/request" if "gateway_cpu_us" in r else ""
            print(f"  [{label}] {name:24s} {r['rps']:8.0f} req/s  p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms"
                  f"  errors {r['errors']}{cpu}", flush=True)
        carts = out["add to cart"]
        print(f"  [{label}] the {len(tokens)} guests' carts at the end: {carts['cart_lines_mean']:.0f} lines on average, "
              f"{carts['cart_lines_max']:.0f} at most", flush=True)
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The servers and the load `run` needs (bench/all.py takes the same)."""
    add_servers(parser)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--gateway-workers", type=int, default=0, help="0: as `atelier up` chooses")
    # A second cart process, measured on 2 cores: +7 % on average over seven alternated pairs
    # (−16 % to +46 %), within this machine's drift.
    parser.add_argument("--cart-workers", type=int, default=1)
    # Add to cart picks one of these guests per request. An add answers the whole cart, so with the
    # default 400 the carts grow to ~40 lines in a run; more guests keep them nearer a real cart's size.
    parser.add_argument("--guests", type=int, default=400)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (apt-get install wrk)")

    from bench import ceiling

    bare = ceiling.measure(args.postgres, args.seconds, args.concurrency)["fastapi json"]
    on, off = run(args, cache=True), run(args, cache=False)
    print(f"\n{'operation':24s} {'cache on req/s':>15} {'p99':>8} {'cache off req/s':>16} {'p99':>8}  target")
    for name in ("list", "search", "detail", "detail, no token", "add to cart"):
        target = TARGET_RPS.get(name) or f"{TARGET_RPS['detail (cache on)']} on / {TARGET_RPS['detail (cache off)']} off"
        print(f"{name:24s} {on[name]['rps']:15.0f} {on[name]['p99_ms']:8.1f} {off[name]['rps']:16.0f} "
              f"{off[name]['p99_ms']:8.1f}  ≥ {target} req/s, p99 ≤ {0.2 * PEER_P99_MS[name]:.0f} ms")
    for label, run_ in (("cache off, proxied", off), ("cache on, answered from the cache", on)):
        direct, via = run_["cheap route direct"], run_["cheap route via gateway"]
        print(f"cheap route through the gateway / direct ({label}): {via['rps'] / direct['rps']:.2f} (target ≥ 0.8)")
    floor = off["cheap route via a bare TCP relay"]["rps"] / off["cheap route direct"]["rps"]
    # A cached detail at ≥ 0.5 of a bare FastAPI JSON endpoint measured in the same run.
    for name in ("detail", "detail, no token"):
        print(f"cached {name} / bare FastAPI JSON ({bare['rps']:.0f} req/s, same run): "
              f"{on[name]['rps'] / bare['rps']:.2f} (target ≥ 0.5); per request, the bare server's CPU / the "
              f"gateway's: {bare['cpu_us']:.0f} / {on[name]['gateway_cpu_us']:.0f} µs = "
              f"{bare['cpu_us'] / on[name]['gateway_cpu_us']:.2f}")
    print(f"cheap route through a bare TCP relay / direct (the floor of a Python gateway): {floor:.2f}")


if __name__ == "__main__":
    main()
