"""identity's events: anonymous ownership moves to the user; a deleted user is erased."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from atelier_common.contracts.identity import AnonymousClaimed, UserDeleted
from atelier_generation.models import (
    CreditTransaction,
    CreditWallet,
    GeneratedImage,
    GenerationJob,
    ImageFavorite,
    Restoration,
    ShareUnlock,
)

from ..conftest import User, assert_error

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")


async def _rows(api, model, column, owner_id: uuid.UUID) -> int:
    async with api.runtime.db.read_only() as session:
        return (await session.execute(select(func.count()).select_from(model).where(column == owner_id))).scalar_one()


class TestAnonymousClaimed:
    async def test_what_the_anonymous_id_owned_becomes_the_users(self, api) -> None:
        anon_id, user = uuid.uuid4(), api.user()
        anon = User(api.keys, anon_id)  # an access token for the same id, to act before the claim
        await api.buy_credits(anon_id, 6, anonymous=True)
        [image] = (await api.generated(anon))["images"]
        restoration = await api.restored(anon)
        anon_headers = api.keys.anon_headers(anon_id)
        favorite = await api.client.post(f"/api/v1/images/{image['id']}/favorite", headers=anon_headers)
        assert favorite.status_code == 201

        await api.h.deliver(AnonymousClaimed(anon_id=anon_id, user_id=user.id), producer="identity")

        assert await api.balance(user) == 4
        assert [t["transaction_type"] for t in await api.transactions(user)] == ["consume", "purchase"]
        mine = (await api.client.get("/api/v1/images", headers=user.headers)).json()
        assert [i["id"] for i in mine["results"]] == [image["id"]]
        assert (await api.client.get("/api/v1/images/favorites", headers=user.headers)).json()["count"] == 1
        assert (await api.restoration(user, restoration["id"]))["status"] == "completed"
        assert_error(await api.client.get(f"/api/v1/images/{image['id']}", headers=anon_headers), 404, "NOT_FOUND")
        assert await _rows(api, CreditWallet, CreditWallet.owner_id, anon_id) == 0


class TestUserDeleted:
    async def test_every_row_and_file_of_the_user_is_erased(self, api) -> None:
        user, other = api.user(), api.user()
        await api.buy_credits(user, 10)
        await api.buy_credits(other, 2)
        [image] = (await api.generated(user))["images"]
        [others] = (await api.generated(other))["images"]
        await api.client.patch(f"/api/v1/images/{others['id']}", headers=other.headers, json={"is_public": True})
        await api.client.post(f"/api/v1/images/{others['id']}/favorite", headers=user.headers)
        restoration = await api.restored(user)
        links = (await api.client.post(f"/api/v1/restorations/{restoration['id']}/share-unlock",
                                       headers=user.headers)).json()
        await api.fetch(links["facebook"])
        files = list(api.storage_dir.rglob("*.*"))
        assert len(files) == 2 * 2 + 3  # two images with thumbnails, one restoration's three files

        await api.h.deliver(UserDeleted(user_id=user.id), producer="identity")

        for model, column in ((GenerationJob, GenerationJob.owner_id), (GeneratedImage, GeneratedImage.owner_id),
                              (Restoration, Restoration.owner_id), (CreditWallet, CreditWallet.owner_id),
                              (CreditTransaction, CreditTransaction.owner_id), (ImageFavorite, ImageFavorite.owner_id),
                              (ShareUnlock, ShareUnlock.user_id)):
            assert await _rows(api, model, column, user.id) == 0, model.__tablename__
        remaining = sorted(p.name for p in api.storage_dir.rglob("*.*"))
        assert remaining == sorted([f"{others['id']}.png", f"{others['id']}_thumb.png"])
        assert image["id"] not in str(remaining)
        # The other user keeps everything.
        assert await api.balance(other) == 0
        assert (await api.client.get("/api/v1/images", headers=other.headers)).json()["count"] == 1


class TestInternalSummary:
    async def test_other_services_read_an_account_with_the_service_credential(self, api) -> None:
        user = await api.user_with_credits(3)
        path = f"/internal/accounts/{user.id}"
        assert_error(await api.client.get(path), 401, "AUTHENTICATION_REQUIRED")
        assert_error(await api.client.get(path, headers=user.headers), 401, "AUTHENTICATION_REQUIRED")
        response = await api.client.get(path, headers={"X-Service-Token": api.runtime.settings.service_token})
        assert response.status_code == 200
        assert response.json() == {"owner_id": str(user.id), "credits_balance": 3, "subscription_tier": "free",
                                   "images_generated": 0, "social_share_unlock_used": False}
