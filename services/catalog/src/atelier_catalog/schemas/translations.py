"""Texts per locale (docs/back-office.md#translations)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from atelier_catalog.schemas._shared import Description, _Input

TranslatedName = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, max_length=200)]


class TranslationWrite(_Input):
    """The texts in one locale; a field left out or null (or empty) reads as the record's own text."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "მელია თოვლში", "description": "A3 ჟიკლე ბეჭდვა"}]})

    name: TranslatedName | None = None
    description: Description | None = None


class TranslationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"locale": "ka", "name": "მელია თოვლში", "description": "A3 ჟიკლე ბეჭდვა",
         "updated_at": "2026-11-30T10:00:00Z"}]})

    locale: str
    name: str | None
    description: str | None
    updated_at: datetime


class TranslationsRead(BaseModel):
    """A record's translations, and the locales it may have one in (its storefronts' languages
    other than their default)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "183b5a44-ea4a-4849-a814-f579d0491fa4", "locales": ["ka"],
         "results": [{"locale": "ka", "name": "მელია თოვლში", "description": None,
                      "updated_at": "2026-11-30T10:00:00Z"}]}]})

    id: uuid.UUID
    locales: list[str] = Field(description="The locales a translation may be written in")
    results: list[TranslationRead]
