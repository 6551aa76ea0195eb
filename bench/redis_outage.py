"""Reads, a guest checkout and a price change through Redis outages, on the distributed
platform (`atelier up --dev --no-split`, one gateway process) whose Redis is reached through a TCP
proxy that can refuse or blackhole (accept, never answer) connections.

    uv run python -m bench.redis_outage [--seconds 10] [--concurrency 8]

Prints, per phase (Redis up, refused, blackholed), the reads' p50/p99 and status counts, the time
a guest checkout took during the outage, and how long after Redis came back a price staff
changed during the outage was still served (polled every 10 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections import Counter
from typing import Any

import httpx

from atelier_testing import poll_until
from atelier_testing.platform import STAFF_EMAIL, STAFF_PASSWORD, delete_redis_keys
from atelier_testing.tcpproxy import RedisLink
from bench import add_servers
from bench.own_platform import Run

ADDRESS = {"label": "Home", "type": "shipping", "first_name": "Grace", "last_name": "Hopper",
           "street_address": "1 Harbour Road", "city": "Tbilisi", "postal_code": "0105", "country": "GE",
           "phone": "+995555000111", "email": "grace@example.com"}


async def load(base: str, urls: list[str], seconds: float, concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    samples: dict[str, str] = {}
    deadline = time.monotonic() + seconds

    async def worker(i: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            n = i
            while time.monotonic() < deadline:
                started = time.monotonic()
                try:
                    response = await client.get(urls[n % len(urls)])
                    status = str(response.status_code)
                    if response.status_code >= 500 and status not in samples:
                        samples[status] = f"{urls[n % len(urls)]} {response.text[:300]}"
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                    samples.setdefault(status, urls[n % len(urls)])
                latencies.append(time.monotonic() - started)
                statuses[status] += 1
                n += 1

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    latencies.sort()
    if not latencies:
        return {"requests": 0, "rps": 0, "p50_ms": 0, "p99_ms": 0, "max_ms": 0, "statuses": {}, "samples": samples}
    return {"requests": len(latencies), "rps": len(latencies) / seconds,
            "p50_ms": 1000 * latencies[len(latencies) // 2], "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
            "max_ms": 1000 * latencies[-1], "statuses": dict(statuses),
            "samples": samples}


async def guest_checkout(base: str, product_id: str, staff: dict[str, str]) -> float:
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=base, timeout=30) as guest:
        guest.headers["X-Session-ID"] = (await guest.get("/api/v1/cart")).headers["x-anonymous-token"]
        assert (await guest.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": 1})).status_code == 201
        # An email of its own: a paid guest order registers its buyer, whose later guest orders
        # then belong to that account.
        r = await guest.post("/api/v1/addresses", json={**ADDRESS, "email": f"g-{uuid.uuid4().hex[:8]}@example.com"})
        r = await guest.post("/api/v1/orders", json={"shipping_address_id": r.json()["id"]})
        assert r.status_code == 201, r.text
        order = r.json()["id"]

        async def status(expected: str) -> bool:
            # As staff, who read any order (whoever owns it by then).
            r = await guest.get(f"/api/v1/orders/{order}", headers=staff)
            if r.status_code != 200:
                print(f"  GET order {order}: {r.status_code} {r.text[:200]}", flush=True)
                return False
            return bool(r.json()["status"] == expected)

        await poll_until(lambda: status("awaiting_payment"), timeout=60, message="stock reserved")
        r = await guest.post("/api/v1/payments/checkout", json={
            "order_id": order, "success_url": "http://localhost:3000/ok", "cancel_url": "http://localhost:3000/no"})
        url = r.json()["checkout_url"]
        await guest.get(url)
        assert (await guest.post(f"{url}/pay", headers={"Accept": "application/json"})).status_code == 200
        await poll_until(lambda: status("paid"), timeout=60, message="paid")
    return time.monotonic() - started


async def stale_after_recovery(base: str, link: RedisLink, outage: str, product_id: str, staff: dict[str, str]) -> str:
    detail = f"/api/v1/products/{product_id}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as api:
        old = (await api.get(detail)).json()["price"]
        async def cached() -> bool:
            return (await api.get(detail)).headers.get("x-cache") == "hit"

        await poll_until(cached, timeout=30, message="the detail cached")
        link.refuse() if outage == "refused" else link.blackhole()
        await api.get(detail)  # the gateway notices the outage
        new = f"{float(old) + 1:.2f}"
        r = await api.patch(detail, headers=staff, json={"price": new})
        assert r.status_code == 200, r.text
        await asyncio.sleep(1)
        link.restore()
        back = time.monotonic()
        stale, last_stale, hits = 0, None, 0
        while time.monotonic() - back < 10:
            r = await api.get(detail)
            hits += r.headers.get("x-cache") == "hit"
            if r.json()["price"] != new:
                stale += 1
                last_stale = time.monotonic() - back
            await asyncio.sleep(0.01)
        return (f"after a {outage} outage: old price served {stale} times in the 10 s after Redis came back"
                + (f", the last {1000 * last_stale:.0f} ms after" if last_stale is not None else "")
                + f"; {hits} answers from the cache again")


async def measure(base: str, link: RedisLink, args: argparse.Namespace) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as api:
        r = await api.post("/api/v1/auth/login", json={"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
        staff = {"Authorization": f"Bearer {r.json()['access']}"}
        products = (await api.get("/api/v1/products", params={"kind": "physical", "in_stock": "true",
                                                                "limit": 50})).json()["results"]
        simple = [p for p in products if not p["variants"] and p["stock_quantity"] >= 5]
    # Public reads (the cache's path) and a first visit's cart (a new anonymous token, no cache).
    urls = ["/api/v1/products?limit=20", *(f"/api/v1/products/{p['id']}" for p in products[:10]), "/api/v1/categories",
            "/api/v1/cart"]
    for phase in ("up", "refused", "blackholed"):
        if phase == "refused":
            link.refuse()
        elif phase == "blackholed":
            link.blackhole()
        await load(base, urls, 2, args.concurrency)  # warm-up (and, in an outage, the breaker opens)
        result = await load(base, urls, args.seconds, args.concurrency)
        async with httpx.AsyncClient(base_url=base, timeout=30) as api:
            health = await api.get("/api/health")
        print(f"reads, Redis {phase:10s}: {result['rps']:6.0f} req/s  p50 {result['p50_ms']:6.1f} ms  "
              f"p99 {result['p99_ms']:6.1f} ms  max {result['max_ms']:6.1f} ms  statuses {result['statuses']}  "
              f"/api/health {health.status_code} {health.json()['status']}", flush=True)
        for status, sample in result["samples"].items():
            print(f"  a {status}: {sample}", flush=True)
        if phase != "up":
            took = await guest_checkout(base, simple[0]["id"], staff)
            print(f"guest checkout, Redis {phase}: paid in {took:.2f} s", flush=True)
        link.restore()
        await asyncio.sleep(3)
    for outage in ("blackholed", "refused"):
        print(await stale_after_recovery(base, link, outage, simple[1]["id"], staff), flush=True)
        await asyncio.sleep(3)


def main() -> None:
    parser = argparse.ArgumentParser()
    add_servers(parser)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    trial = Run.new("redis")
    link = RedisLink(args.redis)
    topology = trial.topology(args.postgres, args.amqp, split=False, gateway_workers=1, dev=True, env={
        "ATELIER_ACCESS_LOG": "false", "ATELIER_GATEWAY_RATE_LIMIT_DEFAULT": "1000000000/hour",
        "ATELIER_REDIS_URL": link.url, "ATELIER_REDIS_KEY_PREFIX": f"{trial.name}:", "ATELIER_ENVIRONMENT": "test"})
    try:
        with trial.cleanup(args.postgres, args.amqp, topology):
            topology.prepare()
            topology.start()
            if not topology.wait_ready(240):
                raise SystemExit("the platform did not become healthy")
            asyncio.run(measure(trial.url, link, args))
    finally:
        delete_redis_keys(args.redis, f"{trial.name}:")


if __name__ == "__main__":
    main()
