"""The distributed platform under a burst, on a PostgreSQL with max_connections=100: 48 Pays at
once and 24 generation jobs at once — no 5xx, every order paid, no job failed."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest
from infra.journeys import customer, poll

from atelier_testing.platform import Platform

pytestmark = [pytest.mark.e2e, pytest.mark.long_tail(why="load: pays and jobs at once")]

BUYERS, PAYS_EACH, JOBS_EACH = 3, 16, 8  # 8 jobs each stays under the free tier's 10 a minute


async def _orders_to_pay(api: httpx.AsyncClient, auth: dict[str, str]) -> list[str]:
    checkouts = []
    for _ in range(PAYS_EACH):
        r = await api.post("/api/v1/orders", headers=auth, json={"items": [{"sku": "PACK_5", "quantity": 1}]})
        assert r.status_code == 201, r.text
        r = await api.post("/api/v1/payments/checkout", headers=auth, json={
            "order_id": r.json()["id"], "success_url": "http://localhost:3000/ok", "cancel_url": "http://localhost:3000/no"})
        assert r.status_code == 200, r.text
        checkouts.append(r.json()["checkout_url"])
    return checkouts


async def test_48_pays_and_24_jobs_at_once(distributed_platform: Platform) -> None:
    limits = httpx.Limits(max_connections=BUYERS * PAYS_EACH + 4)
    async with httpx.AsyncClient(base_url=distributed_platform.url, timeout=120, limits=limits) as api:
        buyers = [await customer(api) for _ in range(BUYERS)]
        checkouts = [url for auth in buyers for url in await _orders_to_pay(api, auth)]

        pays = await asyncio.gather(*(api.post(f"{url}/pay", headers={"Accept": "application/json"})
                                      for url in checkouts))
        assert Counter(r.status_code for r in pays) == {200: len(checkouts)}, [
            r.text for r in pays if r.status_code != 200][:3]

        async def everyone_credited() -> bool:
            for auth in buyers:
                r = await api.get("/api/v1/credits/balance", headers=auth)
                if r.status_code != 200 or r.json()["balance"] != PAYS_EACH * 5:
                    return False
            return True

        await poll(everyone_credited, timeout=180, interval=1, message="every paid pack's credits granted")

        submitted = await asyncio.gather(*(api.post("/api/v1/generation/jobs", headers=auth, json={
            "prompt": f"a lighthouse, study {n}", "model": "flux-schnell"}) for auth in buyers for n in range(JOBS_EACH)))
        assert Counter(r.status_code for r in submitted) == {202: BUYERS * JOBS_EACH}, [r.text for r in submitted][:3]
        jobs = [(auth, r.json()["job_id"]) for auth, r in zip(
            [a for a in buyers for _ in range(JOBS_EACH)], submitted, strict=True)]

        async def all_done() -> list[str] | None:
            statuses = [(await api.get(f"/api/v1/generation/jobs/{job_id}", headers=auth)).json()["status"]
                        for auth, job_id in jobs]
            return statuses if all(s in ("completed", "failed") for s in statuses) else None

        statuses = await poll(all_done, timeout=300, interval=2, message="every job finished")
        assert Counter(statuses) == {"completed": BUYERS * JOBS_EACH}
