"""fal.ai through its queue API (https://docs.fal.ai/model-endpoints/queue), over httpx.

`POST {queue}/{model}` (`Authorization: Key …`, `?fal_webhook=` when webhooks are on) →
`{request_id, status_url, response_url, cancel_url}`; `GET {queue}/{app}/requests/{id}/status` →
`IN_QUEUE` | `IN_PROGRESS` | `COMPLETED`; `GET {queue}/{app}/requests/{id}` → the model's output
(`images: [{url, …}]`, `has_nsfw_concepts: [bool]`); `PUT …/{id}/cancel`. `{app}` is the model id's
first two segments (`fal-ai/flux-pro/v1.1` → `fal-ai/flux-pro`), as fal's status URLs are.

Webhooks are signed with ED25519: the message is `request id \\n user id \\n timestamp \\n
sha256(body) hex`, the signature (hex) must verify with one of the keys fal publishes as a JWKS,
and the timestamp must be within five minutes. fal-client was not used: its queue calls are thin
wrappers of these, and its HTTP client retries on its own.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

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

BASE_URL = "https://queue.fal.run"
JWKS_URL = "https://rest.alpha.fal.ai/.well-known/jwks.json"
WEBHOOK_TOLERANCE_SECONDS = 300
JWKS_TTL_SECONDS = 24 * 3600
_SIZES = {512: "square", 1024: "square_hd"}


def app_id(model: str) -> str:
    return "/".join(model.split("/")[:2])


class FalProvider(_http.HttpAdapter):
    name: ClassVar[str] = "fal"
    default_base_url: ClassVar[str] = BASE_URL
    synchronous: ClassVar[bool] = False
    accepts_references: ClassVar[bool] = True

    def __init__(self, client: httpx.AsyncClient, settings: ProviderSettings) -> None:
        super().__init__(client, settings)
        self.jwks_url = settings.jwks_url or JWKS_URL
        self._keys: tuple[float, list[Ed25519PublicKey]] | None = None

    @staticmethod
    def key_headers(key: str) -> dict[str, str]:
        return {"Authorization": f"Key {key}"}

    async def _call(self, method: str, url: str, *, submit: bool = False, **kwargs: Any) -> Any:
        response = await self.request(method, url, submit=submit, **kwargs)
        if response.status_code == 404:
            raise ProviderFailed("fal does not know that request")
        if response.status_code == 422 and _is_safety(response):
            raise SafetyRefusal(_detail(response) or "fal's safety checker refused the prompt")
        if response.status_code >= 400:
            raise ProviderFailed(f"fal answered {response.status_code}: {_detail(response)}"[:300])
        return _http.json_of(response, self.name)

    async def submit(self, request: ProviderRequest) -> Submission:
        body: dict[str, Any] = {"prompt": request.prompt, "num_images": request.batch_size,
                                "image_size": _SIZES.get(request.size, "square_hd"),
                                "enable_safety_checker": True, "output_format": "png", **request.params}
        if request.seed is not None:
            body["seed"] = request.seed
        if request.references:
            body["image_urls"] = [_http.data_uri(ref) for ref in request.references]
        params = {"fal_webhook": request.webhook_url} if request.webhook_url else None
        payload = await self._call("POST", f"{self.base_url}/{request.model}", submit=True, json=body, params=params)
        request_id = payload.get("request_id") if isinstance(payload, dict) else None
        if not isinstance(request_id, str) or not request_id:
            raise ProviderFailed("fal accepted the submit without a request id")
        return Submission(request_id=request_id)

    async def poll(self, model: str, request_id: str) -> Progress:
        payload = await self._call("GET", f"{self.base_url}/{app_id(model)}/requests/{request_id}/status")
        status = payload.get("status") if isinstance(payload, dict) else None
        if status == "COMPLETED":
            return Progress(done=True, percent=90)
        if status == "IN_PROGRESS":
            return Progress(done=False, percent=40)
        if status == "IN_QUEUE":
            return Progress(done=False, percent=10)
        raise ProviderFailed(f"fal reported the request as {status!r}"[:300])

    async def fetch(self, model: str, request_id: str) -> ProviderResult:
        payload = await self._call("GET", f"{self.base_url}/{app_id(model)}/requests/{request_id}")
        if not isinstance(payload, dict) or not isinstance(payload.get("images"), list) or not payload["images"]:
            raise ProviderFailed("fal's result holds no images")
        if any(flag is True for flag in payload.get("has_nsfw_concepts") or []):
            raise SafetyRefusal("fal's safety checker flagged the picture")
        images = [await _http.download(self.client, (item or {}).get("url") if isinstance(item, dict) else None,
                                       provider=self.name, timeout=self.timeout)
                  for item in payload["images"]]
        # fal's queue API reports no price; its timings are the usage.
        timings = payload.get("timings")
        return ProviderResult(images=images, usage={"timings": timings} if isinstance(timings, dict) else {})

    async def cancel(self, model: str, request_id: str) -> None:
        try:
            await self._call("PUT", f"{self.base_url}/{app_id(model)}/requests/{request_id}/cancel")
        except Exception:  # best effort: the job is failed and refunded whatever fal says
            return

    async def _public_keys(self, *, refresh: bool = False) -> list[Ed25519PublicKey]:
        if self._keys is not None and not refresh and time.monotonic() - self._keys[0] < JWKS_TTL_SECONDS:
            return self._keys[1]
        # The JWKS is public: fetched without the API key.
        response = await _http.send(self.client, "GET", self.jwks_url, provider=self.name, submit=False,
                                    timeout=self.timeout)
        keys = []
        for jwk in (_http.json_of(response, self.name) or {}).get("keys") or []:
            if isinstance(jwk, dict) and jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
                try:
                    keys.append(Ed25519PublicKey.from_public_bytes(_b64url(str(jwk.get("x")))))
                except ValueError:
                    continue
        self._keys = (time.monotonic(), keys)
        return keys

    async def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        request_id = headers.get("x-fal-webhook-request-id", "")
        user_id = headers.get("x-fal-webhook-user-id", "")
        timestamp = headers.get("x-fal-webhook-timestamp", "")
        try:
            signature = bytes.fromhex(headers.get("x-fal-webhook-signature", ""))
            stamped = int(timestamp)
        except ValueError as exc:
            raise InvalidWebhook("fal webhook: malformed signature headers") from exc
        if not request_id or not signature or abs(time.time() - stamped) > WEBHOOK_TOLERANCE_SECONDS:
            raise InvalidWebhook("fal webhook: missing headers or a stale timestamp")
        message = "\n".join([request_id, user_id, timestamp, hashlib.sha256(body).hexdigest()]).encode()
        for refresh in (False, True):  # a key rotated since the last fetch: fetch the set once more
            for key in await self._public_keys(refresh=refresh):
                try:
                    key.verify(signature, message)
                except InvalidSignature:
                    continue
                try:
                    payload = json.loads(body)
                except ValueError as exc:
                    raise InvalidWebhook("fal webhook: the body is not JSON") from exc
                if not isinstance(payload, dict) or payload.get("request_id", request_id) != request_id:
                    raise InvalidWebhook("fal webhook: the body names another request")
                return WebhookEvent(request_id=request_id, done=True)
        raise InvalidWebhook("fal webhook: the signature does not verify")


def _b64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))



def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    detail = body.get("detail") if isinstance(body, dict) else body
    return json.dumps(detail)[:200] if not isinstance(detail, str) else detail[:200]


def _is_safety(response: httpx.Response) -> bool:
    text = response.text.lower()
    return "content_policy" in text or "nsfw" in text or "safety" in text
