"""The models and the generation jobs (`/generate`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from atelier_generation.schemas._shared import _Input

Prompt = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=1000)]
FilterValue = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, max_length=50)]
ModelId = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=50)]


class ModelRead(BaseModel):
    id: str
    name: str
    credits: int
    kind: str


class ModelsRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"models": [{"id": "flux-schnell", "name": "FLUX Schnell", "credits": 1, "kind": "image"}]}]})

    models: list[ModelRead]


class Filters(_Input):
    body_type: FilterValue | None = None
    pose: FilterValue | None = None
    lighting: FilterValue | None = None
    clothing: FilterValue | None = None
    background: FilterValue | None = None


class JobCreate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"prompt": "A watercolour fox reading a book under an oak tree", "filters": {"lighting": "golden hour"},
         "batch_size": 2, "model": "flux-pro"}]})

    prompt: Prompt
    filters: Filters = Filters()
    batch_size: Annotated[int, Field(strict=True, ge=1, le=4)] = 1
    model: ModelId = "flux-pro"
    # Same prompt, filters, model and seed → the same images; left out, the server picks one.
    seed: Annotated[int, Field(strict=True, ge=0, le=2**31 - 1)] | None = None


class JobAccepted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"job_id": "a9d57fde-7423-477d-be81-11f499820286", "status": "queued"}]})

    job_id: uuid.UUID
    status: str


class ImageRef(BaseModel):
    id: uuid.UUID
    url: str
    thumbnail_url: str


class JobRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"job_id": "a9d57fde-7423-477d-be81-11f499820286", "status": "completed", "progress": 100,
         "model": "flux-pro", "prompt": "a watercolour fox in a snowy forest",
         "filters": {"pose": "standing", "lighting": "soft"}, "batch_size": 1, "seed": 823710671,
         "credits_charged": 2, "attempts": 1, "error": None,
         "images": [{"id": "ed271751-f2ee-5ae6-bd10-8b882a1ce5e3",
           "url": "http://localhost:8000/api/v1/images/files/images/ed271751-f2ee-5ae6-bd10-8b882a1ce5e3.png?exp=1795662928&sig=f84a1558f29d33e96cfc6c8507b03d6ac4ceb21a86ac4461247baa0a31727d7e",
           "thumbnail_url": "http://localhost:8000/api/v1/images/files/images/ed271751-f2ee-5ae6-bd10-8b882a1ce5e3_thumb.png?exp=1795662928&sig=7c6bde8cc2c6cc1a93a4a70c34d65480856b18eb96ec6d6ebabc2541daf493d8"}],
         "storefront": "default", "created_at": "2026-11-26T02:15:27.916682Z",
         "started_at": "2026-11-26T02:15:28.088111Z", "finished_at": "2026-11-26T02:15:28.350716Z"}]})

    job_id: uuid.UUID
    status: str
    progress: int
    model: str
    prompt: str
    filters: dict[str, Any]
    batch_size: int
    seed: int
    credits_charged: int
    attempts: int
    error: str | None
    images: list[ImageRef]
    # The storefront the job was made on.
    storefront: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class WebhookAck(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"status": "received"}]})

    # received (the job is followed), resumed (announced again to a worker), ignored (already finished)
    status: str


class JobProgress(BaseModel):
    """One Server-Sent Event of a job's progress."""

    job_id: uuid.UUID
    status: str
    progress: int
    error: str | None = None
