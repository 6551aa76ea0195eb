"""The `local` backend: real images made on the CPU with Pillow, no model and no network.

`render_image` is a pure function of (model, prompt, filters, seed, index): the same inputs give
the same PNG bytes, different inputs a different picture. A SHA-256 of the inputs seeds the
palette, the background gradient, the abstract shapes and a stylised figure whose pose, build,
clothing colour and lighting follow the filters (S4's figure-drawing references).

`restore_photo` is a real restoration pipeline: denoise, auto-contrast, colour balance,
sharpen, 2× upscale (capped). Pillow decodes (its bomb guards, EXIF orientation) and encodes; the
pixel work in between is OpenCV's on one array: a 12 MP photo takes about a second, not four.
"""

from __future__ import annotations

import asyncio
import colorsys
import hashlib
import json
import math
import random

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from atelier_generation.errors import GeneratorFailed
from atelier_generation.generators.base import ImageRequest
from atelier_generation.imaging import encode, open_rgb

# Limb angles in degrees from straight down: (left arm, right arm, left leg, right leg).
POSES: dict[str, tuple[float, float, float, float]] = {
    "standing": (12, -12, 6, -6),
    "action": (130, -60, 35, -20),
    "sitting": (25, -25, 80, -80),
    "reclining": (90, -90, 70, 60),
    "dynamic": (150, -150, 25, -25),
    "contrapposto": (20, -35, 3, -15),
}
# Limb width as a share of the figure's height.
BUILDS = {"slim": 0.035, "average": 0.05, "athletic": 0.062, "muscular": 0.075, "heavy": 0.09}


def _digest(request: ImageRequest, index: int) -> bytes:
    canonical = json.dumps({"model": request.model, "prompt": request.prompt.strip(),
                            "filters": {k: v for k, v in sorted(request.filters.items()) if v},
                            "seed": request.seed, "index": index}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).digest()


def _word_value(word: str | None, default: float) -> float:
    """A stable number in [0, 1) for a filter value the tables above do not know."""
    if not word:
        return default
    return int.from_bytes(hashlib.sha256(word.lower().encode()).digest()[:4], "big") / 2**32


def _palette(rng: random.Random, count: int = 5) -> list[tuple[int, int, int]]:
    base = rng.random()
    colours = []
    for i in range(count):
        hue = (base + i * rng.uniform(0.08, 0.3)) % 1.0
        r, g, b = colorsys.hsv_to_rgb(hue, rng.uniform(0.35, 0.9), rng.uniform(0.35, 0.95))
        colours.append((int(r * 255), int(g * 255), int(b * 255)))
    return colours


def _background(rng: random.Random, palette: list[tuple[int, int, int]], size: int) -> Image.Image:
    gradient = Image.linear_gradient("L").resize((size, size)).rotate(rng.uniform(0, 360), expand=False,
                                                                     fillcolor=128)
    return ImageOps.colorize(gradient, black=palette[0], white=palette[1], mid=palette[2])


def _shapes(rng: random.Random, palette: list[tuple[int, int, int]], size: int, busy: float) -> Image.Image:
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for _ in range(6 + int(busy * 18)):
        colour = (*rng.choice(palette), rng.randint(40, 130))
        x, y, r = rng.uniform(0, size), rng.uniform(0, size), rng.uniform(size * 0.03, size * 0.25)
        match rng.randrange(3):
            case 0:
                draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
            case 1:
                points = [(x + r * math.cos(a), y + r * math.sin(a))
                          for a in sorted(rng.uniform(0, 2 * math.pi) for _ in range(rng.randint(3, 6)))]
                draw.polygon(points, fill=colour)
            case _:
                draw.line((x, y, rng.uniform(0, size), rng.uniform(0, size)), fill=colour,
                          width=max(1, int(r / 6)))
    return layer


def _limb(draw: ImageDraw.ImageDraw, start: tuple[float, float], angle: float, length: float, width: int,
          colour: tuple[int, ...]) -> None:
    rad = math.radians(angle)
    end = (start[0] + length * math.sin(rad), start[1] + length * math.cos(rad))
    draw.line((start, end), fill=colour, width=width, joint="curve")
    r = width / 2
    draw.ellipse((end[0] - r, end[1] - r, end[0] + r, end[1] + r), fill=colour)


def _figure(rng: random.Random, request: ImageRequest, size: int) -> Image.Image:
    filters = request.filters
    pose = POSES.get(str(filters.get("pose") or "").lower())
    if pose is None:
        v = _word_value(filters.get("pose"), rng.random())
        pose = (10 + v * 140, -10 - v * 120, 5 + v * 60, -5 - v * 50)
    build = BUILDS.get(str(filters.get("body_type") or "").lower(),
                       0.035 + _word_value(filters.get("body_type"), 0.5) * 0.05)
    hue = _word_value(filters.get("clothing"), rng.random())
    r, g, b = colorsys.hsv_to_rgb(hue, 0.55, 0.6)
    cloth = (int(r * 255), int(g * 255), int(b * 255), 235)
    skin = (int(150 + rng.random() * 90), int(110 + rng.random() * 70), int(80 + rng.random() * 60), 240)

    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    height = size * rng.uniform(0.62, 0.78)
    cx, top = size / 2 + rng.uniform(-0.12, 0.12) * size, (size - height) / 2
    width = max(3, int(height * build))
    head_r = height * 0.075
    neck = (cx, top + head_r * 2.1)
    hip = (cx, top + height * 0.52)
    shoulder_y = neck[1] + head_r * 0.5
    draw.ellipse((cx - head_r, top, cx + head_r, top + head_r * 2), fill=skin)
    draw.line((neck, hip), fill=cloth, width=int(width * 1.8))
    for offset, angle in ((-1, pose[0]), (1, pose[1])):
        _limb(draw, (cx + offset * width * 0.9, shoulder_y), angle, height * 0.3, width, skin)
    for offset, angle in ((-1, pose[2]), (1, pose[3])):
        _limb(draw, (cx + offset * width * 0.6, hip[1]), angle, height * 0.42, int(width * 1.2), cloth)
    if str(filters.get("pose") or "").lower() == "reclining":
        layer = layer.rotate(80, center=(size / 2, size / 2))
    return layer


def _light(image: Image.Image, rng: random.Random, lighting: str | None) -> Image.Image:
    lighting = (lighting or "").lower()
    if lighting == "dramatic":
        image = ImageEnhance.Contrast(image).enhance(1.6)
        vignette = Image.radial_gradient("L").resize(image.size)
        return Image.composite(Image.new("RGB", image.size, (0, 0, 0)), image,
                               vignette.point(lambda v: min(255, int(v * 0.9))))
    if lighting == "soft":
        return ImageEnhance.Contrast(image.filter(ImageFilter.GaussianBlur(1.2))).enhance(0.85)
    if lighting in {"backlit", "rim"}:
        return ImageEnhance.Brightness(image).enhance(1.25)
    return ImageEnhance.Brightness(image).enhance(0.85 + _word_value(lighting, rng.random()) * 0.3)


def render_image(request: ImageRequest, index: int = 0) -> bytes:
    """One PNG, a pure function of the request and the index within its batch."""
    rng = random.Random(_digest(request, index))
    size = request.size
    palette = _palette(rng)
    background = str(request.filters.get("background") or "").lower()
    busy = 0.15 if background in {"simple", "plain", "studio"} else _word_value(background, rng.random())
    image = _background(rng, palette, size).convert("RGBA")
    image.alpha_composite(_shapes(rng, palette, size, busy))
    image.alpha_composite(_figure(rng, request, size))
    image = _light(image.convert("RGB"), rng, request.filters.get("lighting"))
    return encode(image, "PNG")


def render_images(request: ImageRequest) -> list[bytes]:
    return [render_image(request, index) for index in range(request.batch_size)]


def _contrast_and_balance(histograms: list[np.ndarray], cutoff: float = 0.01) -> np.ndarray:
    """One lookup table per channel: auto-contrast (the darkest and brightest `cutoff` of the pixels
    clipped, the rest stretched to 0–255), then a gray-world white balance (each channel scaled so
    that the channels' means meet), composed so the pixels are mapped once."""
    levels = np.arange(256, dtype=np.float64)
    stretched = []
    for histogram in histograms:
        total = histogram.sum()
        cut = total * cutoff
        below = np.cumsum(histogram)
        above = np.cumsum(histogram[::-1])[::-1]
        low = int(np.argmax(below > cut))
        high = 255 - int(np.argmax(above[::-1] > cut))
        if high <= low:
            stretched.append(levels.copy())
        else:
            stretched.append(np.clip((levels - low) * (255.0 / (high - low)), 0, 255).astype(np.int64).astype(np.float64))
    means = [float((h * lut).sum() / max(h.sum(), 1)) for h, lut in zip(histograms, stretched, strict=True)]
    grey = sum(means) / 3
    tables = [np.minimum(255, (lut * grey / max(mean, 1.0)).astype(np.int64))
              for lut, mean in zip(stretched, means, strict=True)]
    return np.dstack(tables).astype(np.uint8).reshape(1, 256, 3)


def restore_photo(data: bytes, *, max_side: int = 4096) -> bytes:
    """Denoise, auto-contrast, balance colours, sharpen and upscale 2× (longest side ≤ max_side)."""
    pixels = np.asarray(open_rgb(data))
    pixels = cv2.medianBlur(pixels, 3)
    histograms = [cv2.calcHist([pixels], [c], None, [256], [0, 256]).ravel() for c in range(3)]
    pixels = cv2.LUT(pixels, _contrast_and_balance(histograms))
    # Unsharp mask (radius 2, 120 %, threshold 3): only differences of 3 levels or more are sharpened.
    blurred = cv2.GaussianBlur(pixels, (0, 0), 2)
    sharpened = cv2.addWeighted(pixels, 2.2, blurred, -1.2, 0)
    cv2.copyTo(pixels, np.less(cv2.absdiff(pixels, blurred), 3).view(np.uint8), sharpened)
    del blurred
    height, width = sharpened.shape[:2]
    scale = min(2.0, max_side / max(width, height))
    if scale > 1:
        sharpened = cv2.resize(sharpened, (round(width * scale), round(height * scale)),
                               interpolation=cv2.INTER_LANCZOS4)
    return encode(Image.fromarray(sharpened), "JPEG", quality=92)


class LocalGenerator:
    def __init__(self, *, restoration_max_side: int = 4096) -> None:
        self.restoration_max_side = restoration_max_side

    async def generate(self, request: ImageRequest) -> list[bytes]:
        return await asyncio.to_thread(render_images, request)

    async def restore(self, original: bytes) -> bytes:
        try:
            return await asyncio.to_thread(restore_photo, original, max_side=self.restoration_max_side)
        except (OSError, ValueError) as exc:
            raise GeneratorFailed("The photo could not be restored") from exc


__all__ = ["LocalGenerator", "render_image", "render_images", "restore_photo"]
