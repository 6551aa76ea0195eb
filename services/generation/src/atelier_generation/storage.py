"""Where files live: an interface an S3-compatible store can implement, and the local one.

Keys are relative paths such as `images/<id>.png`; they never come from a client unchecked
(the signed-URL route verifies the signature over the key before it gets here).
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from atelier_generation.errors import AssetNotFound

_KEY = re.compile(r"^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*\.[a-z0-9]{2,5}$")


class Storage(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes:
        """The bytes, or `AssetNotFound`."""

    async def delete(self, keys: Iterable[str]) -> None:
        """Remove the files; missing ones are fine."""


def valid_key(key: str) -> bool:
    return bool(_KEY.match(key))


class LocalFileStorage:
    """Files under one directory (`<data_dir>/assets` by default)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not valid_key(key):
            raise AssetNotFound()
        return self.root / key

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside then renamed: a reader never sees half a file.
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    async def get(self, key: str) -> bytes:
        try:
            return await asyncio.to_thread(self._path(key).read_bytes)
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise AssetNotFound() from exc

    async def delete(self, keys: Iterable[str]) -> None:
        paths = [self._path(key) for key in keys if valid_key(key)]

        def unlink() -> None:
            for path in paths:
                path.unlink(missing_ok=True)

        await asyncio.to_thread(unlink)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()
