"""Product pictures as files: staff upload them, anyone loads them at /media/<key>, the demo's are real."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from atelier_catalog.app import create_app
from atelier_testing import RecordingBus, ServiceHarness, assert_error


def png(width: int = 40, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (120, 90, 60)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(params=["local", "s3"])
async def media_harness(request: pytest.FixtureRequest, catalog_settings) -> Any:
    storage: dict[str, Any] = request.getfixturevalue("s3_storage_settings") if request.param == "s3" else {}
    settings = catalog_settings.model_copy(update={"max_image_bytes": 50_000, **storage})
    bus = RecordingBus()
    async with ServiceHarness(create_app(settings, bus=bus), bus) as harness:
        yield harness


async def test_an_uploaded_picture_is_served_and_removed_with_its_image(media_harness, staff) -> None:
    client = media_harness.client
    product = (await client.post("/api/v1/products", json={"name": "Onyx Tile", "sku": "ONYX-1", "price": "12.00"},
                                 headers=staff)).json()
    picture = png()
    response = await client.post(f"/api/v1/products/{product['id']}/images/upload", headers=staff,
                                 files={"image": ("tile.bin", picture, "application/octet-stream")},
                                 data={"alt_text": "Onyx, polished"})
    assert response.status_code == 201, response.text
    image = response.json()
    assert image["url"].startswith(f"/media/products/{product['id']}/") and image["url"].endswith(".png")
    assert image["is_primary"] and image["alt_text"] == "Onyx, polished"
    served = await client.get(image["url"])
    assert served.status_code == 200 and served.content == picture
    assert served.headers["content-type"] == "image/png"
    listed = (await client.get(f"/api/v1/products/{product['id']}")).json()
    assert listed["images"][0]["url"] == image["url"]

    assert (await client.delete(f"/api/v1/products/{product['id']}/images/{image['id']}",
                                headers=staff)).status_code == 204
    assert_error(await client.get(image["url"]), 404, "NOT_FOUND")


async def test_only_pictures_within_the_limit_and_only_by_staff(media_harness, staff, test_keys) -> None:
    client = media_harness.client
    product = (await client.post("/api/v1/products", json={"name": "Slate", "sku": "SLATE-1", "price": "9.00"},
                                 headers=staff)).json()
    path = f"/api/v1/products/{product['id']}/images/upload"
    assert_error(await client.post(path, headers=staff, files={"image": ("x.png", b"not a picture", "image/png")}),
                 400, "UNSUPPORTED_FORMAT")
    assert_error(await client.post(path, headers=staff, files={"image": ("big.png", png() + b"\0" * 60_000,
                                                                         "image/png")}), 413, "FILE_TOO_LARGE")
    customer = test_keys.user_headers()
    assert (await client.post(path, headers=customer, files={"image": ("x.png", png(), "image/png")})).status_code == 403
    assert (await client.get(f"/api/v1/products/{product['id']}")).json()["images"] == []
    for key in ("../secret.png", "other/thing.png", "products/../../x.png"):
        assert (await client.get(f"/media/{key}")).status_code == 404


async def test_the_demo_pictures_are_real_files(catalog_settings) -> None:
    settings = catalog_settings.model_copy(update={"seed_demo_data": True})
    bus = RecordingBus()
    async with ServiceHarness(create_app(settings, bus=bus), bus) as harness:
        products = (await harness.client.get("/api/v1/products", params={"kind": "physical", "limit": 50})).json()
        urls = [image["url"] for p in products["results"] for image in p["images"]]
        assert len(urls) >= 10
        for url in urls:
            served = await harness.client.get(url)
            assert served.status_code == 200 and served.content[:3] == b"\xff\xd8\xff"
            Image.open(io.BytesIO(served.content)).verify()
