"""Fixtures of generation's service tests: the app on a migrated database and an in-memory bus,
fakes of the other services' events, images to upload and a fake hosted model API."""

from __future__ import annotations

import asyncio
import base64
import io
import struct
import uuid
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse
from PIL import Image
from sqlalchemy import update

import atelier_generation
from atelier_common.contracts.orders import OrderLine
from atelier_common.contracts.payments import OrderPaid, SubscriptionChanged
from atelier_generation.app import create_app
from atelier_generation.generators import ImageRequest, render_image
from atelier_generation.models import GenerationJob
from atelier_generation.settings import GenerationSettings
from atelier_testing import RecordingBus, ServiceHarness, TestKeys, poll_until
from atelier_testing import assert_error as assert_error  # tests import it from here
from atelier_testing.staff import StaffDirectory

MIGRATIONS = Path(atelier_generation.__file__).parent / "migrations"
MODEL_API = "http://models.test"

# Small images keep the worker fast; rate limits out of the way unless a test sets them.
TEST_SETTINGS: dict[str, Any] = {
    "image_size": 96, "thumbnail_size": 32, "job_sweep_seconds": 0, "sse_poll_seconds": 0.02,
    "generation_rate_limits": {"free": "10000/minute"}, "http_generator_base_url": MODEL_API,
    "http_generator_api_key": "model-key", "url_signing_secret": "test-signing-secret",
    "public_base_url": "http://testserver", "restoration_max_side": 1600, "preview_max_side": 320,
}

StartGeneration = Callable[..., AbstractAsyncContextManager["GenerationApi"]]


@pytest.fixture
def database_url(service_database) -> str:
    return service_database("generation", MIGRATIONS)


@pytest.fixture
def start_generation(database_url: str, test_settings_overrides: dict[str, Any],
                     test_keys: TestKeys) -> StartGeneration:
    """`async with start_generation(**settings) as api:` — the app on this test's database.

    May be entered more than once in a test (a restart keeps the database and the files).
    `mounts` fakes other hosts (the model API) with in-process ASGI apps.
    """

    @asynccontextmanager
    async def start(*, mounts: dict[str, FastAPI] | None = None, **overrides: Any) -> AsyncIterator[GenerationApi]:
        settings = GenerationSettings(database_url=database_url,
                                      **{**test_settings_overrides, **TEST_SETTINGS, **overrides})
        bus = RecordingBus()
        # Identity's word on a staffer's roles now, asked by credit adjustments (`atelier_common.staff_access`).
        directory, plans = StaffDirectory(settings.service_token), PaymentsPlans()
        transports = {"http://identity.internal": httpx.ASGITransport(app=directory.install(FastAPI())),
                      "http://payments.internal": httpx.ASGITransport(app=plans.app),
                      **{url: httpx.ASGITransport(app=app) for url, app in (mounts or {}).items()}}
        async with ServiceHarness(create_app(settings, bus=bus, http_mounts=transports), bus) as harness:
            yield GenerationApi(harness, test_keys, directory, plans)

    return start


@pytest.fixture
async def api(start_generation: StartGeneration) -> AsyncIterator[GenerationApi]:
    async with start_generation() as generation:
        yield generation


class PaymentsPlans:
    """payments' `/internal/subscriptions/{id}/plan`, asked before a job is refused: `plans` set
    here answer, any other user has none (404); `unavailable`: payments answers 503."""

    def __init__(self) -> None:
        self.plans: dict[uuid.UUID, tuple[SubscriptionChanged, datetime]] = {}
        self.unavailable = False
        self.asked: list[uuid.UUID] = []
        self.app = FastAPI()

        @self.app.get("/internal/subscriptions/{user_id}/plan")
        async def plan(user_id: uuid.UUID) -> Any:
            self.asked.append(user_id)
            if self.unavailable:
                return JSONResponse({"error": {"code": "SERVICE_UNAVAILABLE"}}, status_code=503)
            if user_id not in self.plans:
                return JSONResponse({"error": {"code": "NOT_FOUND"}}, status_code=404)
            event, changed_at = self.plans[user_id]
            return {"event": event.model_dump(mode="json"), "changed_at": changed_at.isoformat()}


class User:
    def __init__(self, keys: TestKeys, user_id: uuid.UUID | None = None) -> None:
        self.id = user_id or uuid.uuid4()
        self.headers = keys.user_headers(self.id)


class GenerationApi:
    """The calls most tests start from: public routes, plus events as other services send them."""

    def __init__(self, harness: ServiceHarness, keys: TestKeys, staff_directory: StaffDirectory,
                 payments: PaymentsPlans) -> None:
        self.h = harness
        self.client = harness.client
        self.keys = keys
        self.staff_directory = staff_directory
        self.payments = payments

    @property
    def runtime(self) -> Any:
        return self.h.runtime

    @property
    def storage_dir(self) -> Path:
        return self.runtime.settings.resolved_storage_dir

    def user(self, user_id: uuid.UUID | None = None) -> User:
        return User(self.keys, user_id)

    async def buy_credits(self, user: User | uuid.UUID, credits: int, **fields: Any) -> OrderPaid:
        """Deliver `order.paid` for a credit pack, as payments would."""
        event = credit_pack_paid(user.id if isinstance(user, User) else user, credits, **fields)
        await self.h.deliver(event, producer="payments")
        return event

    async def user_with_credits(self, credits: int) -> User:
        """A new customer whose wallet holds `credits` (one credit pack bought)."""
        user = self.user()
        await self.buy_credits(user, credits)
        return user

    async def balance(self, user: User) -> int:
        response = await self.client.get("/api/v1/credits/balance", headers=user.headers)
        assert response.status_code == 200, response.text
        return response.json()["balance"]

    async def transactions(self, user: User) -> list[dict[str, Any]]:
        response = await self.client.get("/api/v1/credits/transactions", headers=user.headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def generate(self, user: User, prompt: str = "a dancer mid-leap", **fields: Any) -> httpx.Response:
        body = {"prompt": prompt, "filters": {"pose": "standing", "lighting": "dramatic"}, "batch_size": 1,
                "model": "flux-pro", **fields}
        return await self.client.post("/api/v1/generation/jobs", json=body, headers=user.headers)

    async def job(self, user: User, job_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/generation/jobs/{job_id}", headers=user.headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def generated(self, user: User, prompt: str = "a dancer mid-leap", **fields: Any) -> dict[str, Any]:
        """A job submitted, run by the worker and finished: its final state."""
        response = await self.generate(user, prompt, **fields)
        assert response.status_code == 202, response.text
        await self.h.drain()
        return await self.job(user, response.json()["job_id"])

    async def fetch(self, url: str) -> httpx.Response:
        """GET a URL this service handed out (absolute, on the public base URL)."""
        return await self.client.get(url.removeprefix("http://testserver"))

    async def upload(self, user: User, data: bytes, filename: str = "photo.jpg",
                     content_type: str = "image/jpeg") -> httpx.Response:
        return await self.client.post("/api/v1/restorations", files={"image": (filename, data, content_type)},
                                      headers=user.headers)

    async def restoration(self, user: User, restoration_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/restorations/{restoration_id}", headers=user.headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def restored(self, user: User, data: bytes | None = None) -> dict[str, Any]:
        """An uploaded photo, restored by the worker."""
        response = await self.upload(user, data or jpeg_bytes(800, 600))
        assert response.status_code == 201, response.text
        await self.h.drain()
        return await self.restoration(user, response.json()["job_id"])

    async def set_job(self, job_id: str | uuid.UUID, **values: Any) -> None:
        """Change a job row behind the service's back (to stage a crash)."""
        async with self.runtime.db.transaction() as session:
            await session.execute(update(GenerationJob).where(GenerationJob.id == uuid.UUID(str(job_id)))
                                  .values(**values))

    async def wait_for_status(self, user: User, job_id: str, *statuses: str) -> dict[str, Any]:
        async def reached() -> dict[str, Any] | None:
            job = await self.job(user, job_id)
            return job if job["status"] in statuses else None

        return await poll_until(reached, timeout=15, message=f"job {job_id} in {statuses}")


def credit_pack_paid(owner: uuid.UUID, credits: int, *, quantity: int = 1, order_id: uuid.UUID | None = None,
                     product_id: uuid.UUID | None = None, anonymous: bool = False,
                     storefront: str = "default") -> OrderPaid:
    return OrderPaid(
        storefront=storefront, order_id=order_id or uuid.uuid4(), order_number="ORD-20261121-ABCDEF", owner_id=owner,
        user_id=None if anonymous else owner, anon_id=owner if anonymous else None,
        amount=Decimal("4.99") * quantity, currency="USD", payment_id=uuid.uuid4(), provider="local",
        lines=[OrderLine(product_id=product_id or uuid.uuid4(), sku=f"PACK_{credits}", kind="credit_pack",
                         quantity=quantity, unit_price=Decimal("4.99"), attributes={"credits": credits})])


# -- images ----------------------------------------------------------------------------------

def _photo(width: int, height: int) -> Image.Image:
    """A photo-like picture (gradient and noise): something a restoration can work on."""
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40)
    return Image.merge("RGB", (gradient, noise, gradient.rotate(90, expand=False).resize((width, height))))


def jpeg_bytes(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    _photo(width, height).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def png_bytes(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    _photo(width, height).save(buffer, "PNG")
    return buffer.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(width: int = 20_000, height: int = 20_000) -> bytes:
    """A valid, highly compressible 1-bit PNG: a few hundred KB that decode to width × height pixels."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def png_header_claiming(width: int, height: int) -> bytes:
    """Only a PNG header that claims a huge size, with a token of pixel data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + _chunk(b"IEND", b""))


# -- a fake hosted model API -----------------------------------------------------------------

class FakeModelApi:
    """The hosted model API the `http` backend calls; records calls, can be told to fail."""

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.calls: list[dict[str, Any]] = []
        # A test may hold the model busy: `entered` is set when a request arrives, which then
        # waits until `gate` is set.
        self.entered, self.gate = asyncio.Event(), asyncio.Event()
        self.gate.set()
        self.app = FastAPI()

        @self.app.post("/v1/images")
        async def images(body: dict[str, Any], authorization: str | None = Header(None)) -> Any:
            self.calls.append({"path": "/v1/images", "body": body, "authorization": authorization})
            self.entered.set()
            await self.gate.wait()
            if self.fail:
                return JSONResponse({"error": "model overloaded"}, status_code=503)
            request = ImageRequest(model=body["model"], prompt="remote:" + body["prompt"], filters=body["filters"],
                                   seed=body["seed"], batch_size=body["batch_size"], size=body["width"])
            return {"images": [{"b64": base64.b64encode(render_image(request, i)).decode()}
                               for i in range(body["batch_size"])]}

        @self.app.post("/v1/restorations")
        async def restorations(body: dict[str, Any], authorization: str | None = Header(None)) -> Any:
            self.calls.append({"path": "/v1/restorations", "authorization": authorization})
            if self.fail:
                return JSONResponse({"error": "model overloaded"}, status_code=503)
            return {"image": {"b64": body["image_b64"]}}


@pytest.fixture
def silent_server() -> Callable[[], AbstractAsyncContextManager[str]]:
    """A real local TCP server that accepts requests and never answers (timeouts)."""

    @asynccontextmanager
    async def serve() -> AsyncIterator[str]:
        done = asyncio.Event()

        async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(65536)
            await done.wait()
            writer.close()

        server = await asyncio.start_server(hold, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            done.set()
            server.close()
            await server.wait_closed()

    return serve
