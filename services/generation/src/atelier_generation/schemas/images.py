"""The generated images: reading and editing them, favourites."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, field_validator

from atelier_generation import domain
from atelier_generation.schemas._shared import _Input

Tag = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=domain.MAX_TAG_LENGTH)]


class ImageRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "ed271751-f2ee-5ae6-bd10-8b882a1ce5e3",
         "url": "http://localhost:8000/api/v1/images/files/images/ed271751-f2ee-5ae6-bd10-8b882a1ce5e3.png?exp=1795662928&sig=f84a1558f29d33e96cfc6c8507b03d6ac4ceb21a86ac4461247baa0a31727d7e",
         "thumbnail_url": "http://localhost:8000/api/v1/images/files/images/ed271751-f2ee-5ae6-bd10-8b882a1ce5e3_thumb.png?exp=1795662928&sig=7c6bde8cc2c6cc1a93a4a70c34d65480856b18eb96ec6d6ebabc2541daf493d8",
         "job_id": "a9d57fde-7423-477d-be81-11f499820286", "prompt": "a watercolour fox in a snowy forest",
         "model": "flux-pro", "filters": {"pose": "standing", "lighting": "soft"}, "tags": ["fox", "winter"],
         "is_public": True, "is_premium": False, "is_favorite": False, "is_owner": False, "width": 512,
         "height": 512, "created_at": "2026-11-26T02:15:28.353514Z"}]})

    id: uuid.UUID
    url: str
    thumbnail_url: str
    job_id: uuid.UUID
    prompt: str
    model: str
    filters: dict[str, Any]
    tags: list[str]
    is_public: bool
    is_premium: bool
    is_favorite: bool
    is_owner: bool
    width: int
    height: int
    created_at: datetime


class ImageUpdate(_Input):
    """PATCH: only the fields sent change; neither may be null."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"tags": ["fox", "winter"], "is_public": True}]})

    tags: Annotated[list[Tag], Field(max_length=20)] | None = None
    is_public: StrictBool | None = None

    @field_validator("tags")
    @classmethod
    def _valid_tags(cls, tags: list[str] | None) -> list[str] | None:
        if tags is None:
            raise ValueError("may not be null")
        normalised = list(dict.fromkeys(domain.normalise_tag(tag) for tag in tags))
        for tag in normalised:
            if not domain.TAG_PATTERN.match(tag):
                raise ValueError(f"{tag!r} is not a tag: use words or key:value (letters, digits, - and _)")
        return normalised

    @field_validator("is_public")
    @classmethod
    def _not_null(cls, value: bool | None) -> bool | None:
        if value is None:
            raise ValueError("may not be null")
        return value


class FavoriteRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"image_id": "ed271751-f2ee-5ae6-bd10-8b882a1ce5e3", "favorited": True}]})

    image_id: uuid.UUID
    favorited: bool
