"""Restorations (S2): creating, reading and deleting them, unlocking and sharing."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class RestorationCreated(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"job_id": "fcff3c39-f55e-457e-b685-2421865be366", "status": "pending"}]})

    job_id: uuid.UUID
    status: str


class RestorationRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "fcff3c39-f55e-457e-b685-2421865be366", "job_id": "fcff3c39-f55e-457e-b685-2421865be366",
         "status": "completed", "error": None,
         "preview_url": "http://localhost:8000/api/v1/images/files/restorations/fcff3c39-f55e-457e-b685-2421865be366/preview.jpg?exp=1795662930&sig=e418c2d4057a5088d4ffd699ef3df00f338c02f5d7eb1515c63e907418d52b0e",
         "original_image_url": "http://localhost:8000/api/v1/images/files/restorations/fcff3c39-f55e-457e-b685-2421865be366/original.png?exp=1795662930&sig=51ada6f1da0e706ceb160ac389a26d892f2d047958046045e7ba2d7f41405d5c",
         "restored_preview_url": "http://localhost:8000/api/v1/images/files/restorations/fcff3c39-f55e-457e-b685-2421865be366/preview.jpg?exp=1795662930&sig=e418c2d4057a5088d4ffd699ef3df00f338c02f5d7eb1515c63e907418d52b0e",
         "restored_full_url": None, "is_unlocked": False, "unlock_method": None, "unlocked_at": None, "width": 600,
         "height": 600, "storefront": "default", "created_at": "2026-11-26T02:15:28.998433Z",
         "expires_at": "2027-01-25T02:15:28.998433Z"}]})

    id: uuid.UUID
    job_id: uuid.UUID
    status: str
    error: str | None
    # The watermarked low-resolution preview, once completed.
    preview_url: str | None
    original_image_url: str
    restored_preview_url: str | None
    # Only once unlocked.
    restored_full_url: str | None
    is_unlocked: bool
    unlock_method: str | None
    unlocked_at: datetime | None
    width: int
    height: int
    storefront: str
    created_at: datetime
    expires_at: datetime


class RestorationDeleted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"message": "Job deleted successfully", "status": "ok"}]})

    message: str
    status: str


class UnlockRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"full_image_url": "http://localhost:8000/api/v1/images/files/restorations/fcff3c39-f55e-457e-b685-2421865be366/full.jpg?exp=1795662930&sig=9fa702cb7eee5efba4463a0a1678d44dea11f680def74f604bf5a1b8e745cd1d",
         "credits_remaining": 7}]})

    full_image_url: str
    credits_remaining: int


class ManualShare(BaseModel):
    type: Literal["manual"] = "manual"
    caption: str
    deep_link: str


class ShareLinks(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"facebook": "http://localhost:8000/api/v1/restorations/06bfd4ec-84ed-4f0a-b64e-3617c344e524/share-redirect/facebook?s=eyJyIjoiMDZiZmQ0ZWMtODRlZC00ZjBhLWI2NGUtMzYxN2MzNDRlNTI0IiwidSI6ImY3ZGZjOGEyLTg2ZDktNDczYS1hNWFhLTUzOWRjYzU3MzMwYSIsImUiOjE3OTU2NjAyMzF9.5ae2ef04fbea3891c3ccc5c688b3fd646797eda8be9e9611468314cb3d1e2f17",
         "twitter": "http://localhost:8000/api/v1/restorations/06bfd4ec-84ed-4f0a-b64e-3617c344e524/share-redirect/twitter?s=eyJyIjoiMDZiZmQ0ZWMtODRlZC00ZjBhLWI2NGUtMzYxN2MzNDRlNTI0IiwidSI6ImY3ZGZjOGEyLTg2ZDktNDczYS1hNWFhLTUzOWRjYzU3MzMwYSIsImUiOjE3OTU2NjAyMzF9.5ae2ef04fbea3891c3ccc5c688b3fd646797eda8be9e9611468314cb3d1e2f17",
         "linkedin": "http://localhost:8000/api/v1/restorations/06bfd4ec-84ed-4f0a-b64e-3617c344e524/share-redirect/linkedin?s=eyJyIjoiMDZiZmQ0ZWMtODRlZC00ZjBhLWI2NGUtMzYxN2MzNDRlNTI0IiwidSI6ImY3ZGZjOGEyLTg2ZDktNDczYS1hNWFhLTUzOWRjYzU3MzMwYSIsImUiOjE3OTU2NjAyMzF9.5ae2ef04fbea3891c3ccc5c688b3fd646797eda8be9e9611468314cb3d1e2f17",
         "pinterest": "http://localhost:8000/api/v1/restorations/06bfd4ec-84ed-4f0a-b64e-3617c344e524/share-redirect/pinterest?s=eyJyIjoiMDZiZmQ0ZWMtODRlZC00ZjBhLWI2NGUtMzYxN2MzNDRlNTI0IiwidSI6ImY3ZGZjOGEyLTg2ZDktNDczYS1hNWFhLTUzOWRjYzU3MzMwYSIsImUiOjE3OTU2NjAyMzF9.5ae2ef04fbea3891c3ccc5c688b3fd646797eda8be9e9611468314cb3d1e2f17",
         "instagram": {"type": "manual", "caption": "I just restored an old photo with reviv.pics",
          "deep_link": "instagram://app"}, "expires_in": 900}]})

    facebook: str
    twitter: str
    linkedin: str
    pinterest: str
    instagram: ManualShare
    expires_in: int


class ConfirmShareRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"full_image_url": "http://localhost:8000/api/v1/images/files/restorations/d73ea0ba-2475-46ac-b815-fbca116622b1.png?exp=1795662850&sig=9cfe1332123aa0e520fd0a5899ce1af527d3dd9ea3df9d42b543e789d06a54db"}]})

    full_image_url: str
