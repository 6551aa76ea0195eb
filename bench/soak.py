"""Soak: a mixed workload against the distributed mode for a bounded time, watched every minute.

Starts `atelier up` (split: one process per role) on a fresh set of databases and queues, then runs
browse / search / detail / guest checkout / generation for `--minutes` (default 30) at a steady
pace, and prints every `--every` seconds: RSS per process, outbox and inbox rows per service
database, queue and dead-letter depths, requests and errors so far. At the end: each process's RSS
growth after the warm-up, the largest table sizes, the error count. Figures only, no assertion.

    uv run python -m bench.soak --minutes 30            # docs/benchmarks.md quotes one run
    uv run python -m bench.soak --minutes 3 --every 30  # a quick look
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
import uuid
from collections import Counter
from pathlib import Path

import aio_pika
import httpx
import psycopg

from atelier_testing.mail import token_from
from atelier_testing.platform import STAFF_EMAIL, STAFF_PASSWORD, wait_healthy
from bench import command_line
from bench.checkout import checkout
from bench.own_platform import Run, staff_token

# Idle connections are dropped before uvicorn's 5 s keep-alive ends them: a request sent on a
# connection the server is closing fails, which a browser would retry and httpx does not.
LIMITS = httpx.Limits(keepalive_expiry=3)
SERVICES = ("identity", "catalog", "cart", "orders", "payments", "generation")
CONSUMERS = (*SERVICES, "generation-worker", "identity-worker")


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def table_rows(server: str, prefix: str) -> dict[str, dict[str, int]]:
    """Rows of the tables that grow with traffic, per service database (planner estimates for the
    big ones would hide a leak: exact counts, cheap at soak sizes)."""
    out: dict[str, dict[str, int]] = {}
    for service in SERVICES:
        counts: dict[str, int] = {}
        with psycopg.connect(f"{server.rstrip('/')}/{prefix}{service}", autocommit=True) as conn:
            for table in ("outbox", "inbox", "idempotency_key"):
                try:
                    counts[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                except psycopg.errors.UndefinedTable:
                    continue
        out[service] = counts
    return out


async def queue_depths(amqp: str, prefix: str) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    conn = await aio_pika.connect(amqp)
    async with conn:
        for consumer in CONSUMERS:
            depths = []
            for suffix in ("", ".dlq"):
                try:
                    async with conn.channel() as channel:
                        queue = await channel.declare_queue(f"{prefix}{consumer}.events{suffix}", passive=True)
                        depths.append(queue.declaration_result.message_count or 0)
                except Exception:
                    depths.append(-1)
            out[consumer] = (depths[0], depths[1])
    return out


class Workload:
    """Virtual customers, each looping over a weighted mix of journeys with a think time."""

    # Generation runs on its own clock (`generator`), one job at a time: its cost is credits.
    MIX = (("browse", 40), ("search", 20), ("detail", 25), ("checkout", 10))

    def __init__(self, url: str, staff: str, product_ids: list[str], think: float) -> None:
        self.url = url
        self.staff = {"Authorization": f"Bearer {staff}"}
        self.products = product_ids
        self.think = think
        self.requests = Counter[str]()
        self.errors = Counter[str]()
        self.latencies: dict[str, list[float]] = {name: [] for name, _ in (*self.MIX, ("generate", 0))}

    async def _call(self, client: httpx.AsyncClient, kind: str, method: str, path: str, **kwargs) -> httpx.Response:
        response = await client.request(method, path, **kwargs)
        self.requests[kind] += 1
        if response.status_code >= 400:
            self.errors[f"{kind} {response.status_code}"] += 1
        return response

    async def journey(self, client: httpx.AsyncClient, kind: str, creator: dict[str, str]) -> None:
        if kind == "browse":
            await self._call(client, kind, "GET", "/api/v1/products", params={"limit": 20, "offset": random.randrange(0, 40)})
        elif kind == "search":
            await self._call(client, kind, "GET", "/api/v1/products", params={"search": random.choice(["marble", "slab", "granite", "onyx"])})
        elif kind == "detail":
            await self._call(client, kind, "GET", f"/api/v1/products/{random.choice(self.products)}")
        elif kind == "checkout":
            # A new guest each time, as a shop sees it: one visitor's anonymous identity is claimed by
            # the buyer its first payment registers (and holds at most 10 addresses).
            async with httpx.AsyncClient(base_url=self.url, timeout=60, limits=LIMITS) as guest:
                await checkout(guest, self.products[0], self.staff)
            self.requests[kind] += 7
        elif kind == "generate":
            job = await self._call(client, kind, "POST", "/api/v1/generation/jobs", headers=creator, json={
                "prompt": f"soak figure {uuid.uuid4().hex[:6]}", "filters": {"pose": "standing"}, "batch_size": 1,
                "model": "flux-pro"})
            if job.status_code == 202:
                job_id = job.json()["job_id"]
                for _ in range(600):
                    status = (await self._call(client, kind, "GET", f"/api/v1/generation/jobs/{job_id}", headers=creator)).json()
                    if status.get("status") in ("completed", "failed"):
                        if status["status"] == "failed":
                            self.errors["generate failed"] += 1
                        break
                    await asyncio.sleep(0.2)

    async def generator(self, deadline: float, creator: dict[str, str], refresh: str, every: float) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=60, limits=LIMITS) as client:
            renewed = time.monotonic()
            while time.monotonic() < deadline:
                if time.monotonic() - renewed > 600:  # access tokens live 15 minutes: rotate like a client
                    tokens = (await self._call(client, "generate", "POST", "/api/v1/auth/refresh",
                                               json={"refresh": refresh})).json()
                    creator["Authorization"], refresh = f"Bearer {tokens['access']}", tokens["refresh"]
                    renewed = time.monotonic()
                started = time.perf_counter()
                try:
                    await self.journey(client, "generate", creator)
                except (httpx.HTTPError, KeyError, ValueError) as exc:
                    self.errors[f"generate {type(exc).__name__}"] += 1
                self.latencies["generate"].append(time.perf_counter() - started)
                await asyncio.sleep(max(0.0, every - (time.perf_counter() - started)))

    async def staff_session(self, deadline: float) -> None:
        """Keep the staff token that watches orders fresh (access tokens live 15 minutes)."""
        async with httpx.AsyncClient(base_url=self.url, timeout=60, limits=LIMITS) as client:
            while time.monotonic() < deadline:
                await asyncio.sleep(min(600.0, max(0.0, deadline - time.monotonic())))
                tokens = (await self._call(client, "staff", "POST", "/api/v1/auth/login",
                                           json={"email": STAFF_EMAIL, "password": STAFF_PASSWORD})).json()
                self.staff["Authorization"] = f"Bearer {tokens['access']}"

    async def customer(self, deadline: float, creator: dict[str, str]) -> None:
        names = [name for name, _ in self.MIX]
        weights = [weight for _, weight in self.MIX]
        async with httpx.AsyncClient(base_url=self.url, timeout=60, limits=LIMITS) as client:
            while time.monotonic() < deadline:
                kind = random.choices(names, weights)[0]
                started = time.perf_counter()
                try:
                    await self.journey(client, kind, creator)
                except (httpx.HTTPError, KeyError, ValueError) as exc:
                    self.errors[f"{kind} {type(exc).__name__}"] += 1
                self.latencies[kind].append(time.perf_counter() - started)
                await asyncio.sleep(self.think)


async def creator_headers(url: str, packs: int) -> tuple[dict[str, str], str]:
    """A customer who can generate: registered, verified through the dev mailbox, given credits by
    a paid credit pack (the local provider's checkout). Returns their headers and refresh token."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        email = f"soak-{uuid.uuid4().hex[:10]}@example.com"
        password = "soak-password-1"
        (await client.post("/api/v1/auth/register", json={
            "email": email, "password": password, "password_confirm": password,
            "first_name": "Soak", "last_name": "Creator"})).raise_for_status()
        for _ in range(100):
            mail = (await client.get("/api/dev/mailbox", params={"to": email})).json()["results"]
            if mail:
                break
            await asyncio.sleep(0.2)
        token = token_from(mail[0])
        (await client.post("/api/v1/auth/verify-email", json={"token": token})).raise_for_status()
        tokens = (await client.post("/api/v1/auth/login", json={"email": email, "password": password})).json()
        headers = {"Authorization": f"Bearer {tokens['access']}"}
        for _ in range(packs):
            bought = (await client.post("/api/v1/credits/purchase", headers=headers, json={"sku": "PACK_10"})).json()
            (await client.post(f"{bought['checkout_url']}/pay", headers={"Accept": "application/json"})).raise_for_status()
        return headers, tokens["refresh"]


def main() -> None:
    parser = command_line(__doc__)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--every", type=float, default=60, help="seconds between two reports")
    parser.add_argument("--customers", type=int, default=6)
    parser.add_argument("--think", type=float, default=0.2, help="seconds a customer waits between journeys")
    parser.add_argument("--generate-every", type=float, default=10, help="seconds between two generation jobs")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for every process (repeatable)")
    args = parser.parse_args()

    trial = Run.new("soak")
    prefix, queues, url = trial.prefix, trial.queues, trial.url
    extra = {
        "ATELIER_DEV_ENDPOINTS": "true", "ATELIER_CATALOG_SEED_DEMO_DATA": "true", "ATELIER_PUBLIC_BASE_URL": url,
        "ATELIER_ACCESS_LOG": "false",
        "ATELIER_GATEWAY_RATE_LIMIT_DEFAULT": "1000000000/hour",
        "ATELIER_GATEWAY_RATE_LIMIT_PER_IP": "1000000000/hour",
        "ATELIER_GATEWAY_RATE_LIMIT_CREDENTIALS_PER_IP": "1000000000/minute",
        "ATELIER_IDENTITY_PASSWORD_HASH_TIME_COST": "1", "ATELIER_IDENTITY_PASSWORD_HASH_MEMORY_COST_KIB": "1024",
    }
    extra.update(dict(item.split("=", 1) for item in args.env))
    topology = trial.topology(args.postgres, args.amqp, split=True, env=extra)
    topology.prepare()
    topology.start()
    root = topology.children[-1][1]
    samples: list[dict[str, float]] = []
    with trial.cleanup(args.postgres, args.amqp, topology):
        wait_healthy(url, root, 240)
        with httpx.Client(base_url=url, timeout=30) as client:
            staff = staff_token(client)
            product_ids = [p["id"] for p in client.get("/api/v1/products", params={"limit": 50, "kind": "physical"}).json()["results"]]
            product = client.post("/api/v1/products", headers={"Authorization": f"Bearer {staff}"}, json={
                "name": "Soak slab", "sku": f"SOAK-{trial.name}", "price": "25.00", "stock_quantity": 10_000_000,
                "kind": "physical", "description": "Soak product"}).json()
        product_ids.insert(0, product["id"])
        workload = Workload(url, staff, product_ids, args.think)
        jobs = int(args.minutes * 60 / args.generate_every) + 1
        creator, refresh = asyncio.run(creator_headers(url, packs=jobs * 2 // 10 + 1))  # PACK_10, 2 credits a job
        pids = {name: proc.pid for name, proc in topology.children}

        async def soak() -> None:
            started = time.monotonic()
            deadline = started + args.minutes * 60
            runners = [asyncio.create_task(workload.customer(deadline, creator)) for _ in range(args.customers)]
            runners.append(asyncio.create_task(workload.generator(deadline, creator, refresh, args.generate_every)))
            runners.append(asyncio.create_task(workload.staff_session(deadline)))
            minute = 0
            while time.monotonic() < deadline:
                await asyncio.sleep(min(args.every, max(0.0, deadline - time.monotonic())))
                minute += 1
                rss = {name: rss_mb(pid) for name, pid in pids.items()}
                try:  # an observation that fails is shown, it does not end the soak
                    rows = await asyncio.to_thread(table_rows, args.postgres, prefix)
                except psycopg.Error as exc:
                    rows = {"(unavailable)": {str(exc).splitlines()[0][:80]: 0}}
                try:
                    depths = await queue_depths(args.amqp, queues)
                except Exception as exc:
                    depths = {f"(unavailable: {exc})"[:80]: (0, 0)}
                samples.append(rss)
                elapsed = time.monotonic() - started
                total = sum(workload.requests.values())
                print(f"\n[{elapsed / 60:5.1f} min] requests {total} ({total / elapsed:.0f}/s), "
                      f"errors {sum(workload.errors.values())} {dict(workload.errors) or ''}")
                print("  RSS MB: " + ", ".join(f"{n} {v:.0f}" for n, v in sorted(rss.items())))
                print("  rows:   " + ", ".join(f"{s} " + "/".join(f"{t}={c}" for t, c in r.items()) for s, r in rows.items()))
                print("  queues (waiting/dead): " + ", ".join(f"{c} {m}/{d}" for c, (m, d) in depths.items()), flush=True)
            await asyncio.gather(*runners)

        asyncio.run(soak())

    print("\nsummary")
    if len(samples) >= 3:
        warm, last = samples[1], samples[-1]
        growth = {n: (last[n] - warm[n]) / warm[n] * 100 for n in warm if warm[n] and n in last}
        worst = max(growth.items(), key=lambda item: item[1])
        print(f"  RSS growth after warm-up (report 2 → last): worst {worst[0]} {worst[1]:+.1f} %, "
              f"median {statistics.median(growth.values()):+.1f} %")
    for kind, values in workload.latencies.items():
        if len(values) >= 2:
            q = statistics.quantiles(values, n=100)
            print(f"  {kind}: {len(values)} journeys, p50 {q[49] * 1000:.0f} ms, p99 {q[98] * 1000:.0f} ms")
    print(f"  requests {sum(workload.requests.values())}, errors {sum(workload.errors.values())} {dict(workload.errors)}")


if __name__ == "__main__":
    main()
