"""Own images, the public gallery, details, tags, favorites and signed file URLs (S4)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

from atelier_common.contracts.payments import SubscriptionChanged

from ..conftest import assert_error


async def _images(api, user, prompt: str = "a figure", **fields) -> list[dict]:
    job = await api.generated(user, prompt, **fields)
    assert job["status"] == "completed", job
    return job["images"]


async def _subscribe(api, user, tier: str = "pro", quota: int = 100) -> None:
    await api.h.deliver(SubscriptionChanged(user_id=user.id, plan_sku=f"{tier}_monthly", tier=tier, status="active",
                                            monthly_quota=quota,
                                            current_period_end=datetime.now(UTC) + timedelta(days=30)),
                        producer="payments")


class TestOwnImages:
    async def test_listed_newest_first_filtered_by_tag_and_paginated(self, api) -> None:
        user = await api.user_with_credits(20)
        standing = await _images(api, user, filters={"pose": "standing"}, batch_size=2)
        sitting = await _images(api, user, filters={"pose": "sitting"})
        page = (await api.client.get("/api/v1/images", headers=user.headers)).json()
        assert page["count"] == 3
        assert page["results"][0]["id"] == sitting[0]["id"]
        assert all(image["is_owner"] and not image["is_public"] for image in page["results"])
        tagged = (await api.client.get("/api/v1/images", params={"tag": "pose:standing"}, headers=user.headers)).json()
        assert {i["id"] for i in tagged["results"]} == {i["id"] for i in standing}
        first = (await api.client.get("/api/v1/images", params={"limit": 2}, headers=user.headers)).json()
        assert len(first["results"]) == 2 and first["next"] and first["previous"] is None
        assert (await api.client.get("/api/v1/images", headers=api.user().headers)).json()["count"] == 0

    async def test_update_tags_and_visibility(self, api) -> None:
        user = await api.user_with_credits(2)
        [image] = await _images(api, user)
        response = await api.client.patch(f"/api/v1/images/{image['id']}", headers=user.headers,
                                          json={"tags": ["Gesture", "pose:standing", "gesture"], "is_public": True})
        assert response.status_code == 200, response.text
        assert response.json()["tags"] == ["gesture", "pose:standing"] and response.json()["is_public"] is True
        for body in ({"tags": ["no spaces allowed!"]}, {"is_public": "yes"}, {"is_public": None}, {"tags": None}):
            bad = await api.client.patch(f"/api/v1/images/{image['id']}", headers=user.headers, json=body)
            assert_error(bad, 400, "VALIDATION_ERROR")

    async def test_delete_removes_rows_and_files(self, api) -> None:
        user = await api.user_with_credits(2)
        [image] = await _images(api, user)
        folder = api.storage_dir / "images"
        files = [folder / f"{image['id']}.png", folder / f"{image['id']}_thumb.png"]
        assert all(f.exists() for f in files)
        response = await api.client.delete(f"/api/v1/images/{image['id']}", headers=user.headers)
        assert response.status_code == 204
        assert not any(f.exists() for f in files)
        assert_error(await api.client.get(f"/api/v1/images/{image['id']}", headers=user.headers), 404, "NOT_FOUND")
        assert_error(await api.fetch(image["url"]), 404, "NOT_FOUND")

    async def test_another_users_private_image_is_not_found(self, api) -> None:
        owner, other = api.user(), api.user()
        await api.buy_credits(owner, 2)
        [image] = await _images(api, owner)
        for method in ("GET", "PATCH", "DELETE"):
            response = await api.client.request(method, f"/api/v1/images/{image['id']}", headers=other.headers,
                                                json={"is_public": True} if method == "PATCH" else None)
            assert_error(response, 404, "NOT_FOUND")
        assert_error(await api.client.post(f"/api/v1/images/{image['id']}/favorite", headers=other.headers),
                     404, "NOT_FOUND")


class TestGallery:
    async def test_public_images_by_tags_premium_ones_for_subscribers(self, api) -> None:
        artist, visitor, subscriber = api.user(), api.user(), api.user()
        await api.buy_credits(artist, 20)
        [dramatic] = await _images(api, artist, filters={"lighting": "dramatic", "pose": "action"})
        [soft] = await _images(api, artist, filters={"lighting": "soft", "pose": "action"})
        [premium] = await _images(api, artist, model="flux-ultra", filters={"lighting": "dramatic", "pose": "action"})
        [private] = await _images(api, artist)
        for image in (dramatic, soft, premium):
            await api.client.patch(f"/api/v1/images/{image['id']}", headers=artist.headers, json={"is_public": True})
        await _subscribe(api, subscriber)

        async def gallery(user=None, **params) -> set[str]:
            response = await api.client.get("/api/v1/images/gallery", params=params,
                                            headers=user.headers if user else None)
            assert response.status_code == 200, response.text
            return {image["id"] for image in response.json()["results"]}

        assert await gallery() == {dramatic["id"], soft["id"]}
        assert await gallery(visitor) == {dramatic["id"], soft["id"]}
        assert await gallery(subscriber) == {dramatic["id"], soft["id"], premium["id"]}
        assert await gallery(subscriber, tags="lighting:dramatic,pose:action") == {dramatic["id"], premium["id"]}
        assert await gallery(visitor, tags="lighting:soft") == {soft["id"]}
        assert private["id"] not in await gallery(subscriber)
        # Details follow the same rule: a public image for anyone, a premium one for subscribers.
        assert (await api.client.get(f"/api/v1/images/{soft['id']}", headers=visitor.headers)).status_code == 200
        assert_error(await api.client.get(f"/api/v1/images/{premium['id']}", headers=visitor.headers),
                     404, "NOT_FOUND")
        detail = await api.client.get(f"/api/v1/images/{premium['id']}", headers=subscriber.headers)
        assert detail.status_code == 200

    async def test_anonymous_visitors_are_rate_limited(self, start_generation) -> None:
        async with start_generation(gallery_rate_limit_anonymous="2/minute") as api:
            codes = [(await api.client.get("/api/v1/images/gallery")).status_code for _ in range(3)]
            assert codes == [200, 200, 429]
            signed_in = await api.client.get("/api/v1/images/gallery", headers=api.user().headers)
            assert signed_in.status_code == 200


class TestFavorites:
    async def test_toggle_and_list(self, api) -> None:
        artist, fan = api.user(), api.user()
        await api.buy_credits(artist, 4)
        own, public = await _images(api, artist, batch_size=2)
        await api.client.patch(f"/api/v1/images/{public['id']}", headers=artist.headers, json={"is_public": True})

        added = await api.client.post(f"/api/v1/images/{public['id']}/favorite", headers=fan.headers)
        assert added.status_code == 201 and added.json()["favorited"] is True
        favorites = (await api.client.get("/api/v1/images/favorites", headers=fan.headers)).json()
        assert [image["id"] for image in favorites["results"]] == [public["id"]]
        assert favorites["results"][0]["is_favorite"] is True and favorites["results"][0]["is_owner"] is False

        removed = await api.client.post(f"/api/v1/images/{public['id']}/favorite", headers=fan.headers)
        assert removed.status_code == 200 and removed.json()["favorited"] is False
        assert (await api.client.get("/api/v1/images/favorites", headers=fan.headers)).json()["count"] == 0
        own_favorite = await api.client.post(f"/api/v1/images/{own['id']}/favorite", headers=artist.headers)
        assert own_favorite.status_code == 201

    async def test_an_unknown_image_cannot_be_a_favorite(self, api) -> None:
        response = await api.client.post(f"/api/v1/images/{uuid.uuid4()}/favorite", headers=api.user().headers)
        assert_error(response, 404, "NOT_FOUND")


class TestSignedUrls:
    async def test_a_tampered_url_is_refused(self, api) -> None:
        user = await api.user_with_credits(4)
        first, second = await _images(api, user, batch_size=2)
        url = urlparse(first["url"])
        query = parse_qs(url.query)
        other_key = urlparse(second["url"]).path
        later = int(query["exp"][0]) + 3600
        signature = query["sig"][0]
        # One hex digit changed for certain (replacing the last two with "00" kept 1 signature in 256).
        tampered = signature[:-1] + ("1" if signature[-1] == "0" else "0")
        for path, exp, sig in ((url.path, query["exp"][0], tampered),
                               (url.path, later, signature),
                               (other_key, query["exp"][0], signature)):
            response = await api.client.get(path, params={"exp": exp, "sig": sig})
            assert_error(response, 403, "INVALID_SIGNATURE")
        assert_error(await api.client.get(url.path), 400, "VALIDATION_ERROR")

    async def test_urls_expire(self, start_generation) -> None:
        async with start_generation(signed_url_ttl_seconds=-1) as api:
            user = await api.user_with_credits(2)
            [image] = await _images(api, user)
            assert int(parse_qs(urlparse(image["url"]).query)["exp"][0]) < time.time()
            assert_error(await api.fetch(image["url"]), 403, "INVALID_SIGNATURE")


class TestGalleryCaching:
    async def test_pages_are_shared_the_viewers_own_marks_are_not_and_a_change_shows_at_once(self, api) -> None:
        artist, fan, other = api.user(), api.user(), api.user()
        await api.buy_credits(artist, 4)
        first, second = await _images(api, artist, batch_size=2)
        await api.client.patch(f"/api/v1/images/{first['id']}", headers=artist.headers, json={"is_public": True})
        assert (await api.client.post(f"/api/v1/images/{first['id']}/favorite", headers=fan.headers)).status_code == 201

        async def marks(user) -> dict[str, tuple[bool, bool]]:
            response = await api.client.get("/api/v1/images/gallery", headers=user.headers)
            assert response.status_code == 200 and response.headers["cache-control"] == "private, no-cache"
            return {i["id"]: (i["is_favorite"], i["is_owner"]) for i in response.json()["results"]}

        # One shared page underneath, each viewer's own marks on top.
        assert await marks(fan) == {first["id"]: (True, False)}
        assert await marks(other) == {first["id"]: (False, False)}
        assert await marks(artist) == {first["id"]: (False, True)}
        assert await api.runtime.cache.get("gallery|0||20|0") is not None  # the page all three got
        # The same caller asking again with the ETag: 304.
        response = await api.client.get("/api/v1/images/gallery", headers=fan.headers)
        again = await api.client.get("/api/v1/images/gallery", headers={
            **fan.headers, "If-None-Match": response.headers["etag"]})
        assert again.status_code == 304
        # Publishing another image changes every viewer's page at once.
        await api.client.patch(f"/api/v1/images/{second['id']}", headers=artist.headers, json={"is_public": True})
        assert await marks(other) == {first["id"]: (False, False), second["id"]: (False, False)}
        models = await api.client.get("/api/v1/generation/models")
        assert models.headers["cache-control"] == "public, max-age=0, s-maxage=60, stale-while-revalidate=30"
        assert (await api.client.get("/api/v1/generation/models",
                                     headers={"If-None-Match": models.headers["etag"]})).status_code == 304
