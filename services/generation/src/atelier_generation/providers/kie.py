"""kie.ai's task API (https://docs.kie.ai), over httpx.

`POST {base}/api/v1/jobs/createTask` (`Authorization: Bearer …`) `{model, input: {prompt, …},
callBackUrl?}` → `{code: 200, msg, data: {taskId}}`; `GET {base}/api/v1/jobs/recordInfo?taskId=` →
`{code, data: {state: waiting|queuing|generating|success|fail, resultJson: "{\\"resultUrls\\": […]}",
failCode, failMsg}}`. kie.ai puts its status in the body's `code` as well as (or instead of) the
HTTP status: 429 and 455 (service unavailable) and 5xx pass, 402 (out of credits) and 4xx fail.

Callbacks carry `X-Webhook-Timestamp` and `X-Webhook-Signature` = base64(HMAC-SHA256(`taskId.timestamp`,
webhookHmacKey)) — the `webhook_secret` setting.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

import atelier_generation.providers._http as _http
from atelier_generation.providers.base import (
    InvalidWebhook,
    Progress,
    ProviderFailed,
    ProviderRequest,
    ProviderResult,
    ProviderUnavailable,
    SafetyRefusal,
    Submission,
    WebhookEvent,
)
from atelier_generation.settings import ProviderSettings

BASE_URL = "https://api.kie.ai"
PASSING_CODES = {429, 455, 500, 501, 502, 503, 505}
_SAFETY = re.compile(r"nsfw|sensitive|safety|content polic|prohibited", re.IGNORECASE)
WEBHOOK_TOLERANCE_SECONDS = 300


class KieProvider(_http.HttpAdapter):
    name: ClassVar[str] = "kie"
    default_base_url: ClassVar[str] = BASE_URL
    synchronous: ClassVar[bool] = False
    accepts_references: ClassVar[bool] = False  # kie takes reference images as URLs only

    def __init__(self, client: httpx.AsyncClient, settings: ProviderSettings) -> None:
        super().__init__(client, settings)
        self.webhook_secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None

    async def _call(self, method: str, path: str, *, submit: bool = False, **kwargs: Any) -> dict[str, Any]:
        response = await self.request(method, f"{self.base_url}{path}", submit=submit, **kwargs)
        payload = _http.json_of(response, self.name)
        if not isinstance(payload, dict):
            raise ProviderFailed("kie.ai answered something that is not its envelope")
        code = payload.get("code", response.status_code)
        message = str(payload.get("msg") or payload.get("message") or "")[:200]
        if code in PASSING_CODES:
            raise ProviderUnavailable(f"kie.ai answered {code}: {message}", retry_after=_http.retry_after(response))
        if code != 200 or response.status_code >= 400:
            if _SAFETY.search(message):
                raise SafetyRefusal(message)
            raise ProviderFailed(f"kie.ai answered {code}: {message}"[:300])
        data = payload.get("data")
        if not isinstance(data, dict):
            raise ProviderFailed("kie.ai's answer holds no data")
        return data

    async def submit(self, request: ProviderRequest) -> Submission:
        body: dict[str, Any] = {"model": request.model,
                                "input": {"prompt": request.prompt, **_http.sent_params(request.params)}}
        if request.batch_size > 1:
            body["input"].setdefault("num_images", request.batch_size)
        if request.webhook_url:
            body["callBackUrl"] = request.webhook_url
        data = await self._call("POST", "/api/v1/jobs/createTask", submit=True, json=body)
        task_id = data.get("taskId")
        if not isinstance(task_id, str) or not task_id:
            raise ProviderFailed("kie.ai accepted the task without a task id")
        return Submission(request_id=task_id)

    async def _record(self, task_id: str) -> dict[str, Any]:
        return await self._call("GET", "/api/v1/jobs/recordInfo", params={"taskId": task_id})

    async def poll(self, model: str, request_id: str) -> Progress:
        record = await self._record(request_id)
        state = record.get("state")
        if state == "success":
            return Progress(done=True, percent=90)
        if state in ("waiting", "queuing", "generating"):
            return Progress(done=False, percent=40 if state == "generating" else 10)
        message = str(record.get("failMsg") or state)
        if _SAFETY.search(message):
            raise SafetyRefusal(message[:300])
        raise ProviderFailed(f"kie.ai's task ended {state}: {record.get('failCode') or ''} {message}"[:300])

    async def fetch(self, model: str, request_id: str) -> ProviderResult:
        record = await self._record(request_id)
        try:
            result = json.loads(record.get("resultJson") or "")
        except (TypeError, ValueError) as exc:
            raise ProviderFailed("kie.ai's result is not JSON") from exc
        urls = result.get("resultUrls") if isinstance(result, dict) else None
        if not isinstance(urls, list) or not urls:
            raise ProviderFailed("kie.ai's result holds no images")
        images = [await _http.download(self.client, url, provider=self.name, timeout=self.timeout) for url in urls]
        return ProviderResult(images=images, usage={key: record[key] for key in ("costTime", "creditsConsumed")
                                                    if isinstance(record.get(key), int | float)})

    async def cancel(self, model: str, request_id: str) -> None:
        return None  # kie.ai offers no cancellation

    async def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        if not self.webhook_secret:
            raise InvalidWebhook("kie.ai callbacks are not configured (no webhook_secret)")
        timestamp, signature = headers.get("x-webhook-timestamp", ""), headers.get("x-webhook-signature", "")
        try:
            payload = json.loads(body)
            data = payload.get("data") if isinstance(payload, dict) else None
            task_id = (data.get("taskId") or data.get("task_id")) if isinstance(data, dict) else None
            stale = abs(time.time() - int(timestamp)) > WEBHOOK_TOLERANCE_SECONDS
        except ValueError as exc:
            raise InvalidWebhook("kie.ai callback: unreadable body or timestamp") from exc
        if not isinstance(task_id, str) or not task_id or stale:
            raise InvalidWebhook("kie.ai callback: no task id, or a stale timestamp")
        expected = base64.b64encode(hmac.new(self.webhook_secret.encode(), f"{task_id}.{timestamp}".encode(),
                                             hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected, signature):
            raise InvalidWebhook("kie.ai callback: the signature does not verify")
        return WebhookEvent(request_id=task_id, done=True)
