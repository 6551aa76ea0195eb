"""Reviews (one per user per product, verified purchases) and wishlists."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_catalog import domain
from atelier_catalog.context import CatalogContext
from atelier_catalog.domain import Visibility
from atelier_catalog.errors import ProductNotFound, ReviewExists
from atelier_catalog.models import Product, Review, WishlistItem
from atelier_catalog.repository import (
    OwnerRepository,
    ProductRepository,
    PurchaseRepository,
    ReviewRepository,
    WishlistRepository,
)
from atelier_catalog.schemas import ReviewCreate
from atelier_common.service import UseCase

ADDED, REMOVED = "Product added to wishlist", "Product removed from wishlist"


class ReviewService(UseCase[CatalogContext]):
    def __init__(self, session: AsyncSession, context: CatalogContext) -> None:
        super().__init__(session, context)
        self.products = ProductRepository(session)
        self.reviews = ReviewRepository(session)
        self.purchases = PurchaseRepository(session)

    async def list(self, ref: str, visibility: Visibility, *, limit: int, offset: int) -> tuple[int, Sequence[Review]]:
        """The reviews of a product `visibility` reads (another storefront's: not found)."""
        product_id = await self._product_id(ref, visibility)
        return await self.reviews.list_for_product(product_id, limit=limit, offset=offset)

    async def add(self, ref: str, data: ReviewCreate, visibility: Visibility, *, user_id: uuid.UUID,
                  email: str | None) -> Review:
        product_id = await self._product_id(ref, visibility)
        # The product row lock queues reviews of one product, so the count and average below
        # are computed from every committed review (READ COMMITTED reads afresh per statement).
        await self.products.lock(product_id)
        if await self.reviews.exists(product_id, user_id):
            raise ReviewExists()
        review = Review(product_id=product_id, user_id=user_id, author_name=domain.reviewer_name(email),
                        rating=data.rating, title=data.title, comment=data.comment,
                        is_verified_purchase=await self.purchases.has_bought(user_id, product_id))
        self.reviews.add(review)
        try:
            await self.session.flush()
        except IntegrityError as exc:  # the same user's parallel request won the unique key
            raise ReviewExists() from exc
        count, total = await self.reviews.summary(product_id)
        await self.session.execute(
            update(Product).where(col(Product.id) == product_id)
            .values(review_count=count, rating_avg=domain.average_rating(total, count))
            .execution_options(synchronize_session=False))
        return review

    async def forget_user(self, user_id: uuid.UUID) -> None:
        """A deleted account: its reviews stay (they count in the averages) without an author.
        Remembered, so that a purchase or a claim heard later keeps nothing."""
        await OwnerRepository(self.session).lock(user_id, erased=True)
        await self.reviews.anonymise_author(user_id)
        await WishlistRepository(self.session).forget_user(user_id)
        await self.purchases.forget_owner(user_id)

    async def claim_purchases(self, anon_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """What an anonymous buyer bought counts as the claiming user's purchase (and what it buys
        later too: see `OwnerRepository.buyer`). Claimed by a user erased before: forgotten."""
        owners = OwnerRepository(self.session)
        await owners.lock(anon_id, claimed_by=user_id)
        if (await owners.lock(user_id)).erased_at is not None:
            await self.purchases.forget_owner(anon_id)
            return
        await self.purchases.move_owner(anon_id, user_id)

    async def _product_id(self, ref: str, visibility: Visibility) -> uuid.UUID:
        product_id = await self.products.find_id(ref, visibility)
        if product_id is None:
            raise ProductNotFound()
        return product_id


class WishlistService(UseCase[CatalogContext]):
    def __init__(self, session: AsyncSession, context: CatalogContext) -> None:
        super().__init__(session, context)
        self.products = ProductRepository(session)
        self.wishlists = WishlistRepository(session)

    async def toggle(self, ref: str, visibility: Visibility, *, user_id: uuid.UUID) -> bool:
        """Add the product, or remove it when it is there already; whether it is in the list now.
        A product `visibility` does not read (off sale, another storefront's) is not found."""
        product_id = await self.products.find_id(ref, visibility)
        if product_id is None:
            raise ProductNotFound()
        if await self.wishlists.remove(user_id, product_id):
            return False
        await self.wishlists.add(user_id, product_id)
        return True

    async def list(self, visibility: Visibility, *, user_id: uuid.UUID, limit: int,
                   offset: int) -> tuple[int, list[tuple[WishlistItem, Product]]]:
        return await self.wishlists.list_for_user(user_id, visibility, limit=limit, offset=offset)
