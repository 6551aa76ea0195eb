"""With `storage_backend=s3`, every file goes to the S3-compatible store (moto's server here): an
API replica or a worker in another pod reads what another wrote, and nothing lands on local disk."""

from __future__ import annotations

import uuid

import boto3

from ..conftest import jpeg_bytes


async def test_images_restorations_and_book_art_live_in_the_bucket(start_generation, s3_storage_settings) -> None:
    async with start_generation(**s3_storage_settings) as api:
        user = await api.user_with_credits(10)
        job = await api.generated(user)
        assert job["status"] == "completed"
        picture = await api.fetch(job["images"][0]["url"])
        assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")
        restoration = await api.restored(user, jpeg_bytes(640, 520))
        assert (await api.fetch(restoration["preview_url"])).status_code == 200

        book = (await api.client.post("/api/v1/books", json={"title": "Stored"}, headers=user.headers)).json()
        await api.client.post(f"/api/v1/books/{book['id']}/cover/versions", headers=user.headers)
        await api.h.drain()
        cover = (await api.client.get(f"/api/v1/books/{book['id']}/cover", headers=user.headers)).json()
        assert (await api.fetch(cover["selected_version"]["image_url"])).status_code == 200

        s3 = boto3.client("s3", endpoint_url=s3_storage_settings["s3_endpoint_url"], region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket=s3_storage_settings["s3_bucket"]).get("Contents", [])}
        assert f"assets/images/{job['images'][0]['id']}.png" in keys
        assert any(k.startswith("assets/books/") for k in keys)
        assert any(k.startswith(f"assets/restorations/{restoration['id']}/") for k in keys)
        assert not api.storage_dir.exists() or not any(api.storage_dir.rglob("*.png"))

        # Deleting an image removes its objects.
        image_id = job["images"][0]["id"]
        assert (await api.client.delete(f"/api/v1/images/{image_id}", headers=user.headers)).status_code == 204
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket=s3_storage_settings["s3_bucket"]).get("Contents", [])}
        assert f"assets/images/{image_id}.png" not in keys
        assert (await api.client.get(f"/api/v1/images/{uuid.uuid4()}", headers=user.headers)).status_code == 404
