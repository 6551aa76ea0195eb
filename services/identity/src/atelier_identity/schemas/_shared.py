"""What several resources' models share: the strict `Request` base and the fields they have in common."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, StringConstraints

from atelier_common import locales
from atelier_common.contracts.catalog import TAX_CLASSES, TaxClass
from atelier_common.contracts.identity import TAX_NUMBER_MAX_LENGTH, TAX_NUMBER_PATTERN
from atelier_common.inputs import InputModel
from atelier_identity.domain import PASSWORD_MAX_LENGTH, PHONE_PATTERN


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)]
_PhoneText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32,
                                              pattern=f"^{PHONE_PATTERN.pattern}$")]
Phone = Annotated[_PhoneText | None, BeforeValidator(_blank_to_none)]
# A business customer's tax or VAT number, the rule orders applies at checkout
# (`contracts.identity.TAX_NUMBER_PATTERN`); blank is none.
_TaxNumberText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=TAX_NUMBER_MAX_LENGTH,
                                                  pattern=TAX_NUMBER_PATTERN)]
TaxNumber = Annotated[_TaxNumberText | None, BeforeValidator(_blank_to_none)]
CompanyName = Annotated[Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None,
                        BeforeValidator(_blank_to_none)]
Password = Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)]
# S4: 3-30 letters, digits, `_`, `.`, `-` (never an `@`: a login name without one is a username).
Username = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_.\-]{3,30}$")] | None
DisplayName = Annotated[Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None,
                        BeforeValidator(_blank_to_none)]


class Request(InputModel):
    # Strict: a number where a string belongs is a 400, not silently converted.
    model_config = ConfigDict(strict=True, extra="ignore")


def _two_places(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.01"))


TaxRate = Annotated[Decimal, Field(strict=False, ge=0, lt=1, decimal_places=6, allow_inf_nan=False)]
ShippingRate = Annotated[Decimal, Field(strict=False, ge=0, max_digits=12, decimal_places=2, allow_inf_nan=False)]


def _tax_rates(rates: dict[str, Decimal] | None) -> dict[str, Decimal] | None:
    """The rates of the tax classes with their own: only known classes, and not `standard` (that
    one is the `rate` beside)."""
    for name in rates or {}:
        if name == TaxClass.STANDARD:
            raise ValueError("the standard class's rate is `rate` (a zone's `tax_rate`), not one of `tax_rates`")
        if name not in TAX_CLASSES:
            raise ValueError(f"{name!r} is not a tax class: {', '.join(TAX_CLASSES)}")
    return rates


TaxRates = Annotated[dict[str, TaxRate], AfterValidator(_tax_rates)]


def _locale(value: str) -> str:
    tag = locales.normalize(value)
    if tag is None:
        raise ValueError("Not a language tag (en, ka, pt-BR)")
    return tag


# A language tag, written back in its canonical case (`EN_gb` → `en-GB`).
LocaleTag = Annotated[str, Field(max_length=12), AfterValidator(_locale)]
