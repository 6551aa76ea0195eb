"""Product pictures as files: what an upload may be, what a key serves as, and the demo's stone pictures.

Files live in the catalog's storage backend under `products/…` and are public (product pictures
are meant to be seen): `GET /media/<key>` serves them, so a stored image's URL is `/media/<key>`.
"""

from __future__ import annotations

import hashlib
import io
import random

from PIL import Image, ImageDraw, ImageFilter

MEDIA_URL = "/media"
# Sniffed from the first bytes, never trusted from the client's filename or header.
_SIGNATURES: tuple[tuple[bytes, int, str, str], ...] = (
    (b"\xff\xd8\xff", 0, "jpg", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "png", "image/png"),
    (b"WEBP", 8, "webp", "image/webp"),
)
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def sniff(data: bytes) -> str | None:
    """The extension of a JPEG, PNG or WEBP picture, or None for anything else."""
    for magic, offset, extension, _ in _SIGNATURES:
        if data[offset:offset + len(magic)] == magic and (extension != "webp" or data[:4] == b"RIFF"):
            return extension
    return None


def key_of(url: str) -> str | None:
    """The storage key behind one of our own image URLs (None for an image hosted elsewhere)."""
    prefix = MEDIA_URL + "/"
    return url.removeprefix(prefix) if url.startswith(prefix + "products/") else None


def content_type(key: str) -> str:
    return CONTENT_TYPES.get(key.rsplit(".", 1)[-1], "application/octet-stream")


def stone_picture(seed: str, width: int = 640, height: int = 480) -> bytes:
    """A JPEG of a polished stone surface, the same for the same seed: a soft base colour and veins."""
    rng = random.Random(hashlib.sha256(seed.encode()).digest())
    base = tuple(rng.randint(150, 235) for _ in range(3))
    image = Image.new("RGB", (width, height), base)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(6, 12)):
        shade = tuple(max(0, c - rng.randint(60, 140)) for c in base)
        x, y = rng.uniform(-width * 0.2, width * 0.3), rng.uniform(0, height)
        points = [(x, y)]
        for _ in range(12):
            x += rng.uniform(width / 14, width / 8)
            y += rng.uniform(-height / 10, height / 10)
            points.append((x, y))
        draw.line(points, fill=shade, width=rng.randint(1, 4))
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()
