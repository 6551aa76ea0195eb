"""What the use cases share: the long-lived tools, the clock, signed URLs for stored files."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from atelier_generation.errors import FileTooLarge

# `await read(n)` → at most n bytes, b"" at the end (an upload's `read`).
Reader = Callable[[int], Awaitable[bytes]]
CHUNK = 64 * 1024


def utcnow() -> datetime:
    return datetime.now(UTC)


async def read_limited(read: Reader, limit: int) -> bytes:
    """The whole upload, read in chunks; refused as soon as it passes `limit` (memory stays bounded)."""
    chunks, size = [], 0
    while chunk := await read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise FileTooLarge(details={"max_bytes": limit})
        chunks.append(chunk)
    return b"".join(chunks)

