"""A fake Replicate predictions API (https://replicate.com/docs/reference/http).

`POST /v1/models/{owner}/{name}/predictions` and `POST /v1/predictions` (`version`), `Authorization:
Bearer <API_KEY>` → 201 prediction `{id, model, version, input, logs, output, error, status,
created_at, urls: {get, cancel, stream}}`; `GET /v1/predictions/{id}` → `starting` → `processing`
→ `succeeded` (`output`: URLs served by the fake under `/files/`, `metrics.predict_time`) or
`failed` (`error`, e.g. the FLUX models' NSFW refusal); `POST /v1/predictions/{id}/cancel`.
Errors are problem details `{title, detail, status}`; 429 carries `Retry-After`.

Webhooks: `signed_webhook(prediction_id)` gives what Replicate POSTs, signed per Standard Webhooks
(`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`) with `WEBHOOK_SECRET`,
computed here by hand (not with the library the adapter uses).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from atelier_testing.fakes.providers._base import (
    GARBAGE_WORD,
    SAFETY_WORD,
    FakeJob,
    FakeProvider,
)

API_KEY = "r8_test_replicate"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"fake-replicate-webhook-secret!!").decode()


def _problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"title": detail, "detail": detail, "status": status}, status_code=status, headers=headers)


class FakeReplicate(FakeProvider):
    name = "replicate"
    not_a_picture = b"<html>not a picture</html>"

    def __init__(self, *, delay: float = 0.0) -> None:
        super().__init__(delay=delay)
        self.cancels: list[str] = []
        app = self.app

        @app.post("/v1/models/{owner}/{model_name}/predictions")
        async def create_for_model(owner: str, model_name: str, request: Request) -> Any:
            return await self._create(request, f"{owner}/{model_name}")

        @app.post("/v1/predictions")
        async def create(request: Request) -> Any:
            return await self._create(request, None)

        @app.get("/v1/predictions/{prediction_id}")
        async def get(prediction_id: str, request: Request) -> Any:
            if not self._authorised(request):
                return _problem(401, "You did not pass a valid authentication token")
            job = self.jobs.get(prediction_id)
            if job is None:
                return _problem(404, "The requested resource could not be found.")
            if GARBAGE_WORD in job.prompt and self.state(job) == "done":
                return Response("{not json", media_type="application/json")
            return self.prediction(job, str(request.base_url).rstrip("/"))

        @app.post("/v1/predictions/{prediction_id}/cancel")
        async def cancel(prediction_id: str, request: Request) -> Any:
            if not self._authorised(request):
                return _problem(401, "You did not pass a valid authentication token")
            job = self.jobs.get(prediction_id)
            if job is None:
                return _problem(404, "The requested resource could not be found.")
            self.cancels.append(prediction_id)
            job.cancelled = True
            return self.prediction(job, str(request.base_url).rstrip("/"))

        @app.get("/files/{prediction_id}/{index}.png")
        async def file(prediction_id: str, index: int) -> Response:
            return self.image_file(prediction_id, index)

    @staticmethod
    def _authorised(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {API_KEY}"

    async def _create(self, request: Request, model: str | None) -> Any:
        if not self._authorised(request):
            return _problem(401, "You did not pass a valid authentication token")
        if (refusal := self.take_refusal()) is not None:
            headers = {"Retry-After": f"{refusal.retry_after:g}"} if refusal.retry_after is not None else None
            return _problem(refusal.status, "Request was throttled." if refusal.status == 429 else "Internal error",
                            headers)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _problem(400, "The request body is not valid JSON")
        model_input = body.get("input") if isinstance(body, dict) else None
        if not isinstance(model_input, dict) or not isinstance(model_input.get("prompt"), str):
            return _problem(422, "input.prompt is required")
        if model is None:
            if not isinstance(body.get("version"), str):
                return _problem(422, "version is required")
            model = f"version:{body['version']}"
        job = self.new_job(model, body, model_input["prompt"], job_id=uuid.uuid4().hex[:26])
        return JSONResponse(self.prediction(job, str(request.base_url).rstrip("/")), status_code=201)

    def prediction(self, job: FakeJob, base: str) -> dict[str, Any]:
        state = "canceled" if job.cancelled else self.state(job)
        body_input = job.body.get("input") or {}
        prediction: dict[str, Any] = {
            "id": job.id, "model": job.model, "version": job.body.get("version", "hidden"), "input": body_input,
            "logs": "", "output": None, "error": None, "data_removed": False,
            "created_at": datetime.fromtimestamp(time.time(), UTC).isoformat(),
            "urls": {"get": f"{base}/v1/predictions/{job.id}", "cancel": f"{base}/v1/predictions/{job.id}/cancel",
                     "web": f"https://replicate.com/p/{job.id}"},
            "status": {"queued": "starting", "running": "processing", "done": "succeeded",
                       "canceled": "canceled"}[state]}
        if state == "done":
            if SAFETY_WORD in job.prompt:
                prediction |= {"status": "failed",
                               "error": "NSFW content detected. Try running it again, or try a different prompt."}
            else:
                count = int(body_input.get("num_outputs") or 1)
                prediction |= {"output": [f"{base}/files/{job.id}/{i}.png" for i in range(count)],
                               "metrics": {"predict_time": 1.25, "total_time": 1.5}}
        return prediction

    def signed_webhook(self, prediction_id: str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None,
                       base: str = "http://replicate.test") -> tuple[dict[str, str], bytes]:
        job = self.jobs.get(prediction_id)
        body = json.dumps(self.prediction(job, base) if job else {"id": prediction_id, "status": "succeeded"}).encode()
        message_id = f"msg_{uuid.uuid4().hex}"
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        key = base64.b64decode(secret.removeprefix("whsec_"))
        signature = base64.b64encode(hmac.new(key, f"{message_id}.{stamp}.".encode() + body, hashlib.sha256)
                                     .digest()).decode()
        return ({"webhook-id": message_id, "webhook-timestamp": stamp, "webhook-signature": f"v1,{signature}",
                 "content-type": "application/json"}, body)
