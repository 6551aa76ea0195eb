"""Stored files: the local filesystem and an S3-compatible store behave the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from atelier_common.storage import StorageSettings, StoredFileNotFound, open_storage


@pytest.fixture(params=["local", "s3"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> StorageSettings:
    if request.param == "local":
        return StorageSettings(storage_dir=tmp_path / "files")
    s3: dict[str, Any] = request.getfixturevalue("s3_storage_settings")
    return StorageSettings(**s3)


async def test_put_get_exists_delete(settings: StorageSettings, tmp_path: Path) -> None:
    async with open_storage(settings, tmp_path / "unused") as storage:
        await storage.put("images/a.png", b"\x89PNG-a", "image/png")
        await storage.put("images/nested/b.jpg", b"jpeg-b")
        assert await storage.get("images/a.png") == b"\x89PNG-a"
        assert await storage.exists("images/nested/b.jpg")
        await storage.put("images/a.png", b"replaced")
        assert await storage.get("images/a.png") == b"replaced"
        await storage.delete(["images/a.png", "images/never-there.png"])
        assert not await storage.exists("images/a.png")
        with pytest.raises(StoredFileNotFound):
            await storage.get("images/a.png")
        assert await storage.get("images/nested/b.jpg") == b"jpeg-b"


@pytest.mark.parametrize("key", ["../secret.png", "/etc/passwd.txt", "images/../../x.png", "noextension", ""])
async def test_a_key_that_is_not_a_plain_relative_path_is_never_touched(settings: StorageSettings, tmp_path: Path,
                                                                       key: str) -> None:
    async with open_storage(settings, tmp_path / "unused") as storage:
        with pytest.raises(StoredFileNotFound):
            await storage.get(key)
        with pytest.raises(StoredFileNotFound):
            await storage.put(key, b"x")


def test_s3_needs_a_bucket() -> None:
    with pytest.raises(ValueError, match="s3_bucket"):
        import asyncio

        async def open_without_bucket() -> None:
            async with open_storage(StorageSettings(storage_backend="s3"), Path(".")):
                pass

        asyncio.run(open_without_bucket())
