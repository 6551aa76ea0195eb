"""A fake Gemini API's `generateContent` with image output (https://ai.google.dev/api/generate-content).

`POST /v1beta/models/{model}:generateContent` (`x-goog-api-key: <API_KEY>` or `?key=`) with
`contents[].parts[]` of `text` and `inline_data`/`inlineData` → `{candidates: [{content: {role: model,
parts: [{text}, {inlineData: {mimeType, data}}]}, finishReason: STOP, index: 0}], usageMetadata:
{promptTokenCount, candidatesTokenCount, totalTokenCount}, modelVersion, responseId}`. A prompt the
safety system refuses comes back as `promptFeedback: {blockReason: PROHIBITED_CONTENT}` and no
candidates; errors are `{error: {code, message, status, details}}` (429 `RESOURCE_EXHAUSTED` with a
`RetryInfo.retryDelay`). Each reference image costs 258 prompt tokens, each output image 1290.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from atelier_testing.fakes.providers._base import GARBAGE_WORD, NOT_AN_IMAGE_WORD, SAFETY_WORD, FakeProvider, picture

API_KEY = "gemini-test-key"


def _error(code: int, status: str, message: str, details: list[dict[str, Any]] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "status": status, "details": details or []}},
                        status_code=code)


class FakeGemini(FakeProvider):
    name = "gemini"

    def __init__(self, *, delay: float = 0.0) -> None:
        super().__init__(delay=delay)
        self.reference_counts: list[int] = []

        @self.app.post("/v1beta/models/{model_action}")
        async def generate(model_action: str, request: Request) -> Any:
            model, _, action = model_action.partition(":")
            if action != "generateContent":
                return _error(404, "NOT_FOUND", f"Method {action} not found")
            key = request.headers.get("x-goog-api-key") or request.query_params.get("key")
            if key != API_KEY:
                return _error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
            if (refusal := self.take_refusal()) is not None:
                if refusal.status == 429:
                    delay = f"{refusal.retry_after:g}s" if refusal.retry_after is not None else "1s"
                    return _error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).",
                                  [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}])
                return _error(refusal.status, "UNAVAILABLE", "The model is overloaded. Please try again later.")
            try:
                body = json.loads(await request.body())
                parts = body["contents"][-1]["parts"]
                prompt = " ".join(part["text"] for part in parts if "text" in part)
            except (ValueError, KeyError, IndexError, TypeError):
                return _error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
            references = sum(1 for part in parts if "inline_data" in part or "inlineData" in part)
            self.reference_counts.append(references)
            job = self.new_job(model, body, prompt)
            await asyncio.sleep(self.delay)
            usage = {"promptTokenCount": 12 + 258 * references, "candidatesTokenCount": 1290,
                     "totalTokenCount": 12 + 258 * references + 1290}
            if SAFETY_WORD in prompt:
                return {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": usage,
                        "modelVersion": model, "responseId": job.id}
            if GARBAGE_WORD in prompt:
                return Response("<html>502</html>", media_type="text/html")
            data = b"GIF89a not really" if NOT_AN_IMAGE_WORD in prompt else picture(f"gemini:{model}:{prompt}:{job.id}")
            return {"candidates": [{"content": {"role": "model", "parts": [
                        {"text": "Here is your picture."},
                        {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(data).decode()}}]},
                        "finishReason": "STOP", "index": 0}],
                    "usageMetadata": usage, "modelVersion": model, "responseId": uuid.uuid4().hex}
