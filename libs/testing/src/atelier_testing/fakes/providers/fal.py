"""A fake fal.ai queue API (https://docs.fal.ai/model-endpoints/queue) and its webhook signatures.

`POST /{model id}` (`Authorization: Key <API_KEY>`, optional `?fal_webhook=`) → `{request_id,
gateway_request_id, status_url, response_url, cancel_url}`; `GET /{app}/requests/{id}/status` →
`{status: IN_QUEUE|IN_PROGRESS|COMPLETED, queue_position?, response_url}`; `GET
/{app}/requests/{id}` → the FLUX output `{images: [{url, width, height, content_type}], timings,
seed, has_nsfw_concepts, prompt}` (400 while not done); `PUT …/cancel` → 202 `{status:
CANCELLATION_REQUESTED}` or 400 `{status: ALREADY_COMPLETED}`; unknown ids 404. A picture the
safety checker flags comes back black with `has_nsfw_concepts: [true]`, as fal's FLUX endpoints do.

Webhooks: `signed_webhook(request_id)` gives the headers and body fal would POST, signed with the
fake's ED25519 key (`X-Fal-Webhook-Signature` over `request id \\n user id \\n timestamp \\n
sha256(body)`), whose public half is served as a JWKS at `/.well-known/jwks.json`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import Request
from fastapi.responses import JSONResponse, Response

from atelier_testing.fakes.providers._base import (
    GARBAGE_WORD,
    SAFETY_WORD,
    FakeJob,
    FakeProvider,
    black_picture,
    picture,
)

API_KEY = "fal-test-key"
USER_ID = "fal-test-user"


class FakeFal(FakeProvider):
    name = "fal"

    def __init__(self, *, delay: float = 0.0) -> None:
        super().__init__(delay=delay)
        self.signing_key = Ed25519PrivateKey.generate()
        self.cancels: list[str] = []
        app = self.app

        @app.get("/.well-known/jwks.json")
        async def jwks() -> Any:
            raw = self.signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
            return {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "fake-fal", "use": "sig", "alg": "EdDSA"}]}

        @app.get("/files/{request_id}/{index}.png")
        async def file(request_id: str, index: int) -> Response:
            return self.image_file(request_id, index)

        @app.get("/{owner}/{app_name}/requests/{request_id}/status")
        async def status(owner: str, app_name: str, request_id: str, request: Request) -> Any:
            if (denied := self._auth(request)) is not None:
                return denied
            job = self.jobs.get(request_id)
            if job is None or not job.model.startswith(f"{owner}/{app_name}"):
                return JSONResponse({"detail": "Request not found"}, status_code=404)
            state = self.state(job)
            body: dict[str, Any] = {"status": {"queued": "IN_QUEUE", "running": "IN_PROGRESS",
                                               "done": "COMPLETED"}[state],
                                    "response_url": f"{self._base(request)}/{owner}/{app_name}/requests/{job.id}"}
            if state == "queued":
                body["queue_position"] = 0
            return body

        @app.get("/{owner}/{app_name}/requests/{request_id}")
        async def result(owner: str, app_name: str, request_id: str, request: Request) -> Any:
            if (denied := self._auth(request)) is not None:
                return denied
            job = self.jobs.get(request_id)
            if job is None or not job.model.startswith(f"{owner}/{app_name}"):
                return JSONResponse({"detail": "Request not found"}, status_code=404)
            if self.state(job) != "done":
                return JSONResponse({"detail": "Request is still in progress"}, status_code=400)
            if GARBAGE_WORD in job.prompt:
                return Response("<html>upstream hiccup</html>", media_type="text/html")
            return self.output(job, self._base(request))

        @app.put("/{owner}/{app_name}/requests/{request_id}/cancel")
        async def cancel(owner: str, app_name: str, request_id: str, request: Request) -> Any:
            if (denied := self._auth(request)) is not None:
                return denied
            job = self.jobs.get(request_id)
            if job is None:
                return JSONResponse({"detail": "Request not found"}, status_code=404)
            self.cancels.append(request_id)
            if self.state(job) == "done":
                return JSONResponse({"status": "ALREADY_COMPLETED"}, status_code=400)
            job.cancelled = True
            return JSONResponse({"status": "CANCELLATION_REQUESTED"}, status_code=202)

        @app.post("/{model:path}")
        async def submit(model: str, request: Request) -> Any:
            if (denied := self._auth(request)) is not None:
                return denied
            if (refusal := self.take_refusal()) is not None:
                headers = {"Retry-After": f"{refusal.retry_after:g}"} if refusal.retry_after is not None else {}
                return JSONResponse({"detail": "Rate limit exceeded" if refusal.status == 429 else "Internal error"},
                                    status_code=refusal.status, headers=headers)
            try:
                body = json.loads(await request.body())
            except ValueError:
                return JSONResponse({"detail": "Invalid JSON"}, status_code=422)
            if not isinstance(body, dict) or not isinstance(body.get("prompt"), str):
                return JSONResponse({"detail": [{"loc": ["body", "prompt"], "msg": "field required",
                                                 "type": "value_error.missing"}]}, status_code=422)
            job = self.new_job(model, body, body["prompt"])
            job.body["_webhook"] = request.query_params.get("fal_webhook")
            base = f"{self._base(request)}/{'/'.join(model.split('/')[:2])}/requests/{job.id}"
            await asyncio.sleep(0)
            return {"request_id": job.id, "gateway_request_id": job.id, "status_url": f"{base}/status",
                    "response_url": base, "cancel_url": f"{base}/cancel"}

    @staticmethod
    def _base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    @staticmethod
    def _auth(request: Request) -> JSONResponse | None:
        if request.headers.get("authorization") != f"Key {API_KEY}":
            return JSONResponse({"detail": "Invalid API key"}, status_code=401)
        return None

    def picture_of(self, job: FakeJob, index: int) -> bytes:
        if SAFETY_WORD in job.prompt:
            return black_picture()
        return picture(f"fal:{job.model}:{job.prompt}:{job.body.get('seed')}:{index}")

    def output(self, job: FakeJob, base: str) -> dict[str, Any]:
        count = int(job.body.get("num_images") or 1)
        flagged = SAFETY_WORD in job.prompt
        return {"images": [{"url": f"{base}/files/{job.id}/{i}.png", "width": 64, "height": 64,
                            "content_type": "image/png"} for i in range(count)],
                "timings": {"inference": 0.42}, "seed": job.body.get("seed", 42),
                "has_nsfw_concepts": [flagged] * count, "prompt": job.prompt}

    def signed_webhook(self, request_id: str, *, base: str = "http://fal.test", timestamp: int | None = None,
                       key: Ed25519PrivateKey | None = None) -> tuple[dict[str, str], bytes]:
        """The POST fal makes to `fal_webhook` once the request is done: headers and body."""
        job = self.jobs.get(request_id)
        payload = self.output(job, base) if job is not None else {}
        body = json.dumps({"request_id": request_id, "gateway_request_id": request_id, "status": "OK",
                           "payload": payload}).encode()
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        message = "\n".join([request_id, USER_ID, stamp, hashlib.sha256(body).hexdigest()]).encode()
        signature = (key or self.signing_key).sign(message).hex()
        return ({"X-Fal-Webhook-Request-Id": request_id, "X-Fal-Webhook-User-Id": USER_ID,
                 "X-Fal-Webhook-Timestamp": stamp, "X-Fal-Webhook-Signature": signature,
                 "Content-Type": "application/json"}, body)

