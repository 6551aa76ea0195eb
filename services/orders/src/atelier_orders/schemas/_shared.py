"""What several resources' models share: the request and read bases and the fields they have in common."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, StringConstraints

from atelier_common.inputs import InputModel

MAX_LINES = 100
Quantity = Annotated[int, Field(strict=True, ge=1, le=99)]

# A tax rate as a decimal string without trailing zeros: "0.0725" for 7.25 %, as staff wrote it.
Rate = Annotated[Decimal, PlainSerializer(lambda rate: format(rate.normalize(), "f"), return_type=str,
                                          when_used="json")]

# A storefront's slug as another service or staff names it (identity decides which exist).
StorefrontSlug = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class _Input(InputModel):
    # docs/api.md: unknown request fields are ignored; wrong types are 400.
    model_config = ConfigDict(extra="ignore")


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)
