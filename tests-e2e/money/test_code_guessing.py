"""Discount codes cannot be guessed without limit (docs/limits.md#discount-codes), through the
gateway in both modes: 300 guesses from one guest, from a fresh guest each, or from a signed-in
customer meet 429 well before the 300th; a shopper's real code right after, from the same address,
still applies; another address is not counted. Each party binds its own loopback address, which
the gateway forwards to the services as the client's (as tests-e2e/identity does)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from infra.journeys import ADDRESS, customer, staff

from atelier_testing import assert_error
from atelier_testing.platform import Platform

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.modes("embedded", "distributed", why="limits counted in the process (embedded) or shared in Redis (distributed)"),
]

URL = "/api/v1/cart/promotion-code"
GUESSES = 300
# Addresses no other test uses: the counts of one test never meet another's.
GUEST_GUESSER, FRESH_GUESSER, CUSTOMER_GUESSER, ORDER_GUESSER, ELSEWHERE = (
    "127.0.0.21", "127.0.0.22", "127.0.0.23", "127.0.0.24", "127.0.0.25")


@asynccontextmanager
async def client_from(platform: Platform, address: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform.url, timeout=30,
                                 transport=httpx.AsyncHTTPTransport(local_address=address)) as client:
        yield client


async def real_code(api: httpx.AsyncClient) -> str:
    code = f"REAL{uuid.uuid4().hex[:8].upper()}"
    r = await api.post("/api/v1/staff/promotions", headers=await staff(api), json={
        "name": "Five off", "code": code, "kind": "fixed", "value": "5"})
    assert r.status_code == 201, r.text
    return code


async def guest_with_a_line(client: httpx.AsyncClient, product_id: str) -> dict[str, str]:
    """A new guest (the gateway mints it) with `product_id` in their cart: their headers."""
    client.cookies.clear()
    r = await client.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": 1})
    assert r.status_code == 201, r.text
    client.cookies.clear()
    return {"X-Session-ID": r.headers["x-anonymous-token"]}


async def product(api: httpx.AsyncClient) -> str:
    sku = f"GUESS-{uuid.uuid4().hex[:8]}"
    r = await api.post("/api/v1/products", headers=await staff(api), json={
        "name": f"Guessing lamp {sku}", "sku": sku, "price": "40.00", "stock_quantity": 500, "kind": "physical"})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def refused_by(response: httpx.Response, limit: str) -> None:
    error = assert_error(response, 429, "RATE_LIMITED")
    assert error["details"]["limit"] == limit and int(response.headers["retry-after"]) >= 1, response.text


def first_429(responses: list[httpx.Response]) -> int:
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {400, 429} and 429 in statuses, statuses
    return statuses.index(429)


async def test_one_guest_guessing_waits_and_a_shopper_behind_the_same_address_does_not(
        platform: Platform, api: httpx.AsyncClient) -> None:
    code, lamp = await real_code(api), await product(api)
    async with client_from(platform, GUEST_GUESSER) as guesser, client_from(platform, GUEST_GUESSER) as shopper:
        as_guesser = await guest_with_a_line(guesser, lamp)
        answers = [await guesser.post(URL, headers=as_guesser, json={"code": f"GUESS{n:04d}"}) for n in range(GUESSES)]
        assert first_429(answers) == 10 and all(r.status_code == 429 for r in answers[10:])
        refused_by(answers[-1], "promotion_code_failures_per_caller")
        # Its own real code does not help it: its guesses are spent.
        refused_by(await guesser.post(URL, headers=as_guesser, json={"code": code}), "promotion_code_failures_per_caller")
        # Another shopper at the same address, right after: their real code applies.
        as_shopper = await guest_with_a_line(shopper, lamp)
        r = await shopper.post(URL, headers=as_shopper, json={"code": code.lower()})
        assert r.status_code == 200 and r.json()["discount_total"] == "5.00", r.text


async def test_a_fresh_guest_per_guess_meets_the_address_limit_and_real_codes_still_apply(
        platform: Platform, api: httpx.AsyncClient) -> None:
    code, lamp = await real_code(api), await product(api)
    async with client_from(platform, FRESH_GUESSER) as guesser, client_from(platform, FRESH_GUESSER) as shopper, \
            client_from(platform, ELSEWHERE) as elsewhere:
        answers = []
        for n in range(GUESSES):
            guesser.cookies.clear()  # no token, no cookie: the gateway mints a new guest for each guess
            answers.append(await guesser.post(URL, json={"code": f"GUESS{n:04d}"}))
        assert len({r.headers.get("x-anonymous-token") for r in answers}) == GUESSES  # a guest each
        assert first_429(answers) == 50 and all(r.status_code == 429 for r in answers[50:])
        refused_by(answers[-1], "promotion_code_failures_per_ip")
        # Right after, behind the same address: a shopper's real code applies, and again for another.
        for _ in range(2):
            as_shopper = await guest_with_a_line(shopper, lamp)
            r = await shopper.post(URL, headers=as_shopper, json={"code": code})
            assert r.status_code == 200 and r.json()["discount_total"] == "5.00", r.text
        # Another address is not counted with it: a wrong code there is a plain 400.
        elsewhere.cookies.clear()
        assert_error(await elsewhere.post(URL, json={"code": "GUESS9999"}), 400, "PROMOTION_CODE_INVALID")


async def test_a_signed_in_customer_guessing_waits(platform: Platform, api: httpx.AsyncClient) -> None:
    code = await real_code(api)
    async with client_from(platform, CUSTOMER_GUESSER) as guesser:
        as_customer = await customer(guesser)
        answers = [await guesser.post(URL, headers=as_customer, json={"code": f"GUESS{n:04d}"})
                   for n in range(GUESSES)]
        assert first_429(answers) == 10 and all(r.status_code == 429 for r in answers[10:])
        refused_by(await guesser.post(URL, headers=as_customer, json={"code": code}),
                   "promotion_code_failures_per_caller")


async def test_codes_guessed_on_orders_are_counted_too(platform: Platform, api: httpx.AsyncClient) -> None:
    code, lamp = await real_code(api), await product(api)
    async with client_from(platform, ORDER_GUESSER) as guesser, client_from(platform, ORDER_GUESSER) as shopper:
        as_guesser = await guest_with_a_line(guesser, lamp)
        r = await guesser.post("/api/v1/addresses", headers=as_guesser, json=ADDRESS)
        assert r.status_code == 201, r.text
        address_id = r.json()["id"]
        answers = [await guesser.post("/api/v1/orders", headers=as_guesser, json={
            "items": [{"product_id": lamp}], "promotion_code": f"GUESS{n:04d}", "shipping_address_id": address_id})
            for n in range(30)]
        assert first_429(answers) == 10 and all(r.status_code == 429 for r in answers[10:])
        refused_by(answers[-1], "promotion_code_failures_per_caller")
        # A shopper at the same address orders with the real code.
        as_shopper = await guest_with_a_line(shopper, lamp)
        r = await shopper.post("/api/v1/addresses", headers=as_shopper, json=ADDRESS)
        assert r.status_code == 201, r.text
        r = await shopper.post("/api/v1/orders", headers=as_shopper, json={
            "promotion_code": code, "shipping_address_id": r.json()["id"]})
        assert r.status_code == 201 and r.json()["discount"] == "5.00", r.text
