"""Money is Decimal, serialised as a string with two places; providers get minor units, counted
with the currency's own exponent (ISO 4217: JPY has none, KWD three, most currencies two)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import PlainSerializer

CENT = Decimal("0.01")


def quantize(amount: Decimal | int | str) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


# ISO 4217 minor-unit exponents other than 2, for the currencies a provider may be sent.
ZERO_DECIMAL_CURRENCIES = frozenset({"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF",
                                     "UGX", "VND", "VUV", "XAF", "XOF", "XPF"})
THREE_DECIMAL_CURRENCIES = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})


def currency_exponent(currency: str) -> int:
    code = currency.upper()
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def to_minor_units(amount: Decimal | int | str, currency: str) -> int:
    """`amount` in the currency's minor units, half-up: 85.50 USD → 8550, 500 JPY → 500,
    1.250 KWD → 1250."""
    exponent = currency_exponent(currency)
    return int(Decimal(amount).quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP).scaleb(exponent))



def from_minor_units(amount_minor: int, currency: str) -> Decimal:
    """A provider's minor units back into money: 8550 USD → 85.50, 500 JPY → 500."""
    return Decimal(amount_minor).scaleb(-currency_exponent(currency))


# A Decimal that is always written as "85.50" in JSON, never as a float.
Money = Annotated[Decimal, PlainSerializer(lambda v: str(quantize(v)), return_type=str, when_used="json")]
