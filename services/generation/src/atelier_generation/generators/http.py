"""The `http` backend: a hosted model API, configured by settings (base URL, key, timeout).

The protocol it speaks (and the fake in the tests serves):
`POST {base}/v1/images {model, prompt, filters, seed, batch_size, width, height}` →
`{"images": [{"b64": "<PNG>"}, …]}` and `POST {base}/v1/restorations {"image_b64"}` →
`{"image": {"b64": "<JPEG or PNG>"}}`, with `Authorization: Bearer <key>` when a key is set.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import asdict
from typing import Any

import httpx
from PIL import Image, UnidentifiedImageError

from atelier_generation.errors import GeneratorFailed
from atelier_generation.generators.base import ImageRequest


class HttpGenerator:
    def __init__(self, client: httpx.AsyncClient, *, base_url: str, api_key: str | None, timeout: float) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            response = await self.client.post(f"{self.base_url}{path}", json=body, headers=headers,
                                              timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise GeneratorFailed(f"The model API did not answer ({type(exc).__name__})") from exc
        if response.status_code >= 400:
            raise GeneratorFailed(f"The model API answered {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise GeneratorFailed("The model API answered something that is not JSON") from exc

    async def generate(self, request: ImageRequest) -> list[bytes]:
        body = {**asdict(request), "width": request.size, "height": request.size}
        payload = await self._post("/v1/images", body)
        images = [_decode((item or {}).get("b64")) for item in payload.get("images") or []]
        if len(images) != request.batch_size:
            raise GeneratorFailed(f"The model API returned {len(images)} of {request.batch_size} images")
        return images

    async def restore(self, original: bytes) -> bytes:
        payload = await self._post("/v1/restorations", {"image_b64": base64.b64encode(original).decode()})
        return _decode((payload.get("image") or {}).get("b64"))


def _decode(value: Any) -> bytes:
    """Base64 that must hold a readable image: a broken answer fails the job, not the viewer."""
    try:
        data = base64.b64decode(value, validate=True)
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (TypeError, ValueError, binascii.Error, UnidentifiedImageError, OSError) as exc:
        raise GeneratorFailed("The model API returned an unreadable image") from exc
    return data
