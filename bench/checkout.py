"""Benchmark: the whole checkout in the distributed mode (cart → order → webhook → paid).

Starts `atelier up` on the local PostgreSQL and RabbitMQ, then runs concurrent guest checkouts
from this process: add to cart, address, order, checkout session, the local provider's Pay
(which sends the signed webhook). The guests are the default storefront's, which offers an account
to those who ask (docs/storefronts.md#guest-accounts): they do not, and stay guests; with
`--create-account` each asks for one, and identity registers it and claims the order (the journey
this script measured before guest accounts were a storefront policy). Reports checkouts per second, the whole checkout's p50/p99, and
the time from the webhook's acceptance to `paid` (p50/p99): to the order's `paid_at` (stamped by
orders as it records the payment, read back through the API; one machine, one clock), and to the
buyer's page seeing it, which polls the order every `POLL_SECONDS` as a success page would.
Polling every 10 ms, as this script once did, was 8 buyers × ~100 reads/s on the same two cores:
a good part of what it measured. Also the CPU each process spent per checkout (from `/proc`):
where a checkout's cost goes, and what 30 checkouts/s on two cores would allow (65 ms in all).
Figures only, no assertions.

    uv run python -m bench.checkout [--concurrency 8] [--seconds 30] [--create-account]
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from atelier_testing.platform import wait_healthy
from bench import command_line
from bench.own_platform import Run, staff_token

# How often the buyer's success page asks whether the order is paid: the resolution of the
# "seen" figure, at about three reads per checkout.
POLL_SECONDS = 0.025
ADDRESS = {"label": "Home", "type": "shipping", "first_name": "Bench", "last_name": "Buyer",
           "street_address": "1 Load Street", "city": "Tbilisi", "postal_code": "0105", "country": "GE"}


async def checkout(client: httpx.AsyncClient, product_id: str, staff: dict[str, str],
                   create_account: bool = False) -> tuple[float, float, float]:
    """One whole guest checkout (`create_account`: the guest asks for an account): seconds from the
    webhook's acceptance to the order's `paid_at`, to the buyer's page seeing it, and in all."""
    started = time.perf_counter()
    token = (await client.get("/api/v1/cart")).headers.get("x-anonymous-token") or client.cookies["anon_token"]
    h = {"X-Anonymous-Token": token}
    (await client.post("/api/v1/cart/items", headers=h, json={"product_id": product_id, "quantity": 1})).raise_for_status()
    address = (await client.post("/api/v1/addresses", headers=h, json={
        **ADDRESS, "email": f"bench-{uuid.uuid4().hex[:12]}@example.com"})).json()
    order = (await client.post("/api/v1/orders", headers=h, json={
        "shipping_address_id": address["id"], "create_account": create_account})).json()
    session = (await client.post("/api/v1/payments/checkout", headers=h, json={
        "order_id": order["id"], "success_url": "http://localhost/ok", "cancel_url": "http://localhost/no"})).json()
    (await client.post(f"{session['checkout_url']}/pay", headers={"Accept": "application/json"})).raise_for_status()
    accepted, accepted_at = time.perf_counter(), time.time()  # payments has accepted the signed webhook
    # A buyer who asked is registered on payment and the order moves to that account, so staff
    # (who may read any order) watches it, the same way for both journeys.
    while time.perf_counter() - accepted < 120:
        r = await client.get(f"/api/v1/orders/{order['id']}", headers=staff)
        if r.status_code == 200 and (body := r.json())["status"] == "paid":
            now = time.perf_counter()
            recorded = datetime.fromisoformat(body["paid_at"]).timestamp() - accepted_at
            return recorded, now - accepted, now - started
        await asyncio.sleep(POLL_SECONDS)
    raise httpx.TimeoutException(f"order {order['id']} not seen paid within 120 s (last {r.status_code})")


if TYPE_CHECKING:
    from atelier_platform.processes import Topology

failures: list[str] = []

TICKS = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, float, str]]:
    """Every process now: pid → (parent pid, CPU seconds so far, command line)."""
    out: dict[int, tuple[int, float, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        out[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS, command)
    return out


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and every process under it (uvicorn's workers)."""
    now = _processes()
    children: dict[int, list[int]] = {}
    for child, (parent, _, _) in now.items():
        children.setdefault(parent, []).append(child)

    def tree(at: int) -> float:
        return now.get(at, (0, 0.0, ""))[1] + sum(tree(c) for c in children.get(at, ()))

    return tree(pid)


def cpu_by_process(topology: Topology, database_prefix: str) -> dict[str, float]:
    """CPU seconds used so far by each of the platform's processes (a child with the workers it
    started), this database prefix's PostgreSQL backends, RabbitMQ and this load generator. Linux
    only; a process that exited since the last reading is missing from the difference."""
    now = _processes()
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in now.items():
        children.setdefault(parent, []).append(pid)

    def tree(pid: int) -> float:
        return now.get(pid, (0, 0.0, ""))[1] + sum(tree(child) for child in children.get(pid, ()))

    out = {name: tree(proc.pid) for name, proc in topology.children}
    out["postgresql"] = sum(cpu for _, cpu, command in now.values()
                            if command.startswith("postgres:") and database_prefix in command)
    out["rabbitmq"] = sum(cpu for _, cpu, command in now.values() if "beam.smp" in command)
    out["load generator"] = now.get(os.getpid(), (0, 0.0, ""))[1]
    return out


async def run(url: str, product_id: str, staff_token: str, concurrency: int,
              seconds: float, create_account: bool = False) -> tuple[list[tuple[float, float, float]], float]:
    timings: list[tuple[float, float, float]] = []
    failures.clear()
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        # One client (and keep-alive connection) per worker, as a browser keeps one; a new guest per
        # checkout all the same (no cookies carried over). A client per checkout cost this process
        # ~25 ms of CPU each (TLS context and pool set-up), taken from the platform on a 2-core box.
        # The platform's own transport: httpx's cost this process ~0.5 ms more per request, CPU
        # that a buyer's browser spends elsewhere but here comes out of the platform's two cores.
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            while time.perf_counter() < deadline:
                client.cookies.clear()
                try:
                    timings.append(await checkout(client, product_id, {"Authorization": f"Bearer {staff_token}"},
                                                  create_account))
                except httpx.HTTPError as exc:  # counted and shown, the run goes on
                    failures.append(f"{type(exc).__name__}: {exc}"[:200])

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return timings, time.perf_counter() - started


def census(postgres: str, database_prefix: str) -> dict[str, Any]:
    """What the checkouts left in every service's outbox and inbox, per checkout: the events each
    service wrote and the deliveries each consumer recorded (a transaction each), by type. The
    deliveries a consumer acknowledges without a transaction (filtered out, or identity's webhook
    fan-out) leave no row and are not counted."""
    import psycopg

    base = postgres.rstrip("/")
    with psycopg.connect(f"{base}/{database_prefix}orders", autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM customer_order").fetchone()
        orders = row[0] if row else 0
    written: dict[str, float] = {}
    recorded: dict[str, float] = {}
    for service in ("identity", "catalog", "cart", "orders", "payments", "generation"):
        with psycopg.connect(f"{base}/{database_prefix}{service}", autocommit=True) as conn:
            for event_type, count in conn.execute("SELECT type, count(*) FROM outbox GROUP BY 1"):
                written[f"{service}: {event_type}"] = count / max(orders, 1)
            for consumer, event_type, count in conn.execute(
                    "SELECT consumer, event_type, count(*) FROM inbox GROUP BY 1, 2"):
                recorded[f"{consumer}: {event_type}"] = count / max(orders, 1)
    return {"orders": orders, "events_written": written, "deliveries_recorded": recorded}


def measure(postgres: str, amqp: str, *, concurrency: int = 8, seconds: float = 30,
            split: bool = False, idle_seconds: float = 10, create_account: bool = False) -> dict[str, Any]:
    """Start the platform, run the checkouts (`create_account`: guests who ask for an account), stop
    it: the figures `main` prints (and bench/all.py keeps)."""
    trial = Run.new()
    url = trial.url
    topology = trial.topology(postgres, amqp, split=split, env={
        "ATELIER_DEV_ENDPOINTS": "true",
        "ATELIER_PUBLIC_BASE_URL": url,
        "ATELIER_RELAY_POLL_SECONDS": "1",
        "ATELIER_GATEWAY_RATE_LIMIT_DEFAULT": "1000000000/hour",
        "ATELIER_GATEWAY_RATE_LIMIT_PER_IP": "1000000000/hour",
        "ATELIER_GATEWAY_RATE_LIMIT_CREDENTIALS_PER_IP": "1000000000/minute",
        "ATELIER_IDENTITY_PASSWORD_HASH_TIME_COST": "1",
        "ATELIER_IDENTITY_PASSWORD_HASH_MEMORY_COST_KIB": "1024",
    })
    topology.prepare()
    topology.start()
    with trial.cleanup(postgres, amqp, topology):
        wait_healthy(url, topology.children[-1][1], 180)
        with httpx.Client(base_url=url, timeout=30) as client:
            staff = staff_token(client)
            product = client.post("/api/v1/products", headers={"Authorization": f"Bearer {staff}"}, json={
                "name": "Bench slab", "sku": f"BENCH-{trial.name}", "price": "25.00", "stock_quantity": 1_000_000,
                "kind": "physical", "description": "Benchmark product"}).json()
        asyncio.run(run(url, product["id"], staff, 1, 3, create_account))  # warm up every path once
        # What the processes spend with no checkout at all (their background loops: relay sweeps,
        # storefront refreshes, metrics), the part of a checkout's CPU that fewer hops cannot remove.
        idle_from = cpu_by_process(topology, trial.prefix)
        idle_started = time.perf_counter()
        time.sleep(idle_seconds)
        idle_to = cpu_by_process(topology, trial.prefix)
        idle_elapsed = time.perf_counter() - idle_started
        before = cpu_by_process(topology, trial.prefix)
        timings, elapsed = asyncio.run(run(url, product["id"], staff, concurrency, seconds, create_account))
        after = cpu_by_process(topology, trial.prefix)
        counted = census(postgres, trial.prefix)
    paid, seen, whole = (statistics.quantiles([t[i] for t in timings], n=100) for i in range(3))
    return {"concurrency": concurrency, "create_account": create_account, "seconds": elapsed, "checkouts": len(timings),
            "checkouts_per_s": len(timings) / elapsed, "paid_p50_ms": paid[49] * 1000, "paid_p99_ms": paid[98] * 1000,
            "paid_seen_p50_ms": seen[49] * 1000, "paid_seen_p99_ms": seen[98] * 1000,
            "checkout_p50_ms": whole[49] * 1000, "checkout_p99_ms": whole[98] * 1000, "failures": len(failures),
            # Where a checkout's cost goes, process by process.
            "cpu_ms_per_checkout": {name: (after[name] - before.get(name, 0.0)) * 1000 / max(len(timings), 1)
                                    for name in after},
            "census": counted,
            # CPU ms per second with no checkout, the load generator left out (it is idle then).
            "idle_cpu_ms_per_s": {name: (idle_to[name] - idle_from.get(name, 0.0)) * 1000 / idle_elapsed
                                  for name in idle_to if name != "load generator"}}


def main() -> None:
    parser = command_line(__doc__)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--split", action="store_true", help="relay and consumers in processes of their own")
    parser.add_argument("--idle-seconds", type=float, default=10,
                        help="first measure the processes' CPU with no checkout for this long")
    parser.add_argument("--create-account", action="store_true",
                        help="each guest asks for an account at checkout (registered and claimed once paid)")
    args = parser.parse_args()
    r = measure(args.postgres, args.amqp, concurrency=args.concurrency, seconds=args.seconds, split=args.split,
                idle_seconds=args.idle_seconds, create_account=args.create_account)
    print(f"distributed mode ({'split' if args.split else 'one process per service'}), "
          f"{args.concurrency} concurrent guest checkouts "
          f"({'each asking for an account' if args.create_account else 'staying guests'}) for {args.seconds:.0f}s, "
          f"Python {platform.python_version()} at {os.path.realpath(sys.executable)}")
    print(f"checkouts: {r['checkouts']} in {r['seconds']:.1f}s = {r['checkouts_per_s']:.1f} checkouts/s")
    print(f"whole checkout (cart → paid visible): p50 {r['checkout_p50_ms']:.0f} ms, p99 {r['checkout_p99_ms']:.0f} ms")
    print(f"webhook accepted → order paid (paid_at): p50 {r['paid_p50_ms']:.0f} ms, p99 {r['paid_p99_ms']:.0f} ms")
    print(f"webhook accepted → paid seen by the buyer polling every {POLL_SECONDS * 1000:.0f} ms: "
          f"p50 {r['paid_seen_p50_ms']:.0f} ms, p99 {r['paid_seen_p99_ms']:.0f} ms")
    print(f"failed checkouts: {len(failures)}" + (f" (first: {failures[0]})" if failures else ""))
    cpu = r["cpu_ms_per_checkout"]
    print(f"CPU per checkout: {sum(cpu.values()):.0f} ms; " + ", ".join(
        f"{name} {ms:.1f}" for name, ms in sorted(cpu.items(), key=lambda item: -item[1])))
    idle = r["idle_cpu_ms_per_s"]
    print(f"idle, before the run: {sum(idle.values()):.1f} ms of CPU per second, "
          f"{sum(idle.values()) / max(r['checkouts_per_s'], 1e-9):.1f} ms per checkout at this rate; " + ", ".join(
        f"{name} {ms:.1f}" for name, ms in sorted(idle.items(), key=lambda item: -item[1])))
    counted = r["census"]
    for title, key in (("events written", "events_written"), ("deliveries recorded", "deliveries_recorded")):
        per = counted[key]
        print(f"{title} per checkout ({counted['orders']} orders): {sum(per.values()):.1f}; " + ", ".join(
            f"{name} {n:.2f}" for name, n in sorted(per.items(), key=lambda item: (-item[1], item[0]))))


if __name__ == "__main__":
    main()
