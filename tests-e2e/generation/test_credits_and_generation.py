"""Buy a credit pack with the local provider, generate, and see the money and credits — both modes."""

from __future__ import annotations

import httpx
import pytest
from infra.journeys import customer, poll

pytestmark = pytest.mark.e2e


async def pay_locally(api: httpx.AsyncClient, checkout_url: str) -> None:
    """What the customer's Pay click on the local provider's checkout page does."""
    page = await api.get(checkout_url)
    assert page.status_code == 200 and "pay" in page.text.lower()
    r = await api.post(f"{checkout_url}/pay", headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text


@pytest.mark.modes("embedded", "distributed",
                   why="the generation worker in the process (embedded) or in its own (distributed)")
async def test_credit_pack_then_generation(api: httpx.AsyncClient) -> None:
    auth = await customer(api)
    r = await api.post("/api/v1/credits/purchase", headers=auth, json={"sku": "PACK_10"})
    assert r.status_code in (200, 201), r.text
    order_id, checkout_url = r.json()["order_id"], r.json()["checkout_url"]
    await pay_locally(api, checkout_url)

    async def balance() -> int:
        return (await api.get("/api/v1/credits/balance", headers=auth)).json()["balance"]

    await poll(lambda: _eq(balance, 10), message="10 credits granted")

    async def order_done() -> dict | None:
        order = (await api.get(f"/api/v1/orders/{order_id}", headers=auth)).json()
        return order if order["status"] == "completed" else None

    order = await poll(order_done, message="digital order completed")
    assert [h["status"] for h in order["status_history"]][-2:] == ["paid", "completed"]

    async def run_job(prompt: str, batch_size: int) -> list[bytes]:
        r = await api.post("/api/v1/generation/jobs", headers=auth, json={
            "prompt": prompt, "model": "flux-pro", "batch_size": batch_size,
            "filters": {"pose": "standing", "lighting": "soft"}})
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "queued"
        job_id = r.json()["job_id"]

        async def completed() -> dict | None:
            job = (await api.get(f"/api/v1/generation/jobs/{job_id}", headers=auth)).json()
            assert job["status"] != "failed", job
            return job if job["status"] == "completed" else None

        job = await poll(completed, timeout=60, message="job completed")
        # Its progress stream through the gateway: framed events, the last one `completed`, then the end.
        async with api.stream("GET", f"/api/v1/generation/jobs/{job_id}/events", headers=auth) as stream:
            assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
            text = (await stream.aread()).decode()
        events = [block for block in text.split("\n\n") if block.startswith("event:")]
        assert events and events[-1].startswith("event: completed\ndata: ") and '"progress":100' in events[-1]
        images = []
        for ref in job["images"]:
            image = await api.get(ref["url"])
            assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
            images.append(image.content)
        return images

    first = await run_job("a dancer mid-leap", 2)  # flux-pro × 2: 4 credits
    assert len(first) == 2 and first[0] != first[1]
    second = await run_job("a sleeping cat", 1)  # 2 credits
    assert second[0] not in first  # another prompt, other bytes
    assert await balance() == 4
    for _ in range(2):  # 4 credits left: two more single images, then nothing
        await run_job("a tree", 1)
    r = await api.post("/api/v1/generation/jobs", headers=auth, json={"prompt": "one too many", "model": "flux-pro"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "INSUFFICIENT_CREDITS"

    assert await balance() == 0
    kinds = [(t["transaction_type"], t["amount"]) for t in
             (await api.get("/api/v1/credits/transactions", headers=auth)).json()]
    assert kinds.count(("consume", -2)) == 3 and ("consume", -4) in kinds and ("purchase", 10) in kinds

    async def ledger() -> list | None:
        entries = (await api.get("/api/v1/billing/ledger", headers=auth)).json()["results"]
        return entries if len(entries) >= 3 else None

    entries = await poll(ledger, message="ledger has the payment and the spends")
    assert {e["kind"] for e in entries} >= {"payment", "credit_consumed"}


async def _eq(fetch, expected) -> bool:
    return await fetch() == expected
