"""Reviews and wishlists."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, computed_field

from atelier_catalog import domain
from atelier_catalog.schemas._shared import Name, _Input
from atelier_common.money import Money


class ReviewCreate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"rating": 5, "title": "Lovely", "comment": "Sturdy and the colour is as pictured."}]})

    # S3 requires a title and a comment; the title is capped at 200 characters.
    rating: Annotated[int, Field(strict=True, ge=1, le=5)]
    title: Name
    comment: Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=5_000)]


class ReviewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "51451601-1e2d-46f8-bad6-c593da291e17", "product_id": "770f2a5c-6a59-47bd-9b35-6b29746a5684",
         "user": "ada.lovelace", "rating": 5, "title": "Lovely", "comment": "Sturdy and the colour is as pictured.",
         "is_verified_purchase": False, "created_at": "2026-11-26T02:15:24.384021Z"}]})

    id: uuid.UUID
    product_id: uuid.UUID
    # S3's `user`: a display name, never the email; empty once the author deleted their account.
    user: str = Field(validation_alias="author_name")
    rating: int
    title: str
    comment: str
    is_verified_purchase: bool
    created_at: datetime


class WishlistToggleRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"message": "Product added to wishlist", "in_wishlist": True}]})

    message: str
    in_wishlist: bool


class WishlistProductRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    slug: str
    sku: str
    price: Money
    currency: str
    stock_quantity: int
    track_inventory: bool

    @computed_field  # type: ignore[prop-decorator]  # mypy rejects a decorator over @property; pydantic documents this form
    @property
    def in_stock(self) -> bool:
        return domain.is_in_stock(self.track_inventory, self.stock_quantity)


class WishlistItemRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"product": {"id": "770f2a5c-6a59-47bd-9b35-6b29746a5684", "name": "Stone Sealer 1 L",
          "slug": "stone-sealer-1-l", "sku": "SEAL-PRO-1L", "price": "24.99", "currency": "USD",
          "stock_quantity": 60, "track_inventory": True, "in_stock": True},
         "added_at": "2026-11-26T02:15:24.424959Z"}]})

    product: WishlistProductRead
    added_at: datetime
