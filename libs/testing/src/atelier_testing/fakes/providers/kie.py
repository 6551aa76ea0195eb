"""A fake kie.ai task API (https://docs.kie.ai/market/common/get-task-detail).

`POST /api/v1/jobs/createTask` (`Authorization: Bearer <API_KEY>`) `{model, input, callBackUrl?}` →
`{code: 200, msg: success, data: {taskId}}`; `GET /api/v1/jobs/recordInfo?taskId=` → `{code, message,
data: {taskId, model, state: waiting|queuing|generating|success|fail, param, resultJson, failCode,
failMsg, costTime, completeTime, createTime}}`. kie.ai answers HTTP 200 with its own `code` for
most errors (401, 402 insufficient credits, 422, 429, 455 unavailable, 500, 501 generation failed);
a refused prompt fails the task with a content-policy `failMsg`. Callbacks: `signed_callback(task_id)`
signs `taskId.timestamp` with HMAC-SHA256 (`WEBHOOK_SECRET`), base64, in `X-Webhook-Signature`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from atelier_testing.fakes.providers._base import (
    GARBAGE_WORD,
    SAFETY_WORD,
    FakeJob,
    FakeProvider,
)

API_KEY = "kie-test-key"
WEBHOOK_SECRET = "kie-webhook-hmac-key"


class FakeKie(FakeProvider):
    name = "kie"
    not_a_picture = b"nope"

    def __init__(self, *, delay: float = 0.0) -> None:
        super().__init__(delay=delay)
        app = self.app

        @app.post("/api/v1/jobs/createTask")
        async def create_task(request: Request) -> Any:
            if request.headers.get("authorization") != f"Bearer {API_KEY}":
                return {"code": 401, "msg": "You do not have access permissions", "data": None}
            if (refusal := self.take_refusal()) is not None:
                headers = {"Retry-After": f"{refusal.retry_after:g}"} if refusal.retry_after is not None else None
                # kie.ai says "unavailable" in its body's code (455) over an HTTP 200; a 429 is both.
                code = 429 if refusal.status == 429 else 455
                return JSONResponse({"code": code, "msg": "Rate limited" if code == 429 else "Service unavailable",
                                     "data": None}, status_code=429 if code == 429 else 200, headers=headers)
            try:
                body = json.loads(await request.body())
                prompt = body["input"]["prompt"]
            except (ValueError, KeyError, TypeError):
                return {"code": 422, "msg": "input.prompt is required", "data": None}
            job = self.new_job(str(body.get("model")), body, str(prompt), job_id=f"task_{uuid.uuid4().hex[:16]}")
            return {"code": 200, "msg": "success", "data": {"taskId": job.id}}

        @app.get("/api/v1/jobs/recordInfo")
        async def record_info(request: Request, taskId: str = "") -> Any:
            if request.headers.get("authorization") != f"Bearer {API_KEY}":
                return {"code": 401, "message": "You do not have access permissions", "data": None}
            job = self.jobs.get(taskId)
            if job is None:
                return {"code": 422, "message": "recordInfo is null", "data": None}
            return {"code": 200, "message": "success", "data": self.record(job, str(request.base_url).rstrip("/"))}

        @app.get("/files/{task_id}/{index}.png")
        async def file(task_id: str, index: int) -> Response:
            return self.image_file(task_id, index)

    def record(self, job: FakeJob, base: str) -> dict[str, Any]:
        state = {"queued": "waiting", "running": "generating", "done": "success"}[self.state(job)]
        record: dict[str, Any] = {"taskId": job.id, "model": job.model, "state": state,
                                  "param": json.dumps(job.body), "resultJson": "", "failCode": "", "failMsg": "",
                                  "costTime": None, "completeTime": None, "createTime": int(time.time() * 1000)}
        if state == "success":
            if SAFETY_WORD in job.prompt:
                record |= {"state": "fail", "failCode": "400",
                           "failMsg": "Your prompt was flagged as violating the content policy"}
            elif GARBAGE_WORD in job.prompt:
                record |= {"resultJson": "{truncated"}
            else:
                count = int((job.body.get("input") or {}).get("num_images") or 1)
                record |= {"resultJson": json.dumps({"resultUrls": [f"{base}/files/{job.id}/{i}.png"
                                                                    for i in range(count)]}),
                           "costTime": 7, "completeTime": int(time.time() * 1000)}
        return record

    def signed_callback(self, task_id: str, *, secret: str = WEBHOOK_SECRET,
                        timestamp: int | None = None) -> tuple[dict[str, str], bytes]:
        job = self.jobs.get(task_id)
        data = self.record(job, "http://kie.test") if job else {"taskId": task_id, "state": "success"}
        body = json.dumps({"code": 200, "msg": "success", "data": {**data, "task_id": task_id}}).encode()
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = base64.b64encode(hmac.new(secret.encode(), f"{task_id}.{stamp}".encode(), hashlib.sha256)
                                     .digest()).decode()
        return {"X-Webhook-Timestamp": stamp, "X-Webhook-Signature": signature,
                "Content-Type": "application/json"}, body
