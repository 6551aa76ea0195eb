"""Stored files: one interface, the local filesystem (embedded mode, tests) or any S3-compatible store.

Keys are relative paths such as `images/<id>.png`; they never come from a client unchecked (a
signed-URL route verifies its signature over the key first, and every backend refuses a key that
is not a plain relative path). With two replicas of a service, or a worker and an API in separate
pods, only the S3 backend lets one read what the other wrote.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from atelier_common.errors import AtelierError

_KEY = re.compile(r"^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*\.[a-z0-9]{2,5}$")
# At most this many keys per S3 DeleteObjects call (the API's own limit).
_S3_DELETE_BATCH = 1000


class StoredFileNotFound(AtelierError):
    code, status, default_message = "NOT_FOUND", 404, "File not found"


def valid_key(key: str) -> bool:
    return bool(_KEY.match(key))


class Storage(Protocol):
    async def put(self, key: str, data: bytes, content_type: str | None = None) -> None: ...

    async def get(self, key: str) -> bytes:
        """The bytes, or `StoredFileNotFound`."""

    async def delete(self, keys: Iterable[str]) -> None:
        """Remove the files; missing ones are fine."""

    async def exists(self, key: str) -> bool: ...


class StorageSettings(BaseModel):
    """Where a service keeps its files (fields of its settings: `ATELIER_<SERVICE>_STORAGE_BACKEND`, …)."""

    # `local` (a directory) or `s3` (any S3-compatible store).
    storage_backend: Literal["local", "s3"] = "local"
    # Local: this directory, by default `<data_dir>/<service's folder>`.
    storage_dir: Path | None = None
    # S3-compatible: the bucket, an optional key prefix, and the endpoint for non-AWS stores (MinIO, …).
    s3_bucket: str | None = None
    s3_prefix: str = ""
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None


class LocalFileStorage:
    """Files under one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not valid_key(key):
            raise StoredFileNotFound()
        return self.root / key

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside then renamed: a reader never sees half a file.
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    async def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    async def get(self, key: str) -> bytes:
        try:
            return await asyncio.to_thread(self._path(key).read_bytes)
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise StoredFileNotFound() from exc

    async def delete(self, keys: Iterable[str]) -> None:
        paths = [self._path(key) for key in keys if valid_key(key)]

        def unlink() -> None:
            for path in paths:
                path.unlink(missing_ok=True)

        await asyncio.to_thread(unlink)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)


class S3Storage:
    """Files as objects of one bucket (under `prefix`), through one pooled aiobotocore client."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client, self.bucket = client, bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _key(self, key: str) -> str:
        if not valid_key(key):
            raise StoredFileNotFound()
        return self.prefix + key

    async def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        extra = {"ContentType": content_type} if content_type else {}
        await self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **extra)

    async def get(self, key: str) -> bytes:
        try:
            response = await self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.NoSuchKey as exc:
            raise StoredFileNotFound() from exc
        async with response["Body"] as body:
            data: bytes = await body.read()
        return data

    async def delete(self, keys: Iterable[str]) -> None:
        names = [self._key(key) for key in keys if valid_key(key)]
        for start in range(0, len(names), _S3_DELETE_BATCH):
            batch = names[start:start + _S3_DELETE_BATCH]
            await self.client.delete_objects(Bucket=self.bucket, Delete={
                "Objects": [{"Key": name} for name in batch], "Quiet": True})

    async def exists(self, key: str) -> bool:
        try:
            await self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True


@asynccontextmanager
async def open_storage(settings: StorageSettings, default_dir: Path) -> AsyncIterator[Storage]:
    """The storage the settings name, for the life of the process (an S3 client is closed after)."""
    if settings.storage_backend == "local":
        yield LocalFileStorage(settings.storage_dir or default_dir)
        return
    if not settings.s3_bucket:
        raise ValueError("storage_backend=s3 needs s3_bucket")
    from aiobotocore.session import get_session  # only installs that use S3 pay for the import

    client_context = get_session().create_client(
        "s3", region_name=settings.s3_region, endpoint_url=settings.s3_endpoint_url,
        aws_access_key_id=settings.s3_access_key_id, aws_secret_access_key=settings.s3_secret_access_key)
    async with client_context as client:
        yield S3Storage(client, settings.s3_bucket, settings.s3_prefix)
