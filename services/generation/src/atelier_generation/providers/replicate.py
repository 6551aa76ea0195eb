"""Replicate's predictions API (https://replicate.com/docs/reference/http), over httpx.

`POST {base}/v1/models/{owner}/{name}/predictions` (an official model) or `POST
{base}/v1/predictions` with `version` (a `owner/name:version` model id), body `{input, webhook?,
webhook_events_filter: ["completed"]}`, `Authorization: Bearer …` → 201 `{id, status: starting, …}`;
`GET {base}/v1/predictions/{id}` → `starting` | `processing` | `succeeded` (`output`: a URL or a
list of URLs, `metrics.predict_time`) | `failed` (`error`) | `canceled`; `POST …/{id}/cancel`.
A safety refusal is a failed prediction whose error says NSFW / sensitive (the FLUX models' E005).

Webhooks follow Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`), verified
with `standardwebhooks` and the account's `whsec_` secret. The replicate SDK was not used: its
client is sync-first and adds nothing these four calls need.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

import atelier_generation.providers._http as _http
from atelier_generation.providers.base import (
    InvalidWebhook,
    Progress,
    ProviderFailed,
    ProviderRequest,
    ProviderResult,
    SafetyRefusal,
    Submission,
    WebhookEvent,
)
from atelier_generation.settings import ProviderSettings

BASE_URL = "https://api.replicate.com"
_SAFETY = re.compile(r"nsfw|sensitive|safety|E005", re.IGNORECASE)
# The input field a model takes its reference images in (`params.reference_input` overrides it).
REFERENCE_INPUT = "image_input"


class ReplicateProvider(_http.HttpAdapter):
    name: ClassVar[str] = "replicate"
    default_base_url: ClassVar[str] = BASE_URL
    synchronous: ClassVar[bool] = False
    accepts_references: ClassVar[bool] = True

    def __init__(self, client: httpx.AsyncClient, settings: ProviderSettings) -> None:
        super().__init__(client, settings)
        self.webhook = Webhook(settings.webhook_secret.get_secret_value()) if settings.webhook_secret else None

    async def _call(self, method: str, path: str, *, submit: bool = False, **kwargs: Any) -> dict[str, Any]:
        response = await self.request(method, f"{self.base_url}{path}", submit=submit, **kwargs)
        payload = _http.json_of(response, self.name)
        if response.status_code >= 400:
            detail = payload.get("detail") if isinstance(payload, dict) else None
            if response.status_code in (400, 422) and _SAFETY.search(str(detail or "")):
                raise SafetyRefusal(str(detail)[:300])
            raise ProviderFailed(f"Replicate answered {response.status_code}: {detail or ''}"[:300])
        if not isinstance(payload, dict):
            raise ProviderFailed("Replicate answered something that is not a prediction")
        return payload

    async def submit(self, request: ProviderRequest) -> Submission:
        params = _http.sent_params(request.params)
        reference_input = str(params.pop("reference_input", REFERENCE_INPUT))
        model_input: dict[str, Any] = {"prompt": request.prompt, "num_outputs": request.batch_size,
                                       "output_format": "png", **params}
        if request.seed is not None:
            model_input["seed"] = request.seed
        if request.references:
            model_input[reference_input] = [_http.data_uri(data) for data in request.references]
        body: dict[str, Any] = {"input": model_input}
        if request.webhook_url:
            body |= {"webhook": request.webhook_url, "webhook_events_filter": ["completed"]}
        owner_name, _, version = request.model.partition(":")
        if version:
            prediction = await self._call("POST", "/v1/predictions", submit=True, json={"version": version, **body})
        else:
            prediction = await self._call("POST", f"/v1/models/{owner_name}/predictions", submit=True, json=body)
        prediction_id = prediction.get("id")
        if not isinstance(prediction_id, str) or not prediction_id:
            raise ProviderFailed("Replicate accepted the prediction without an id")
        return Submission(request_id=prediction_id)

    async def _prediction(self, prediction_id: str) -> dict[str, Any]:
        return await self._call("GET", f"/v1/predictions/{prediction_id}")

    async def poll(self, model: str, request_id: str) -> Progress:
        prediction = await self._prediction(request_id)
        status = prediction.get("status")
        if status == "succeeded":
            return Progress(done=True, percent=90)
        if status in ("starting", "processing"):
            return Progress(done=False, percent=10 if status == "starting" else 40)
        error = str(prediction.get("error") or status)
        if _SAFETY.search(error):
            raise SafetyRefusal(error[:300])
        raise ProviderFailed(f"Replicate's prediction ended {status}: {error}"[:300])

    async def fetch(self, model: str, request_id: str) -> ProviderResult:
        prediction = await self._prediction(request_id)
        if prediction.get("status") != "succeeded":
            raise ProviderFailed("Replicate's prediction has no result")
        output = prediction.get("output")
        urls = output if isinstance(output, list) else [output]
        if not urls:
            raise ProviderFailed("Replicate's prediction holds no images")
        images = [await _http.download(self.client, url, provider=self.name, timeout=self.timeout) for url in urls]
        metrics = prediction.get("metrics")
        # Replicate reports the seconds it billed, not a price.
        return ProviderResult(images=images, usage={"metrics": metrics} if isinstance(metrics, dict) else {})

    async def cancel(self, model: str, request_id: str) -> None:
        try:
            await self._call("POST", f"/v1/predictions/{request_id}/cancel")
        except Exception:  # best effort: the job is failed and refunded whatever Replicate says
            return

    async def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        if self.webhook is None:
            raise InvalidWebhook("Replicate webhooks are not configured (no webhook_secret)")
        try:
            payload = self.webhook.verify(body, {key.lower(): value for key, value in headers.items()})
        except (WebhookVerificationError, ValueError, binascii.Error) as exc:
            raise InvalidWebhook(f"Replicate webhook: {exc}") from exc
        prediction_id = payload.get("id") if isinstance(payload, dict) else None
        if not isinstance(prediction_id, str) or not prediction_id:
            raise InvalidWebhook("Replicate webhook: the body names no prediction")
        return WebhookEvent(request_id=prediction_id, done=payload.get("status") in ("succeeded", "failed", "canceled"))
