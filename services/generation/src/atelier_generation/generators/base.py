"""The generator interface: what the worker asks of any backend (local Pillow, a hosted API)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class ImageRequest:
    model: str
    prompt: str
    filters: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    batch_size: int = 1
    size: int = 512


class Generator(Protocol):
    async def generate(self, request: ImageRequest) -> list[bytes]:
        """`request.batch_size` PNG images; raises `GeneratorFailed`."""

    async def restore(self, original: bytes) -> bytes:
        """The restored photo, full size (JPEG or PNG bytes); raises `GeneratorFailed`."""
