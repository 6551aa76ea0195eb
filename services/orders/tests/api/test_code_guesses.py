"""Wrong discount codes are limited per caller and per client address (docs/limits.md), at both
places a customer types one: the cart applying it (`/internal/promotions/quote`, strict) and an
order naming it (`POST /api/v1/orders` with `promotion_code`). A real code is never counted, and
another shopper's real code from the same address still applies."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from atelier_testing import ServiceHarness, TestKeys

from ..conftest import Customer, FakePlatform, assert_error
from .test_promotions import promotions

QUOTE = "/internal/promotions/quote"
PER_CALLER, PER_ADDRESS = 10, 50  # the defaults: 10 and 50 wrong codes per 15 minutes
GUESSER, NEIGHBOUR, ELSEWHERE = "198.51.100.7", "198.51.100.7", "203.0.113.20"


class Cart:
    """The cart's strict quote: a customer applying `code` from `address`."""

    def __init__(self, harness: ServiceHarness, service_headers: dict[str, str]) -> None:
        self.client = harness.client
        self.headers = service_headers

    async def apply(self, code: str, *, owner: uuid.UUID | None = None, address: str = GUESSER) -> httpx.Response:
        return await self.client.post(QUOTE, headers=self.headers, json={
            "storefront": "default", "owner_id": str(owner or uuid.uuid4()), "code": code, "strict": True,
            "client_ip": address, "lines": [{"product_id": str(uuid.uuid4()), "unit_price": "20.00", "quantity": 2}]})


def limited(response: httpx.Response, limit: str) -> None:
    error = assert_error(response, 429, "RATE_LIMITED")
    assert error["details"]["limit"] == limit and int(response.headers["Retry-After"]) >= 1


class TestApplyingACode:
    async def test_one_caller_guessing_waits_then_even_the_real_code_is_refused(
            self, harness: ServiceHarness, test_keys: TestKeys, service_headers: dict[str, str]) -> None:
        await promotions(harness, test_keys).create(code="REAL10")
        cart, guesser = Cart(harness, service_headers), uuid.uuid4()
        answers = [await cart.apply(f"GUESS{n:04d}", owner=guesser) for n in range(300)]
        assert [r.status_code for r in answers] == [400] * PER_CALLER + [429] * (300 - PER_CALLER)
        limited(answers[-1], "promotion_code_failures_per_caller")
        limited(await cart.apply("REAL10", owner=guesser), "promotion_code_failures_per_caller")
        # Another shopper at the same address is not that caller: their real code applies, and a
        # typo of theirs is a plain 400.
        assert (await cart.apply("real10", address=NEIGHBOUR)).status_code == 200
        assert_error(await cart.apply("REAL11", address=NEIGHBOUR), 400, "PROMOTION_CODE_INVALID")

    async def test_a_fresh_guest_per_guess_meets_the_address_limit_and_real_codes_still_apply(
            self, harness: ServiceHarness, test_keys: TestKeys, service_headers: dict[str, str]) -> None:
        await promotions(harness, test_keys).create(code="REAL10")
        cart = Cart(harness, service_headers)
        answers = [await cart.apply(f"GUESS{n:04d}") for n in range(300)]
        assert [r.status_code for r in answers] == [400] * PER_ADDRESS + [429] * (300 - PER_ADDRESS)
        limited(answers[-1], "promotion_code_failures_per_ip")
        # Right after, from the same address: a shopper's real code applies (never counted nor refused).
        for _ in range(3):
            applied = await cart.apply("REAL10", address=NEIGHBOUR)
            assert applied.status_code == 200 and applied.json()["discount_total"] == "4.00", applied.text
        # A code that is real but not for this cart is not a guess either: 400 as ever.
        await promotions(harness, test_keys).create(code="BIG", min_subtotal="500")
        assert assert_error(await cart.apply("BIG"), 400, "PROMOTION_CODE_INVALID")["details"]["reason"] == \
            "below_minimum"
        # Another address is not counted with it.
        assert_error(await cart.apply("GUESS9999", address=ELSEWHERE), 400, "PROMOTION_CODE_INVALID")

    async def test_showing_the_cart_with_its_code_counts_nothing(
            self, harness: ServiceHarness, service_headers: dict[str, str]) -> None:
        cart, owner = Cart(harness, service_headers), uuid.uuid4()
        for _ in range(PER_CALLER + 5):  # not strict: the cart shows its (expired) code, nobody typed it
            response = await cart.client.post(QUOTE, headers=service_headers, json={
                "storefront": "default", "owner_id": str(owner), "code": "GONE", "client_ip": GUESSER,
                "lines": [{"product_id": str(uuid.uuid4()), "unit_price": "20.00", "quantity": 1}]})
            assert response.status_code == 200 and response.json()["code_problem"]["reason"] == "invalid"
        assert_error(await cart.apply("GONE", owner=owner), 400, "PROMOTION_CODE_INVALID")


class TestPlacingWithACode:
    async def test_a_customer_guessing_codes_on_orders_waits(
            self, harness: ServiceHarness, test_keys: TestKeys, customer: Customer, platform: FakePlatform,
            new_customer: Callable[[], Customer]) -> None:
        await promotions(harness, test_keys).create(code="REAL10")
        lamp = platform.product(price="100.00")

        async def order(buyer: Customer, code: str, address: str = GUESSER) -> httpx.Response:
            body: dict[str, Any] = {"items": [{"product_id": lamp["id"]}], "promotion_code": code,
                                    "shipping_address_id": platform.address(buyer.owner_id)}
            return await buyer.client.post("/api/v1/orders", json=body,
                                           headers={**buyer.headers, "X-Forwarded-For": address})

        answers = [await order(customer, f"GUESS{n:03d}") for n in range(PER_CALLER + 5)]
        assert [r.status_code for r in answers] == [400] * PER_CALLER + [429] * 5
        limited(answers[-1], "promotion_code_failures_per_caller")
        limited(await order(customer, "REAL10"), "promotion_code_failures_per_caller")
        # A guest at the same address orders with the real code at once.
        placed = await order(new_customer(), "REAL10", NEIGHBOUR)
        assert placed.status_code == 201 and placed.json()["discount"] == "10.00", placed.text
        # Fresh guests guessing from one address: past its limit a wrong code is 429, a real one is placed.
        # (the address has the customer's 10 counted; the 5 refused before their code was looked at are not)
        guesses = [await order(new_customer(), f"FRESH{n:03d}") for n in range(PER_ADDRESS)]
        assert [r.status_code for r in guesses] == [400] * (PER_ADDRESS - PER_CALLER) + [429] * PER_CALLER
        limited(guesses[-1], "promotion_code_failures_per_ip")
        assert (await order(new_customer(), "REAL10", NEIGHBOUR)).status_code == 201
        assert_error(await order(new_customer(), "FRESH999", ELSEWHERE), 400, "PROMOTION_CODE_INVALID")
