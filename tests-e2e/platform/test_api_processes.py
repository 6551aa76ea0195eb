"""A service run as two API processes (`atelier up --api-processes 2`) keeps serving when one of
them is killed: the gateway spreads requests over both and sends a request the dead one refused
(or dropped, when repeating it is safe) to its sibling. Reads and keyed POSTs of orders, sent
through the gateway from before the kill until the supervisor has started the killed process
again, are answered without one 5xx.

Distributed only: one process per service API is what the embedded mode has no notion of."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from infra.journeys import ADDRESS, customer, poll, simple_product_in_stock

from atelier_gateway.settings import SERVICES
from atelier_testing.platform import Platform, distributed

pytestmark = pytest.mark.e2e

LOAD = 6  # requests in flight at once


@pytest.fixture
def two_api_processes(tmp_path: Path, postgres_server_url: str, amqp_url: str) -> Iterator[Platform]:
    with distributed(tmp_path, postgres_server_url, amqp_url, split=False, api_processes=2) as platform:
        yield platform


async def place_keyed_order(api: httpx.AsyncClient, auth: dict[str, str], key: str) -> dict[str, str]:
    """Places an order of one product with `key`: the body to send with it again."""
    product = await simple_product_in_stock(api)
    assert (await api.post("/api/v1/cart/items", headers=auth,
                           json={"product_id": product["id"], "quantity": 1})).status_code == 201
    address = (await api.post("/api/v1/addresses", headers=auth, json=ADDRESS)).json()
    body = {"shipping_address_id": address["id"]}
    placed = await api.post("/api/v1/orders", headers={**auth, "Idempotency-Key": key}, json=body)
    assert placed.status_code == 201, placed.text
    return body


async def test_killing_one_of_two_api_processes_answers_no_5xx(two_api_processes: Platform) -> None:
    platform = two_api_processes
    async with httpx.AsyncClient(base_url=platform.url, timeout=60) as api:
        auth = await customer(api)
        key = str(uuid.uuid4())
        body = await place_keyed_order(api, auth, key)
        order_id = (await api.get("/api/v1/orders", headers=auth)).json()["results"][0]["id"]

        processes = platform.api_processes("orders")
        gateway_port = urlsplit(platform.url).port
        assert gateway_port is not None
        first_port = gateway_port + 1 + SERVICES.index("orders")  # `--base-port` is the gateway's port + 1
        assert len(processes) == 2 and first_port in processes, processes
        victim = processes[first_port]  # the first URL: a gateway that used one URL only would fail

        answers: list[tuple[str, int, str]] = []
        stop = asyncio.Event()
        killed = asyncio.Event()
        after_kill = 0

        async def keep_sending(worker: int) -> None:
            nonlocal after_kill
            n = 0
            while not stop.is_set():
                n += 1
                if (n + worker) % 3 == 0:  # a keyed POST: the order placed above, replayed
                    request = api.build_request("POST", "/api/v1/orders", headers={**auth, "Idempotency-Key": key},
                                                json=body)
                elif (n + worker) % 3 == 1:
                    request = api.build_request("GET", f"/api/v1/orders/{order_id}", headers=auth)
                else:
                    request = api.build_request("GET", "/api/v1/orders", headers=auth)
                r = await api.send(request)
                answers.append((f"{request.method} {request.url.path}", r.status_code, r.text[:200]))
                if killed.is_set():
                    after_kill += 1

        senders = [asyncio.create_task(keep_sending(i)) for i in range(LOAD)]
        async def under_way() -> bool:
            return len(answers) >= 30

        async def started_again_under_load() -> bool:
            now = await asyncio.to_thread(platform.api_processes, "orders")
            return len(now) == 2 and now.get(first_port) not in (None, victim) and after_kill >= 100

        try:
            await poll(under_way, timeout=60, message="the load under way")
            os.kill(victim, signal.SIGKILL)
            killed.set()
            # The whole time the killed process is missing, and a while after, under load.
            await poll(started_again_under_load, timeout=120, message="the killed process started again, under load")
        finally:
            stop.set()
            await asyncio.gather(*senders, return_exceptions=True)
        for sender in senders:
            sender.result()  # a request cut off (no answer at all) fails the test too

    failed = [answer for answer in answers if answer[1] >= 500]
    assert not failed, f"{len(failed)} of {len(answers)} answered 5xx, e.g. {failed[:3]}"
    others = [answer for answer in answers if answer[1] not in (200, 201)]  # 201: the stored answer, replayed
    assert not others, others[:3]
