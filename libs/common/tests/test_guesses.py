"""`atelier_common.guesses`: only the wrong codes that count are counted; past the caller's limit
the caller waits whatever it sends; past the address's, a wrong code answers 429 and a real one
still passes."""

from __future__ import annotations

import uuid

import pytest

from atelier_common.errors import RateLimited
from atelier_common.guesses import Guesses, GuessRules
from atelier_common.ratelimit import RateLimiter


class Wrong(Exception):
    def __init__(self, names_nothing: bool = True) -> None:
        super().__init__("wrong")
        self.names_nothing = names_nothing


def guesses(per_caller: str = "2/minute", per_address: str = "100/minute") -> Guesses:
    return Guesses(GuessRules(name="test-code", per_caller=per_caller, per_address=per_address,
                              caller_setting="per_caller", address_setting="per_address",
                              message="Too many wrong test codes"), RateLimiter())


async def judge(g: Guesses, caller: uuid.UUID | None, address: str | None, outcome: Exception | None) -> None:
    async with g.typed(caller, address, Wrong, lambda e: isinstance(e, Wrong) and e.names_nothing):
        if outcome is not None:
            raise outcome


async def test_past_the_callers_limit_the_caller_waits_even_with_a_real_code() -> None:
    g, caller = guesses(), uuid.uuid4()
    for _ in range(2):
        with pytest.raises(Wrong):
            await judge(g, caller, "192.0.2.1", Wrong())
    with pytest.raises(RateLimited) as refused:
        await judge(g, caller, "192.0.2.1", None)
    assert refused.value.details["limit"] == "per_caller" and refused.value.headers["Retry-After"]
    await judge(g, uuid.uuid4(), "192.0.2.1", None)  # another caller is not held back


async def test_a_refusal_for_another_reason_is_no_guess() -> None:
    g, caller = guesses(), uuid.uuid4()
    for _ in range(5):
        with pytest.raises(Wrong):
            await judge(g, caller, None, Wrong(names_nothing=False))
    await judge(g, caller, None, None)


async def test_past_the_addresss_limit_a_wrong_code_is_429_and_a_real_one_passes() -> None:
    g = guesses(per_caller="100/minute", per_address="2/minute")
    for _ in range(2):
        with pytest.raises(Wrong):
            await judge(g, uuid.uuid4(), "192.0.2.9", Wrong())
    with pytest.raises(RateLimited) as refused:
        await judge(g, uuid.uuid4(), "192.0.2.9", Wrong())
    assert refused.value.details["limit"] == "per_address"
    await judge(g, uuid.uuid4(), "192.0.2.9", None)
