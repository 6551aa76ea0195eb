"""Benchmark: how many hosted-provider jobs one generation worker process follows at once.

Starts `atelier up --split` (generation's worker its own process) on the local PostgreSQL and
RabbitMQ, with fal.ai's loopback fake answering every job after `--delay` seconds (2 by default)
and a free model on it, then submits `--jobs` jobs at once through the gateway and waits for them
all. Reports the most jobs the fake had in flight at the same moment, the wall time against the
ideal (jobs × delay ÷ in flight), and the worker process's thread count sampled during the run
(a thread per job would show as one per job in flight). Figures only, no assertions; do not run
it on a shared machine.

    uv run python -m bench.providers [--jobs 100] [--delay 2] [--prefetch 128]
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from atelier_testing.fakes.providers import FakeServer
from atelier_testing.fakes.providers.fal import API_KEY, FakeFal
from atelier_testing.platform import STAFF_EMAIL, STAFF_PASSWORD, wait_healthy
from bench import command_line
from bench.own_platform import Run

MODEL = {"id": "bench-fal", "name": "Bench on fal", "credits": 0, "kind": "image", "provider": "fal",
         "provider_model": "fal-ai/flux/schnell"}


def threads_of(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def max_in_flight(fake: FakeFal, delay: float) -> int:
    """The most fake jobs alive at one moment (each lives `delay` seconds from its submit)."""
    events = sorted([(job.created, 1) for job in fake.submits] + [(job.created + delay, -1) for job in fake.submits])
    alive = peak = 0
    for _, change in events:
        alive += change
        peak = max(peak, alive)
    return peak


async def run_jobs(url: str, jobs: int, timeout: float) -> tuple[float, dict[str, int]]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        password = "correct-horse-battery"
        r = await client.post("/api/v1/auth/register", json={"email": email, "password": password,
                                                              "password_confirm": password, "first_name": "Bench",
                                                              "last_name": "Load"})
        r.raise_for_status()
        access = r.json().get("access") or (await client.post(
            "/api/v1/auth/login", json={"email": email, "password": password})).json()["access"]
        auth = {"Authorization": f"Bearer {access}"}
        # A new account has no wallet yet, and a free model still debits one: finance grants credits.
        staff = (await client.post("/api/v1/auth/login", json={"email": STAFF_EMAIL, "password": STAFF_PASSWORD})).json()
        me = (await client.get("/api/v1/users/me", headers=auth)).json()
        r = await client.post(f"/api/v1/staff/credits/{me['id']}", json={"amount": 10 * jobs, "reason": "bench"},
                              headers={"Authorization": f"Bearer {staff['access']}"})
        r.raise_for_status()
        started = time.monotonic()
        answers = await asyncio.gather(*(client.post("/api/v1/generation/jobs", headers=auth, json={
            "prompt": f"bench picture {n}", "model": MODEL["id"]}) for n in range(jobs)))
        ids = [a.json()["job_id"] for a in answers if a.status_code == 202]
        refused = [a for a in answers if a.status_code != 202]
        if refused:  # what the platform said, so that a refused run explains itself
            print(f"{len(refused)} submits refused, e.g. {refused[0].status_code} {refused[0].text[:300]}", flush=True)
        statuses: dict[str, int] = {}
        pending = set(ids)
        while pending and time.monotonic() - started < timeout:
            for job_id in list(pending):
                job = (await client.get(f"/api/v1/generation/jobs/{job_id}", headers=auth)).json()
                if job["status"] in ("completed", "failed", "blocked"):
                    statuses[job["status"]] = statuses.get(job["status"], 0) + 1
                    pending.discard(job_id)
            await asyncio.sleep(0.5)
        statuses["unfinished"] = len(pending)
        statuses["refused_at_submit"] = jobs - len(ids)
        return time.monotonic() - started, statuses


def measure(postgres: str, amqp: str, *, jobs: int = 100, delay: float = 2.0, prefetch: int = 128) -> dict[str, Any]:
    fake_server = FakeServer(FakeFal(delay=delay)).start()
    fake = fake_server.fake
    assert isinstance(fake, FakeFal)
    trial = Run.new(ports=7 + 26)
    url = trial.url
    topology = trial.topology(postgres, amqp, split=True, env={
        "ATELIER_PUBLIC_BASE_URL": url,
        "ATELIER_RELAY_POLL_SECONDS": "0.5",
        "ATELIER_IDENTITY_REQUIRE_VERIFIED_EMAIL": "false",
        "ATELIER_GATEWAY_RATE_LIMIT_DEFAULT": "1000000000/hour",
        "ATELIER_GENERATION_GENERATION_RATE_LIMITS": json.dumps({"free": "1000000/minute"}),
        "ATELIER_GENERATION_CONSUMER_PREFETCH": str(prefetch),
        "ATELIER_GENERATION_PROVIDERS": json.dumps({"fal": {"api_key": API_KEY, "base_url": fake_server.url}}),
        "ATELIER_GENERATION_MODELS": json.dumps([MODEL]),
        "ATELIER_GENERATION_PROVIDER_POLL_SECONDS": "0.5",
        "ATELIER_GENERATION_PROVIDER_POLL_MAX_SECONDS": "1",
        "ATELIER_IDENTITY_PASSWORD_HASH_TIME_COST": "1",
        "ATELIER_IDENTITY_PASSWORD_HASH_MEMORY_COST_KIB": "1024",
    })
    topology.prepare()
    topology.start()
    samples: list[int] = []
    stop = threading.Event()
    try:
        with trial.cleanup(postgres, amqp, topology):
            wait_healthy(url, topology.children[-1][1], 240)
            worker = next(proc.pid for name, proc in topology.children if name == "generation-worker")
            idle_threads = threads_of(worker)

            def sample() -> None:
                while not stop.wait(0.2):
                    samples.append(threads_of(worker))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            try:
                elapsed, statuses = asyncio.run(run_jobs(url, jobs, timeout=max(120.0, jobs * delay)))
            finally:
                stop.set()
                sampler.join()
    finally:
        fake_server.stop()
    peak = max_in_flight(fake, delay)
    return {"jobs": jobs, "delay_s": delay, "prefetch": prefetch, "seconds": elapsed, "statuses": statuses,
            "max_in_flight": peak, "ideal_seconds": jobs * delay / max(peak, 1), "submits": fake.submit_count(),
            "worker_threads_idle": idle_threads, "worker_threads_max": max(samples, default=0)}


def main() -> None:
    parser = command_line(__doc__)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--delay", type=float, default=2.0)
    parser.add_argument("--prefetch", type=int, default=128)
    args = parser.parse_args()
    r = measure(args.postgres, args.amqp, jobs=args.jobs, delay=args.delay, prefetch=args.prefetch)
    print(json.dumps(r, indent=2))
    print(f"{r['jobs']} jobs, fake answering after {r['delay_s']:g}s: {r['max_in_flight']} in flight at once, "
          f"{r['seconds']:.1f}s (ideal {r['ideal_seconds']:.1f}s); worker threads {r['worker_threads_idle']} idle, "
          f"{r['worker_threads_max']} at most")


if __name__ == "__main__":
    main()
