"""What every fake model provider shares: a real HTTP server in a thread, the knobs a test turns
(latency, refusals, holding jobs), counters, and pictures to hand out.

Prompts steer the fakes the way a real provider's inputs would: a prompt holding `forbidden` is
refused by the provider's safety system, `garbage` gets an answer that is not what the API
documents, `not-an-image` gets a "picture" that is text.
"""

from __future__ import annotations

import hashlib
import io
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Response
from PIL import Image, ImageDraw

SAFETY_WORD = "forbidden"
GARBAGE_WORD = "garbage"
NOT_AN_IMAGE_WORD = "not-an-image"


def picture(text: str, size: int = 64, fmt: str = "PNG") -> bytes:
    """A small picture whose colours follow `text`: different requests, different bytes."""
    digest = hashlib.sha256(text.encode()).digest()
    image = Image.new("RGB", (size, size), tuple(digest[:3]))
    ImageDraw.Draw(image).ellipse((size // 4, size // 4, size * 3 // 4, size * 3 // 4), fill=tuple(digest[3:6]))
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def black_picture(size: int = 64) -> bytes:
    """What a safety checker hands back in place of the picture it flagged."""
    buffer = io.BytesIO()
    Image.new("RGB", (size, size)).save(buffer, "PNG")
    return buffer.getvalue()


@dataclass
class Refusal:
    status: int
    retry_after: float | None = None
    # Submits still let through before this refusal applies.
    after: int = 0


@dataclass
class FakeJob:
    id: str
    model: str
    body: dict[str, Any]
    prompt: str
    created: float = field(default_factory=time.monotonic)
    cancelled: bool = False


class FakeProvider:
    """The state and knobs of one fake; subclasses add the provider's routes to `self.app`."""

    name = "provider"
    # What its file host answers for a job asked for `NOT_AN_IMAGE_WORD`: bytes that are no picture.
    not_a_picture = b"this is not a picture"

    def __init__(self, *, delay: float = 0.0) -> None:
        self.app = FastAPI()
        # Seconds a job takes (queued providers: until COMPLETED; synchronous ones: before answering).
        self.delay = delay
        # While set, queued jobs stay in progress (a test crashes the worker meanwhile).
        self.hold = False
        self.jobs: dict[str, FakeJob] = {}
        self.submits: list[FakeJob] = []
        self.polls = 0
        self.refusals: list[Refusal] = []
        self.refused: list[Refusal] = []
        self._lock = threading.Lock()

    # -- knobs -----------------------------------------------------------------------------------

    def refuse_next(self, status: int = 429, *, retry_after: float | None = None, times: int = 1,
                    after: int = 0) -> None:
        """The next `times` submits (once `after` more were let through) are refused with `status`
        (and `Retry-After`) before anything is taken."""
        with self._lock:
            self.refusals.extend(Refusal(status, retry_after, after if n == 0 else 0) for n in range(times))

    def submit_count(self, model: str | None = None) -> int:
        return sum(1 for job in self.submits if model is None or job.model == model)

    # -- for the routes --------------------------------------------------------------------------

    def take_refusal(self) -> Refusal | None:
        with self._lock:
            if not self.refusals:
                return None
            if self.refusals[0].after > 0:
                self.refusals[0].after -= 1
                return None
            refusal = self.refusals.pop(0)
            self.refused.append(refusal)
            return refusal

    def new_job(self, model: str, body: dict[str, Any], prompt: str, job_id: str | None = None) -> FakeJob:
        job = FakeJob(id=job_id or str(uuid.uuid4()), model=model, body=body, prompt=prompt)
        with self._lock:
            self.jobs[job.id] = job
            self.submits.append(job)
        return job

    def picture_of(self, job: FakeJob, index: int) -> bytes:
        return picture(f"{self.name}:{job.model}:{job.prompt}:{index}")

    def image_file(self, job_id: str, index: int) -> Response:
        """Picture `index` of a job, as the provider's file host serves it."""
        job = self.jobs.get(job_id)
        if job is None:
            return Response(status_code=404)
        if NOT_AN_IMAGE_WORD in job.prompt:
            return Response(self.not_a_picture, media_type="image/png")
        return Response(self.picture_of(job, index), media_type="image/png")

    def state(self, job: FakeJob) -> str:
        """queued, running or done, by the job's age and the `hold` knob."""
        self.polls += 1
        age = time.monotonic() - job.created
        if self.hold:
            return "running"
        if age < self.delay / 2:
            return "queued"
        if age < self.delay:
            return "running"
        return "done"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class FakeServer:
    """A fake behind a real HTTP server in a thread: `FakeServer(FakeFal()).start()`, `.url`, `.stop()`."""

    def __init__(self, fake: FakeProvider, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.fake = fake
        self.port = port or free_port()
        self.url = f"http://{host}:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(fake.app, host=host, port=self.port, log_level="warning",
                                                     lifespan="off", access_log=False))
        self._thread = threading.Thread(target=self._server.run, name=f"fake-{fake.name}", daemon=True)

    def start(self, timeout: float = 10.0) -> FakeServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the fake {self.fake.name} server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
