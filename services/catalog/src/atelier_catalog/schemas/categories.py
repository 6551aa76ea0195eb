"""The category tree."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from atelier_catalog.schemas._shared import (
    Description,
    Name,
    Slug,
    Storefronts,
    _Input,
    _PartialUpdate,
    _scoped_read,
    _storefronts,
)


class CategoryCreate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "Prints", "description": "Art prints on paper"}]})

    name: Name
    slug: Slug | None = None
    description: Description = ""
    parent_id: uuid.UUID | None = None
    is_active: StrictBool = True
    storefronts: Storefronts = []


class CategoryUpdate(_PartialUpdate):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"description": "Giclée art prints"}]})

    NULLABLE = frozenset({"parent_id"})

    name: Name | None = None
    slug: Slug | None = None
    description: Description | None = None
    parent_id: uuid.UUID | None = None
    is_active: StrictBool | None = None
    storefronts: Storefronts | None = None


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "4c7de811-3c3a-4b19-8db3-5d992c592a4e", "name": "Prints", "slug": "prints",
         "description": "Art prints on paper", "parent_id": None, "is_active": True,
         "created_at": "2026-11-26T02:15:39.380260Z", "storefronts": []}]})

    id: uuid.UUID
    name: str
    slug: str
    description: str
    parent_id: uuid.UUID | None
    is_active: bool
    created_at: datetime
    storefronts: list[str] = _scoped_read()

    _storefronts = field_validator("storefronts", mode="before")(_storefronts)


class CategoryTreeRead(CategoryRead):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "02488174-178b-4785-9d66-9bb8e9e921fe", "name": "Natural Stone", "slug": "natural-stone",
         "description": "Slabs and tiles quarried around the world", "parent_id": None, "is_active": True,
         "created_at": "2026-11-26T02:15:16.257252Z", "storefronts": ["default", "marbelle", "shop"],
         "children": [{"id": "ed12b32f-51af-48dc-93b7-1be05d7a3507", "name": "Granite", "slug": "granite",
           "description": "Hard-wearing granite for kitchens and outdoor use",
           "parent_id": "02488174-178b-4785-9d66-9bb8e9e921fe", "is_active": True,
           "created_at": "2026-11-26T02:15:16.263144Z", "storefronts": ["default", "marbelle", "shop"],
           "children": [], "product_count": 2}], "product_count": 6}]})

    children: list[CategoryTreeRead] = []
    product_count: int = Field(description="Active products in this category and all its descendants")
