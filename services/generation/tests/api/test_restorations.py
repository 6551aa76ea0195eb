"""Photo restorations (S2): upload checks, the job, previews, unlocks, the one-time share unlock."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlparse

import pytest
from PIL import Image

from ..conftest import MODEL_API, FakeModelApi, assert_error, bomb_png, jpeg_bytes, png_bytes, png_header_claiming


class TestUpload:
    async def test_a_valid_photo_is_accepted_and_restored(self, api) -> None:
        user, photo = api.user(), jpeg_bytes(800, 600)
        response = await api.upload(user, photo)
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "pending"
        await api.h.drain()
        restoration = await api.restoration(user, response.json()["job_id"])
        assert restoration["status"] == "completed" and restoration["error"] is None
        assert restoration["is_unlocked"] is False and restoration["restored_full_url"] is None
        preview = await api.fetch(restoration["preview_url"])
        assert preview.status_code == 200 and preview.headers["content-type"] == "image/jpeg"
        assert max(Image.open(io.BytesIO(preview.content)).size) == 320  # low resolution
        original = await api.fetch(restoration["original_image_url"])
        assert original.content == photo

    @pytest.mark.parametrize(("data", "filename", "status", "code"), [
        (jpeg_bytes(600, 400), "small.jpg", 400, "IMAGE_TOO_SMALL"),
        (b"x" * (12 * 1024 * 1024), "huge.jpg", 413, "FILE_TOO_LARGE"),
        (b"just some notes, not a picture\n" * 50, "notes.png", 400, "UNSUPPORTED_FORMAT"),
        (bomb_png(20_000, 20_000), "bomb.png", 400, "IMAGE_TOO_LARGE"),
        (png_header_claiming(20_000, 20_000), "header.png", 400, "IMAGE_TOO_LARGE"),
        (b"GIF89a" + b"\x00" * 100, "anim.gif", 400, "UNSUPPORTED_FORMAT"),
        (jpeg_bytes(800, 600)[:2000], "truncated.jpg", 400, "UNSUPPORTED_FORMAT"),
    ], ids=["600x400", "12MB", "text-as-png", "bomb", "header-bomb", "gif", "truncated"])
    async def test_bad_uploads_are_refused(self, api, data: bytes, filename: str, status: int, code: str) -> None:
        user = api.user()
        assert_error(await api.upload(user, data, filename), status, code)
        assert (await api.client.get("/api/v1/restorations", headers=user.headers)).json() == []

    async def test_the_format_comes_from_the_content_not_the_name(self, api) -> None:
        user = api.user()
        response = await api.upload(user, png_bytes(800, 600), "renamed.jpg", "image/jpeg")
        assert response.status_code == 201, response.text
        restoration = await api.restoration(user, response.json()["job_id"])
        assert restoration["original_image_url"].split("?")[0].endswith("/original.png")

    async def test_at_most_six_restorations_are_kept(self, api) -> None:
        user = api.user()
        photo = jpeg_bytes(600, 500)
        for _ in range(6):
            assert (await api.upload(user, photo)).status_code == 201
        details = assert_error(await api.upload(user, photo), 403, "HISTORY_LIMIT")["details"]
        assert details == {"limit": 6}
        history = (await api.client.get("/api/v1/restorations", headers=user.headers)).json()
        assert len(history) == 6
        # Deleting one frees a place.
        deleted = await api.client.delete(f"/api/v1/restorations/{history[0]['id']}", headers=user.headers)
        assert deleted.status_code == 200 and deleted.json()["status"] == "ok"
        assert (await api.upload(user, photo)).status_code == 201

    async def test_uploads_need_a_user(self, api) -> None:
        response = await api.client.post("/api/v1/restorations", files={"image": ("a.jpg", b"x", "image/jpeg")})
        assert_error(response, 401, "AUTHENTICATION_REQUIRED")

    async def test_delete_removes_the_stored_files(self, api) -> None:
        user = api.user()
        restoration = await api.restored(user)
        folder = api.storage_dir / "restorations" / restoration["id"]
        assert sorted(p.name for p in folder.iterdir()) == ["full.jpg", "original.jpg", "preview.jpg"]
        response = await api.client.delete(f"/api/v1/restorations/{restoration['id']}", headers=user.headers)
        assert response.status_code == 200
        assert list(folder.iterdir()) == []
        assert_error(await api.client.get(f"/api/v1/restorations/{restoration['id']}", headers=user.headers),
                     404, "NOT_FOUND")

    async def test_another_users_restoration_is_not_found(self, api) -> None:
        owner, other = api.user(), api.user()
        restoration = await api.restored(owner)
        for method, path in (("GET", ""), ("DELETE", ""), ("POST", "/unlock"), ("POST", "/share-unlock")):
            response = await api.client.request(method, f"/api/v1/restorations/{restoration['id']}{path}",
                                                headers=other.headers)
            assert_error(response, 404, "NOT_FOUND")


class TestUnlockWithCredits:
    async def test_unlock_costs_one_credit_and_happens_once(self, api) -> None:
        user = await api.user_with_credits(2)
        restoration = await api.restored(user)
        response = await api.client.post(f"/api/v1/restorations/{restoration['id']}/unlock", headers=user.headers)
        assert response.status_code == 200, response.text
        assert response.json()["credits_remaining"] == 1
        full = await api.fetch(response.json()["full_image_url"])
        assert full.status_code == 200
        assert Image.open(io.BytesIO(full.content)).size == (1600, 1200)  # restored at 2×
        again = await api.client.post(f"/api/v1/restorations/{restoration['id']}/unlock", headers=user.headers)
        assert_error(again, 409, "ALREADY_UNLOCKED")
        assert await api.balance(user) == 1
        assert [(t["transaction_type"], t["amount"]) for t in await api.transactions(user)] == [
            ("unlock", -1), ("purchase", 2)]
        consumed = api.h.published("credit.consumed")
        assert [(e.data["reason"], e.data["credits"]) for e in consumed] == [("restoration_unlock", 1)]
        detail = await api.restoration(user, restoration["id"])
        assert detail["is_unlocked"] and detail["unlock_method"] == "credits" and detail["restored_full_url"]

    async def test_without_credits_nothing_is_unlocked(self, api) -> None:
        user = api.user()
        restoration = await api.restored(user)
        response = await api.client.post(f"/api/v1/restorations/{restoration['id']}/unlock", headers=user.headers)
        assert_error(response, 403, "INSUFFICIENT_CREDITS")
        assert (await api.restoration(user, restoration["id"]))["is_unlocked"] is False

    async def test_an_unfinished_restoration_cannot_be_unlocked(self, start_generation) -> None:
        async with start_generation(roles={"api", "relay", "consumer"}) as api:  # no worker: stays pending
            user = await api.user_with_credits(2)
            job_id = (await api.upload(user, jpeg_bytes(800, 600))).json()["job_id"]
            for path in ("unlock", "share-unlock", "confirm-share"):
                response = await api.client.post(f"/api/v1/restorations/{job_id}/{path}", headers=user.headers)
                assert_error(response, 400, "INVALID_STATE")
            assert await api.balance(user) == 2

    async def test_a_failed_restoration_reports_its_failure(self, start_generation) -> None:
        model_api = FakeModelApi(fail=True)
        async with start_generation(model_backends={"restore-v1": "http"}, mounts={MODEL_API: model_api.app}) as api:
            user = api.user()
            restoration = await api.restored(user)
            assert restoration["status"] == "failed" and restoration["error"] == "Restoration failed"
            assert restoration["preview_url"] is None


class TestShareUnlock:
    async def _share(self, api, user, restoration_id: str) -> dict:
        response = await api.client.post(f"/api/v1/restorations/{restoration_id}/share-unlock", headers=user.headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def test_the_redirect_must_be_opened_before_confirming(self, api) -> None:
        user = api.user()
        restoration = await api.restored(user)
        links = await self._share(api, user, restoration["id"])
        assert set(links) >= {"facebook", "twitter", "linkedin", "pinterest", "instagram"}
        confirm = f"/api/v1/restorations/{restoration['id']}/confirm-share"
        assert_error(await api.client.post(confirm, headers=user.headers), 400, "SHARE_NOT_INITIATED")

        # The public redirect (no credentials) records the click and sends the browser on.
        redirect = await api.fetch(links["twitter"])
        assert redirect.status_code == 302
        assert redirect.headers["location"].startswith("https://twitter.com/intent/tweet?")

        response = await api.client.post(confirm, headers=user.headers)
        assert response.status_code == 200, response.text
        assert (await api.fetch(response.json()["full_image_url"])).status_code == 200
        detail = await api.restoration(user, restoration["id"])
        assert detail["is_unlocked"] and detail["unlock_method"] == "social_share"
        assert_error(await api.client.post(confirm, headers=user.headers), 409, "ALREADY_UNLOCKED")

    async def test_the_share_unlock_is_once_per_user(self, api) -> None:
        user = api.user()
        first, second = await api.restored(user), await api.restored(user)
        links = await self._share(api, user, first["id"])
        await api.fetch(links["facebook"])
        assert (await api.client.post(f"/api/v1/restorations/{first['id']}/confirm-share",
                                      headers=user.headers)).status_code == 200
        response = await api.client.post(f"/api/v1/restorations/{second['id']}/share-unlock", headers=user.headers)
        assert_error(response, 403, "SOCIAL_SHARE_USED")
        response = await api.client.post(f"/api/v1/restorations/{second['id']}/confirm-share", headers=user.headers)
        assert_error(response, 403, "SOCIAL_SHARE_USED")

    async def test_a_tampered_or_foreign_token_is_refused(self, api) -> None:
        user = api.user()
        first, second = await api.restored(user), await api.restored(user)
        links = await self._share(api, user, first["id"])
        token = parse_qs(urlparse(links["twitter"]).query)["s"][0]
        tampered = token[:-1] + ("0" if token[-1] != "0" else "1")
        base = "/api/v1/restorations"
        assert_error(await api.client.get(f"{base}/{first['id']}/share-redirect/twitter", params={"s": tampered}),
                     400, "INVALID_TOKEN")
        assert_error(await api.client.get(f"{base}/{second['id']}/share-redirect/twitter", params={"s": token}),
                     400, "INVALID_TOKEN")
        assert_error(await api.client.get(f"{base}/{first['id']}/share-redirect/myspace", params={"s": token}),
                     404, "NOT_FOUND")
        # Nothing was recorded: confirming still needs the real redirect.
        assert_error(await api.client.post(f"{base}/{first['id']}/confirm-share", headers=user.headers),
                     400, "SHARE_NOT_INITIATED")

    async def test_an_expired_share_token_is_refused(self, start_generation) -> None:
        async with start_generation(share_token_ttl_seconds=-1) as api:
            user = api.user()
            restoration = await api.restored(user)
            links = await self._share(api, user, restoration["id"])
            assert_error(await api.fetch(links["pinterest"]), 400, "INVALID_TOKEN")
