"""Pillow work every backend shares: checking uploads, thumbnails, watermarked previews.

Everything here is CPU-bound and synchronous: callers run it with `asyncio.to_thread`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from atelier_generation.errors import ImageTooLarge, ImageTooSmall, UnsupportedFormat

# Pillow's name, our extension and content type for each accepted upload format.
FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
WATERMARK = "reviv.pics · preview"


def set_pixel_limit(max_pixels: int) -> None:
    """Pillow refuses to open images above twice this (DecompressionBombError) — a second guard
    behind the explicit header check in `inspect_upload`. The limit is process-wide in Pillow."""
    Image.MAX_IMAGE_PIXELS = max_pixels


def sniff_format(head: bytes) -> str | None:
    """The format from the magic bytes: the file name and the client's content type are ignored."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


@dataclass(frozen=True)
class UploadInfo:
    format: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return FORMATS[self.format][0]


def inspect_upload(data: bytes, *, min_side: int, max_pixels: int) -> UploadInfo:
    """Check an uploaded photo from its header before any pixel is decoded."""
    fmt = sniff_format(data[:16])
    if fmt is None:
        raise UnsupportedFormat()
    try:
        # Image.open reads the header only; it already refuses sizes past 2 × MAX_IMAGE_PIXELS.
        with Image.open(io.BytesIO(data), formats=[fmt]) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise ImageTooLarge(details={"width": width, "height": height, "max_pixels": max_pixels})
            if min(width, height) < min_side:
                raise ImageTooSmall(f"The shortest side must be at least {min_side} px",
                                    details={"width": width, "height": height, "min_side": min_side})
            if fmt == "JPEG":
                # JPEG's verify() checks nothing: decode at 1/8 scale instead (cheap), which
                # still reads every byte and so catches a truncated or corrupt file.
                image.draft("RGB", (max(width // 8, 1), max(height // 8, 1)))
                image.load()
            else:
                image.verify()
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(details={"max_pixels": max_pixels}) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UnsupportedFormat("The file is not a readable JPG, PNG or WEBP image") from exc
    return UploadInfo(format=fmt, width=width, height=height)


def open_rgb(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return ImageOps.exif_transpose(image).convert("RGB")


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def as_png(data: bytes) -> bytes:
    """The picture as PNG, fully decoded on the way (a truncated file raises OSError here)."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        if image.format == "PNG":
            return data
        return encode(image.convert("RGBA" if "A" in image.getbands() else "RGB"), "PNG")


def dimensions(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def thumbnail(data: bytes, size: int) -> bytes:
    image = open_rgb(data)
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    return encode(image, "PNG")


def watermarked_preview(data: bytes, max_side: int) -> bytes:
    """A low-resolution JPEG with the watermark tiled across it: enough to judge, not to keep."""
    image = open_rgb(data)
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    width, height = image.size
    font = ImageFont.load_default(size=max(12, width // 18))
    layer = Image.new("RGBA", (width * 2, height * 2), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    step_x, step_y = max(width // 2, 1), max(height // 5, 1)
    for row, y in enumerate(range(0, height * 2, step_y)):
        for x in range(-(row % 2) * step_x // 2, width * 2, step_x):
            draw.text((x, y), WATERMARK, font=font, fill=(255, 255, 255, 110))
    layer = layer.rotate(30, resample=Image.Resampling.BICUBIC)
    left, top = width // 2, height // 2
    layer = layer.crop((left, top, left + width, top + height))
    marked = Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")
    return encode(marked, "JPEG", quality=70)
