"""Google Gemini image generation (https://ai.google.dev/api/generate-content), over httpx.

`POST {base}/v1beta/models/{model}:generateContent` (`x-goog-api-key`), body `{contents: [{role:
user, parts: [{text}, {inline_data: {mime_type, data}}…]}], generationConfig: {responseModalities:
[TEXT, IMAGE]}}` → `{candidates: [{content: {parts: [{inlineData: {mimeType, data}}…]},
finishReason}], promptFeedback?: {blockReason}, usageMetadata: {promptTokenCount,
candidatesTokenCount, …}}`. A prompt blocked (`promptFeedback.blockReason`) or a candidate ended
for safety (`SAFETY`, `IMAGE_SAFETY`, `PROHIBITED_CONTENT`, …) is a safety refusal; a 429's
`RetryInfo.retryDelay` is its Retry-After. The cost is the reported tokens at the model's prices.

Synchronous, one image per call: a batch is several calls, and once one was paid a later refusal
fails the job instead of sending the batch again. google-genai was not used: its client retries
on its own and the one call is this file.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any, ClassVar

import atelier_generation.providers._http as _http
from atelier_generation.providers.base import (
    ProviderFailed,
    ProviderRequest,
    ProviderResult,
    ProviderUnavailable,
    SafetyRefusal,
    Submission,
    SynchronousProvider,
)

BASE_URL = "https://generativelanguage.googleapis.com"
SAFETY_REASONS = {"SAFETY", "IMAGE_SAFETY", "PROHIBITED_CONTENT", "IMAGE_PROHIBITED_CONTENT", "BLOCKLIST", "SPII",
                  "IMAGE_RECITATION", "RECITATION"}


class GeminiProvider(SynchronousProvider, _http.HttpAdapter):
    name: ClassVar[str] = "gemini"
    default_base_url: ClassVar[str] = BASE_URL
    title: ClassVar[str] = "Gemini"
    accepts_references: ClassVar[bool] = True

    @staticmethod
    def key_headers(key: str) -> dict[str, str]:
        return {"x-goog-api-key": key}

    async def submit(self, request: ProviderRequest) -> Submission:
        images: list[bytes] = []
        usage: dict[str, int] = {}
        cost: Decimal | None = Decimal(0)
        for index in range(request.batch_size):
            try:
                image, call_usage, call_cost = await self._generate(request, index)
            except ProviderUnavailable as exc:
                if not images:
                    raise
                raise ProviderFailed(f"Gemini refused image {index + 1} of the batch ({exc.message}); "
                                     "the batch is not sent again") from exc
            images.append(image)
            for key, value in call_usage.items():
                usage[key] = usage.get(key, 0) + value
            cost = cost + call_cost if cost is not None and call_cost is not None else None
        return Submission(result=ProviderResult(images=images, cost=cost, usage=usage))

    async def _generate(self, request: ProviderRequest, index: int) -> tuple[bytes, dict[str, int], Decimal | None]:
        parts: list[dict[str, Any]] = [{"text": request.prompt}]
        parts += [{"inline_data": {"mime_type": "image/png" if ref.startswith(b"\x89PNG") else "image/jpeg",
                                   "data": base64.b64encode(ref).decode()}} for ref in request.references]
        params = _http.sent_params(request.params)
        config = {"responseModalities": ["TEXT", "IMAGE"], **params.pop("generationConfig", {})}
        if request.seed is not None:
            config.setdefault("seed", (request.seed + index) % 2**31)
        body = {"contents": [{"role": "user", "parts": parts}], "generationConfig": config, **params}
        url = f"{self.base_url}/v1beta/models/{request.model}:generateContent"
        response = await self.request("POST", url, submit=True, json=body)
        payload = _http.json_of(response, self.name)
        if not isinstance(payload, dict):
            raise ProviderFailed("Gemini answered something that is not a response")
        if response.status_code >= 400:
            error = payload.get("error")
            error = error if isinstance(error, dict) else {}
            raise ProviderFailed(f"Gemini answered {response.status_code}: {error.get('message', '')}"[:300])
        block = (payload.get("promptFeedback") or {}).get("blockReason")
        if block:
            raise SafetyRefusal(f"Gemini blocked the prompt ({block})")
        candidates = payload.get("candidates")
        if not isinstance(candidates, list) or not candidates or not isinstance(candidates[0], dict):
            raise ProviderFailed("Gemini's answer holds no candidate")
        candidate = candidates[0]
        reason = candidate.get("finishReason")
        if reason in SAFETY_REASONS:
            raise SafetyRefusal(f"Gemini stopped for safety ({reason})")
        parts_out = (candidate.get("content") or {}).get("parts") or []
        data = next((part.get("inlineData") or part.get("inline_data") for part in parts_out
                     if isinstance(part, dict) and (part.get("inlineData") or part.get("inline_data"))), None)
        if not isinstance(data, dict):
            raise ProviderFailed("Gemini's answer holds no image")
        image = _http.decoded_image(data.get("data"), self.name)
        metadata = payload.get("usageMetadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        usage = {key: value for key, value in metadata.items() if isinstance(value, int)}
        cost = _http.token_cost(request.params, usage.get("promptTokenCount"), usage.get("candidatesTokenCount"))
        return image, usage, cost
