"""Dead letters an operator can handle, through the gateway's staff API, in the distributed mode:
an event no consumer can read lands in the catalog's dead-letter queue, is listed and shown, a
replay hands it back to the consumer (which dead-letters it again), and a drop removes it.
(Fixed-and-replayed-applied-once: libs/common/tests/infra/test_rabbitmq.py::TestDeadLetters.)"""

from __future__ import annotations

import httpx
import pytest
from infra.dead_letters import poison
from infra.journeys import customer, poll, staff

from atelier_common.contracts.identity import UserDeleted
from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e
API = "/api/v1/ops/dead-letters"


async def test_an_unreadable_event_is_listed_replayed_and_dropped(distributed_platform: Platform,
                                                                   amqp_url: str) -> None:
    async with httpx.AsyncClient(base_url=distributed_platform.url, timeout=30) as api:
        headers = await staff(api)
        assert (await api.get(API, headers=await customer(api))).status_code == 403
        # A version no consumer knows: every consumer of the type fails it, retries, and dead-letters it.
        poisoned = await poison(distributed_platform, amqp_url)

        async def dead_lettered() -> dict | None:
            r = await api.get(f"{API}/catalog", headers=headers)
            assert r.status_code == 200, r.text
            return next((d for d in r.json()["results"] if d["id"] == str(poisoned.id)), None)

        letter = await poll(dead_lettered, timeout=120, interval=1, message="the poisoned event in catalog's dead letters")
        assert letter["type"] == UserDeleted.type and "v99" in letter["error"]
        counts = {c["consumer"]: c["count"] for c in (await api.get(API, headers=headers)).json()["consumers"]}
        assert counts["catalog"] >= 1 and "generation-worker" in counts

        shown = (await api.get(f"{API}/catalog/{poisoned.id}", headers=headers)).json()
        assert shown["envelope"]["version"] == 99 and shown["envelope"]["data"] == poisoned.data

        replayed = await api.post(f"{API}/catalog/replay", json={"ids": [str(poisoned.id)]}, headers=headers)
        assert replayed.json() == {"replayed": 1}
        # Back in the consumer's queue, it fails the same way and returns, retried again.
        await poll(dead_lettered, timeout=120, interval=1, message="the replayed event dead-lettered again")

        dropped = await api.post(f"{API}/catalog/drop", json={"ids": [str(poisoned.id)]}, headers=headers)
        assert dropped.json() == {"dropped": 1}
        assert (await api.get(f"{API}/catalog/{poisoned.id}", headers=headers)).status_code == 404
