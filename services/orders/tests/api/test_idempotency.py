"""POST /api/v1/orders with an Idempotency-Key: a retried placement is the first one's answer."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from atelier_testing import ServiceHarness

from ..conftest import Customer, FakePlatform, assert_error


async def _place(customer: Customer, key: str | None, **body: Any) -> httpx.Response:
    headers = {**customer.headers, **({"Idempotency-Key": key} if key is not None else {})}
    return await customer.client.post("/api/v1/orders", json=body, headers=headers)


async def _order_count(customer: Customer) -> int:
    response = await customer.client.get("/api/v1/orders", headers=customer.headers)
    assert response.status_code == 200, response.text
    return response.json()["count"]


def _body(platform: FakePlatform, customer: Customer, quantity: int = 1) -> dict[str, Any]:
    lamp = platform.product(price="59.48")
    return {"items": [{"product_id": lamp["id"], "quantity": quantity}],
            "shipping_address_id": platform.address(customer.owner_id)}


class TestIdempotencyKey:
    async def test_no_database_connection_is_held_while_other_services_answer(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        """The key is claimed in a transaction of its own: the placement's calls to catalog, cart and
        identity run with no connection of orders' pool checked out (a pool of 10 would otherwise
        be emptied by 10 slow placements)."""
        body = _body(platform, customer)
        waiting, release = platform.transports["catalog"].hold()
        placing = asyncio.create_task(_place(customer, str(uuid.uuid4()), **body))
        try:
            await asyncio.wait_for(waiting.wait(), 30)
            # Polled: a background task of the service (the outbox relay) may hold one for a moment;
            # the placement, held on catalog, would hold its own throughout.
            pool = harness.runtime.db.engine.pool
            deadline = asyncio.get_running_loop().time() + 20
            while pool.checkedout() != 0:
                assert asyncio.get_running_loop().time() < deadline, "a connection held while catalog answers"
                await asyncio.sleep(0.05)
        finally:
            release.set()
        assert (await placing).status_code == 201
        assert await _order_count(customer) == 1

    async def test_the_same_key_and_body_answers_the_first_response_and_places_once(
            self, customer: Customer, platform: FakePlatform) -> None:
        body = _body(platform, customer)
        key = str(uuid.uuid4())
        first = await _place(customer, key, **body)
        again = await _place(customer, key, **body)
        assert first.status_code == again.status_code == 201, first.text
        assert again.content == first.content
        assert again.headers.get("idempotent-replayed") == "true"
        assert "idempotent-replayed" not in first.headers
        assert await _order_count(customer) == 1

    async def test_the_same_key_with_another_body_is_refused(self, customer: Customer,
                                                             platform: FakePlatform) -> None:
        body = _body(platform, customer)
        key = str(uuid.uuid4())
        assert (await _place(customer, key, **body)).status_code == 201
        other = {**body, "items": [{**body["items"][0], "quantity": 2}]}
        assert_error(await _place(customer, key, **other), 409, "IDEMPOTENCY_KEY_REUSED")
        assert await _order_count(customer) == 1

    async def test_without_the_header_every_request_places_an_order(self, customer: Customer,
                                                                    platform: FakePlatform) -> None:
        body = _body(platform, customer)
        first, second = await _place(customer, None, **body), await _place(customer, None, **body)
        assert first.status_code == second.status_code == 201
        assert first.json()["id"] != second.json()["id"]
        assert await _order_count(customer) == 2

    async def test_the_key_is_the_callers_own(self, customer: Customer, other_customer: Customer,
                                              platform: FakePlatform) -> None:
        key = str(uuid.uuid4())
        mine = await _place(customer, key, **_body(platform, customer))
        theirs = await _place(other_customer, key, **_body(platform, other_customer))
        assert mine.status_code == theirs.status_code == 201
        assert mine.json()["id"] != theirs.json()["id"]

    async def test_a_failed_placement_is_not_remembered(self, customer: Customer, platform: FakePlatform) -> None:
        body = _body(platform, customer)
        key = str(uuid.uuid4())
        platform.down("catalog")
        assert (await _place(customer, key, **body)).status_code == 503
        platform.transports["catalog"].down = False
        retried = await _place(customer, key, **body)
        assert retried.status_code == 201, retried.text
        assert "idempotent-replayed" not in retried.headers
        assert await _order_count(customer) == 1

    async def test_an_anonymous_caller_can_use_a_key(self, anonymous: Customer, platform: FakePlatform) -> None:
        body = _body(platform, anonymous)
        key = str(uuid.uuid4())
        first, again = await _place(anonymous, key, **body), await _place(anonymous, key, **body)
        assert first.status_code == again.status_code == 201
        assert again.content == first.content
