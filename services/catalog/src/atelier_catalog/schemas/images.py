"""A product's images."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StrictBool, StringConstraints

from atelier_catalog.schemas._shared import Quantity, _Input, _PartialUpdate

ImageUrl = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=1000,
                                            pattern=r"^(https?://|/)\S+$")]


class ImageCreate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"url": "https://cdn.example.com/prints/fox-a3.jpg", "alt_text": "Fox in snow, A3", "is_primary": True}]})

    url: ImageUrl
    alt_text: Annotated[str, StringConstraints(strict=True, max_length=300)] = ""
    display_order: Quantity = 0
    is_primary: StrictBool = False


class ImageUpdate(_PartialUpdate):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"alt_text": "A fox in the snow"}]})

    url: ImageUrl | None = None
    alt_text: Annotated[str, StringConstraints(strict=True, max_length=300)] | None = None
    display_order: Quantity | None = None
    is_primary: StrictBool | None = None


class ImageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "1a841d18-a214-4422-8d26-3755ad8efc7b", "url": "https://cdn.example.com/prints/fox-a3.jpg",
         "alt_text": "Fox in snow, A3", "display_order": 0, "is_primary": True}]})

    id: uuid.UUID
    url: str
    alt_text: str
    display_order: int
    is_primary: bool
