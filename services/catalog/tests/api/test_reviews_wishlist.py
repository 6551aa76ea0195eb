"""Reviews (one per user per product, verified purchases, consistent average) and wishlists."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import col, select

from atelier_catalog.models import Purchase
from atelier_common.contracts.identity import AnonymousClaimed, UserDeleted
from atelier_common.contracts.orders import OrderLine
from atelier_common.contracts.payments import OrderPaid
from atelier_testing import ServiceHarness, TestKeys

from ..conftest import Catalog, assert_error

REVIEW = {"rating": 5, "title": "Beautiful stone", "comment": "Even veining, arrived well packed."}


def user(test_keys: TestKeys, user_id: uuid.UUID | None = None, email: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {test_keys.access_token(user_id or uuid.uuid4(), email=email)}"}


def paid_by(owner_id: uuid.UUID, product: dict[str, Any], *, user_id: uuid.UUID | None = None) -> OrderPaid:
    return OrderPaid(order_id=uuid.uuid4(), owner_id=owner_id, user_id=user_id, amount=Decimal("10.00"),
                     currency="USD", payment_id=uuid.uuid4(), provider="local", lines=[OrderLine(
                         product_id=product["id"], sku=product["sku"], kind="physical", quantity=1,
                         unit_price=Decimal("10.00"))])


class TestCreateReview:
    async def test_a_user_reviews_by_slug_and_the_product_shows_count_and_average(
            self, harness: ServiceHarness, catalog: Catalog, test_keys: TestKeys) -> None:
        product = await catalog.product()
        first = await harness.client.post(f"/api/v1/products/{product['slug']}/reviews", json=REVIEW,
                                          headers=user(test_keys, email="john@example.com"))
        assert first.status_code == 201, first.text
        body = first.json()
        assert {k: body[k] for k in ("rating", "title", "comment", "user", "is_verified_purchase",
                                     "product_id")} == {**REVIEW, "user": "john", "is_verified_purchase": False,
                                                        "product_id": product["id"]}
        await harness.client.post(f"/api/v1/products/{product['id']}/reviews", headers=user(test_keys),
                                  json={**REVIEW, "rating": 4})
        await harness.client.post(f"/api/v1/products/{product['id']}/reviews", headers=user(test_keys),
                                  json={**REVIEW, "rating": 4})

        detail = (await harness.client.get(f"/api/v1/products/{product['id']}")).json()
        assert (detail["review_count"], detail["average_rating"]) == (3, 4.33)

    async def test_one_review_per_user_per_product(self, harness: ServiceHarness, catalog: Catalog,
                                                   test_keys: TestKeys) -> None:
        product = await catalog.product()
        headers = user(test_keys)
        url = f"/api/v1/products/{product['id']}/reviews"
        assert (await harness.client.post(url, json=REVIEW, headers=headers)).status_code == 201

        assert_error(await harness.client.post(url, json={**REVIEW, "rating": 1}, headers=headers), 409,
                     "REVIEW_EXISTS")
        detail = (await harness.client.get(f"/api/v1/products/{product['id']}")).json()
        assert (detail["review_count"], detail["average_rating"]) == (1, 5.0)

    @pytest.mark.databases("sqlite", "postgres", why="parallel requests against the database's locks")
    async def test_parallel_reviews_keep_count_and_average_consistent(self, harness: ServiceHarness,
                                                                       catalog: Catalog, test_keys: TestKeys) -> None:
        product = await catalog.product()
        url = f"/api/v1/products/{product['id']}/reviews"
        ratings = [1, 2, 3, 4, 5, 5, 5, 4]
        responses = await asyncio.gather(*(harness.client.post(url, json={**REVIEW, "rating": r},
                                                               headers=user(test_keys)) for r in ratings))
        assert [r.status_code for r in responses] == [201] * len(ratings)
        detail = (await harness.client.get(f"/api/v1/products/{product['id']}")).json()
        assert (detail["review_count"], detail["average_rating"]) == (8, 3.63)

    async def test_a_buyer_whose_order_was_paid_is_a_verified_purchaser(self, harness: ServiceHarness,
                                                                        catalog: Catalog, test_keys: TestKeys) -> None:
        product = await catalog.product()
        user_id = uuid.uuid4()
        await harness.deliver(paid_by(user_id, product, user_id=user_id))

        response = await harness.client.post(f"/api/v1/products/{product['id']}/reviews", json=REVIEW,
                                             headers=user(test_keys, user_id))
        assert response.json()["is_verified_purchase"] is True

    async def test_an_anonymous_purchase_counts_once_the_identity_is_claimed(
            self, harness: ServiceHarness, catalog: Catalog, test_keys: TestKeys) -> None:
        product = await catalog.product()
        anon_id, user_id = uuid.uuid4(), uuid.uuid4()
        await harness.deliver(paid_by(anon_id, product))
        await harness.deliver(AnonymousClaimed(anon_id=anon_id, user_id=user_id))

        response = await harness.client.post(f"/api/v1/products/{product['id']}/reviews", json=REVIEW,
                                             headers=user(test_keys, user_id))
        assert response.json()["is_verified_purchase"] is True

    async def test_a_claim_keeps_the_users_own_purchase_of_the_same_product(
            self, harness: ServiceHarness, catalog: Catalog) -> None:
        both, only_anonymous = await catalog.product(), await catalog.product()
        anon_id, user_id = uuid.uuid4(), uuid.uuid4()
        users_order = paid_by(user_id, both)
        for event in (users_order, paid_by(anon_id, both), paid_by(anon_id, only_anonymous)):
            await harness.deliver(event)
        await harness.deliver(AnonymousClaimed(anon_id=anon_id, user_id=user_id))

        async with harness.runtime.db.read_only() as session:
            rows = (await session.exec(select(Purchase).where(col(Purchase.owner_id).in_([anon_id, user_id])))).all()
        assert sorted((str(r.owner_id), str(r.product_id)) for r in rows) == sorted(
            [(str(user_id), both["id"]), (str(user_id), only_anonymous["id"])])
        assert next(r.order_id for r in rows if str(r.product_id) == both["id"]) == users_order.order_id

    async def test_bad_input_and_missing_auth_and_unknown_products(self, harness: ServiceHarness,
                                                                   catalog: Catalog, test_keys: TestKeys) -> None:
        product = await catalog.product()
        url = f"/api/v1/products/{product['id']}/reviews"
        for bad in ({**REVIEW, "rating": 6}, {**REVIEW, "rating": 0}, {**REVIEW, "rating": "5"},
                    {**REVIEW, "title": "x" * 201}, {"rating": 3}):
            assert_error(await harness.client.post(url, json=bad, headers=user(test_keys)), 400, "VALIDATION_ERROR")
        assert_error(await harness.client.post(url, json=REVIEW), 401, "AUTHENTICATION_REQUIRED")
        assert_error(await harness.client.post(url, json=REVIEW, headers=test_keys.anon_headers()), 401,
                     "AUTHENTICATION_REQUIRED")
        assert_error(await harness.client.post("/api/v1/products/no-such/reviews", json=REVIEW,
                                               headers=user(test_keys)), 404, "NOT_FOUND")
        await catalog.deactivate_product(product["id"])
        assert_error(await harness.client.post(url, json=REVIEW, headers=user(test_keys)), 404, "NOT_FOUND")
        assert_error(await harness.client.get(url), 404, "NOT_FOUND")


class TestListReviews:
    async def test_public_newest_first_and_paginated(self, harness: ServiceHarness, catalog: Catalog,
                                                     test_keys: TestKeys) -> None:
        product = await catalog.product()
        url = f"/api/v1/products/{product['id']}/reviews"
        for n in range(3):
            await harness.client.post(url, json={**REVIEW, "title": f"Review {n}"}, headers=user(test_keys))

        page = (await harness.client.get(url, params={"limit": 2})).json()
        assert page["count"] == 3 and page["next"] is not None
        assert [r["title"] for r in page["results"]] == ["Review 2", "Review 1"]
        rest = (await harness.client.get(page["next"])).json()
        assert [r["title"] for r in rest["results"]] == ["Review 0"]

    async def test_a_deleted_users_reviews_stay_without_their_name(self, harness: ServiceHarness,
                                                                  catalog: Catalog, test_keys: TestKeys) -> None:
        product = await catalog.product()
        user_id = uuid.uuid4()
        url = f"/api/v1/products/{product['id']}/reviews"
        await harness.client.post(url, json=REVIEW, headers=user(test_keys, user_id, "ann@example.com"))

        await harness.deliver(UserDeleted(user_id=user_id))

        [review] = (await harness.client.get(url)).json()["results"]
        assert review["user"] == "" and review["rating"] == 5
        detail = (await harness.client.get(f"/api/v1/products/{product['id']}")).json()
        assert detail["review_count"] == 1


class TestWishlist:
    async def test_toggle_adds_then_removes(self, harness: ServiceHarness, catalog: Catalog,
                                            test_keys: TestKeys) -> None:
        product = await catalog.product()
        headers = user(test_keys)
        url = f"/api/v1/products/{product['slug']}/wishlist"

        added = await harness.client.post(url, headers=headers)
        assert added.status_code == 201 and added.json()["in_wishlist"] is True
        assert (await harness.client.get("/api/v1/wishlist", headers=headers)).json()["count"] == 1
        removed = await harness.client.post(url, headers=headers)
        assert removed.status_code == 200 and removed.json()["in_wishlist"] is False
        assert (await harness.client.get("/api/v1/wishlist", headers=headers)).json()["count"] == 0

    async def test_list_is_own_newest_first_paginated_and_only_active(self, harness: ServiceHarness,
                                                                       catalog: Catalog, test_keys: TestKeys) -> None:
        products = [await catalog.product() for _ in range(3)]
        headers, other = user(test_keys), user(test_keys)
        for product in products:
            await harness.client.post(f"/api/v1/products/{product['id']}/wishlist", headers=headers)
        await harness.client.post(f"/api/v1/products/{products[0]['id']}/wishlist", headers=other)
        await catalog.deactivate_product(products[1]["id"])

        page = (await harness.client.get("/api/v1/wishlist", headers=headers, params={"page_size": 1})).json()
        assert page["count"] == 2 and page["next"] is not None
        assert page["results"][0]["product"]["id"] == products[2]["id"]
        assert set(page["results"][0]) == {"product", "added_at"}
        assert {"id", "name", "slug", "price", "in_stock"} <= set(page["results"][0]["product"])
        rest = (await harness.client.get(page["next"], headers=headers)).json()
        assert [r["product"]["id"] for r in rest["results"]] == [products[0]["id"]]
        assert (await harness.client.get("/api/v1/wishlist", headers=other)).json()["count"] == 1

    async def test_products_under_an_inactive_category_leave_the_list(self, harness: ServiceHarness,
                                                                      catalog: Catalog, staff,
                                                                      test_keys: TestKeys) -> None:
        shelf = await catalog.category(name="Shelf")
        hidden = await catalog.product(category_id=shelf["id"])
        shown = await catalog.product()
        headers = user(test_keys)
        for product in (hidden, shown):
            await harness.client.post(f"/api/v1/products/{product['id']}/wishlist", headers=headers)
        await harness.client.patch(f"/api/v1/categories/{shelf['id']}", headers=staff, json={"is_active": False})
        page = (await harness.client.get("/api/v1/wishlist", headers=headers)).json()
        assert [r["product"]["id"] for r in page["results"]] == [shown["id"]] and page["count"] == 1

    async def test_users_only_and_deleted_users_lose_their_list(self, harness: ServiceHarness, catalog: Catalog,
                                                                test_keys: TestKeys) -> None:
        product = await catalog.product()
        url = f"/api/v1/products/{product['id']}/wishlist"
        assert_error(await harness.client.post(url, headers=test_keys.anon_headers()), 401,
                     "AUTHENTICATION_REQUIRED")
        assert_error(await harness.client.get("/api/v1/wishlist"), 401, "AUTHENTICATION_REQUIRED")
        assert_error(await harness.client.post("/api/v1/products/nope/wishlist", headers=user(test_keys)), 404,
                     "NOT_FOUND")
        user_id = uuid.uuid4()
        await harness.client.post(url, headers=user(test_keys, user_id))

        await harness.deliver(UserDeleted(user_id=user_id))

        assert (await harness.client.get("/api/v1/wishlist", headers=user(test_keys, user_id))).json()["count"] == 0
