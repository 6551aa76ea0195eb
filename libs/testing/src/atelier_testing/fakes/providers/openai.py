"""A fake OpenAI Images API (https://platform.openai.com/docs/api-reference/images).

`POST /v1/images/generations` (JSON) and `POST /v1/images/edits` (multipart, `image[]` or `image`),
`Authorization: Bearer <API_KEY>` → `{created, data: [{b64_json}], usage: {input_tokens,
output_tokens, total_tokens, input_tokens_details}}`; errors in OpenAI's shape `{error: {message,
type, param, code}}`: 401 `invalid_api_key`, 400 `invalid_request_error`, 400 `moderation_blocked`
for a prompt the safety system refuses, 429 `rate_limit_exceeded` with `Retry-After`, 500.
Synchronous: the answer comes after `delay` seconds.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from atelier_testing.fakes.providers._base import GARBAGE_WORD, NOT_AN_IMAGE_WORD, SAFETY_WORD, FakeProvider, picture

API_KEY = "sk-test-openai"
SIZES = {"auto", "1024x1024", "1536x1024", "1024x1536", "256x256", "512x512", "1792x1024", "1024x1792"}


def _error(status: int, message: str, code: str | None, type_: str = "invalid_request_error",
           headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": type_, "param": None, "code": code}},
                        status_code=status, headers=headers)


class FakeOpenAI(FakeProvider):
    name = "openai"

    def __init__(self, *, delay: float = 0.0) -> None:
        super().__init__(delay=delay)
        self.reference_counts: list[int] = []
        app = self.app

        @app.post("/v1/images/generations")
        async def generations(request: Request) -> Any:
            try:
                body = json.loads(await request.body())
            except ValueError:
                return _error(400, "We could not parse the JSON body of your request.", None)
            return await self._generate(request, body if isinstance(body, dict) else {}, references=0)

        @app.post("/v1/images/edits")
        async def edits(request: Request) -> Any:
            form = await request.form()
            images = form.getlist("image[]") or form.getlist("image")
            if not images:
                return _error(400, "Missing required parameter: 'image'.", "missing_required_parameter")
            fields: dict[str, Any] = {key: value for key, value in form.items() if isinstance(value, str)}
            if "n" in fields:
                fields["n"] = int(fields["n"])
            return await self._generate(request, fields, references=len(images))

    async def _generate(self, request: Request, body: dict[str, Any], *, references: int) -> Response:
        if request.headers.get("authorization") != f"Bearer {API_KEY}":
            return _error(401, "Incorrect API key provided.", "invalid_api_key")
        if (refusal := self.take_refusal()) is not None:
            headers = {"Retry-After": f"{refusal.retry_after:g}"} if refusal.retry_after is not None else None
            if refusal.status == 429:
                return _error(429, "Rate limit reached for images per minute.", "rate_limit_exceeded",
                              "requests", headers)
            return _error(refusal.status, "The server had an error while processing your request.", None,
                          "server_error", headers)
        prompt, model, n = body.get("prompt"), body.get("model"), body.get("n", 1)
        if not isinstance(prompt, str) or not prompt:
            return _error(400, "Missing required parameter: 'prompt'.", "missing_required_parameter")
        if not isinstance(n, int) or not 1 <= n <= 10 or body.get("size", "auto") not in SIZES:
            return _error(400, "Invalid value for 'n' or 'size'.", "invalid_value")
        if str(model).startswith("gpt-image") and "response_format" in body:
            return _error(400, "Unknown parameter: 'response_format'.", "unknown_parameter")
        self.new_job(str(model), body, prompt)
        self.reference_counts.append(references)
        await asyncio.sleep(self.delay)
        if SAFETY_WORD in prompt:
            return _error(400, "Your request was rejected by the safety system. safety_violations=[sexual].",
                          "moderation_blocked", "image_generation_user_error")
        if GARBAGE_WORD in prompt:
            return Response("upstream connect error", media_type="text/plain")
        data = [{"b64_json": base64.b64encode(b"not a picture" if NOT_AN_IMAGE_WORD in prompt
                                              else picture(f"openai:{model}:{prompt}:{i}")).decode()}
                for i in range(n)]
        return JSONResponse({"created": int(time.time()), "data": data, "background": "opaque",
                             "output_format": "png", "size": "1024x1024", "quality": "medium",
                             "usage": {"input_tokens": 50 + 200 * references, "output_tokens": 1056 * n,
                                       "total_tokens": 50 + 200 * references + 1056 * n,
                                       "input_tokens_details": {"text_tokens": 50, "image_tokens": 200 * references}}})
