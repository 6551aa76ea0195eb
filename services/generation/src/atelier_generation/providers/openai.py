"""OpenAI Images (https://platform.openai.com/docs/api-reference/images), over httpx.

`POST {base}/images/generations` (JSON `{model, prompt, n, size, …}`) or, with reference images,
`POST {base}/images/edits` (multipart, `image[]` parts), `Authorization: Bearer …` → `{created,
data: [{b64_json}], usage: {input_tokens, output_tokens, …}}` (gpt-image models always answer
base64; dall-e models are asked for `response_format=b64_json`). A refusal by the safety system is a
400 whose error code is `moderation_blocked` (gpt-image) or `content_policy_violation` (dall-e).

Synchronous: the submit is the generation and there is no request id, so an interrupted submit is
never sent again. The openai SDK was not used: it retries POSTs twice by default, and the two
calls are this file.
"""

from __future__ import annotations

from typing import Any, ClassVar

import atelier_generation.providers._http as _http
from atelier_generation.providers.base import (
    ProviderFailed,
    ProviderRequest,
    ProviderResult,
    SafetyRefusal,
    Submission,
    SynchronousProvider,
)

BASE_URL = "https://api.openai.com/v1"
SAFETY_CODES = {"moderation_blocked", "content_policy_violation"}


class OpenAIImagesProvider(SynchronousProvider, _http.HttpAdapter):
    name: ClassVar[str] = "openai"
    default_base_url: ClassVar[str] = BASE_URL
    title: ClassVar[str] = "OpenAI Images"
    accepts_references: ClassVar[bool] = True

    async def submit(self, request: ProviderRequest) -> Submission:
        fields: dict[str, Any] = {"model": request.model, "prompt": request.prompt, "n": request.batch_size,
                                  "size": "1024x1024",
                                  **_http.sent_params(request.params)}
        if request.model.startswith("dall-e"):
            fields["response_format"] = "b64_json"
        if request.references:
            files = [("image[]", (f"reference-{i}.png", data, "image/png")) for i, data in enumerate(request.references)]
            data = {key: str(value) for key, value in fields.items()}
            response = await self.request("POST", f"{self.base_url}/images/edits", submit=True, data=data, files=files)
        else:
            response = await self.request("POST", f"{self.base_url}/images/generations", submit=True, json=fields)
        payload = _http.json_of(response, self.name)
        if response.status_code >= 400:
            error = payload.get("error") if isinstance(payload, dict) else None
            error = error if isinstance(error, dict) else {}
            message = str(error.get("message") or f"OpenAI answered {response.status_code}")[:300]
            if error.get("code") in SAFETY_CODES:
                raise SafetyRefusal(message)
            raise ProviderFailed(f"OpenAI answered {response.status_code}: {message}"[:300])
        items = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(items, list) or not items:
            raise ProviderFailed("OpenAI's answer holds no images")
        images = [_http.decoded_image(item.get("b64_json") if isinstance(item, dict) else None, self.name)
                  for item in items]
        usage = payload.get("usage")
        usage = usage if isinstance(usage, dict) else {}
        cost = _http.token_cost(request.params, usage.get("input_tokens"), usage.get("output_tokens"))
        return Submission(result=ProviderResult(images=images, cost=cost, usage=usage))
