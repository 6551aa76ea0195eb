"""Money is Decimal, serialised as a string with two places; providers get minor units."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import PlainSerializer

CENT = Decimal("0.01")


def quantize(amount: Decimal | int | str) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def to_minor_units(amount: Decimal) -> int:
    return int(quantize(amount) * 100)


def from_minor_units(minor: int) -> Decimal:
    return quantize(Decimal(minor) / 100)


# A Decimal that is always written as "85.50" in JSON, never as a float.
Money = Annotated[Decimal, PlainSerializer(lambda v: str(quantize(v)), return_type=str, when_used="json")]
