"""Fixtures of identity's service tests: the app on a migrated database and an in-memory bus, and
fake payments and orders internal APIs (mounted as http://payments.internal, http://orders.internal)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

import atelier_identity
from atelier_common.settings import DEV_SECRET
from atelier_identity.app import create_app
from atelier_identity.settings import IdentitySettings
from atelier_testing import RecordingBus, ServiceHarness, TestKeys, poll_until
from atelier_testing.fakes import authenticator as fake_authenticator
from atelier_testing.fakes import oidc_provider

MIGRATIONS = Path(atelier_identity.__file__).parent / "migrations"
PASSWORD = "correct horse battery"
TOKEN_IN_LINK = re.compile(r"token=([A-Za-z0-9_\-]+)")
CODE_IN_MAIL = re.compile(r"enter this code: (\d{6})")

# Cheap Argon2 (the real cost is tens of milliseconds per hash) and a fast mail sweep.
TEST_SETTINGS: dict[str, Any] = {
    "password_hash_time_cost": 1, "password_hash_memory_cost_kib": 8, "password_hash_parallelism": 1,
    "dev_endpoints": True, "mail_poll_seconds": 0.2,
}

StartIdentity = Callable[..., AbstractAsyncContextManager["IdentityApi"]]
FREE_MONTHLY_QUOTA = 10


class FakePayments:
    """Payments' `GET /internal/subscriptions/{user_id}` as identity calls it (service credential
    required); `status` makes it answer 5xx, `unreachable` refuses the connection."""

    def __init__(self) -> None:
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []
        self.status = 200
        self.unreachable = False
        self.app = self._build()
        self.transport = _Switchable(self)

    def subscribe(self, user_id: str, **fields: Any) -> dict[str, Any]:
        body = {"plan_id": "plan-pro-monthly", "tier": "pro", "status": "active",
                "current_period_start": "2026-11-01T00:00:00Z", "current_period_end": "2026-12-01T00:00:00Z",
                "cancel_at_period_end": False, "quota": {"monthly": 200, "used": 12, "remaining": 188}, **fields}
        self.subscriptions[user_id] = body
        return body

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.get("/internal/subscriptions/{user_id}")
        async def current(user_id: str, request: Request) -> JSONResponse:
            if request.headers.get("x-service-token") != DEV_SECRET:
                return JSONResponse({"error": {"code": "AUTHENTICATION_REQUIRED"}}, status_code=401)
            self.calls.append(user_id)
            if self.status != 200:
                return JSONResponse({"error": {"code": "SERVICE_UNAVAILABLE"}}, status_code=self.status)
            return JSONResponse(self.subscriptions.get(user_id) or {
                "plan_id": None, "tier": "free", "status": None, "current_period_start": None,
                "current_period_end": None, "cancel_at_period_end": False,
                "quota": {"monthly": FREE_MONTHLY_QUOTA, "used": 0, "remaining": FREE_MONTHLY_QUOTA}})

        return app


class _Switchable(httpx.AsyncBaseTransport):
    def __init__(self, fake: FakePayments) -> None:
        self.fake = fake
        self.asgi = httpx.ASGITransport(app=fake.app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.fake.unreachable:
            raise httpx.ConnectError("connection refused", request=request)
        return await self.asgi.handle_async_request(request)


@pytest.fixture
def fake_payments() -> FakePayments:
    return FakePayments()


class FakeOrders:
    """Orders' `GET /internal/storefronts/{slug}/orders` (how many orders a storefront has, how many
    unpaid); `unreachable` refuses the connection, `status` answers that status instead."""

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, int]] = {}
        self.calls: list[str] = []
        self.status = 200
        self.unreachable = False

    def has(self, slug: str, *, orders: int, unpaid: int = 0) -> None:
        self.counts[slug] = {"orders": orders, "unpaid": unpaid}

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        if self.unreachable:
            raise httpx.ConnectError("connection refused", request=request)
        match = re.fullmatch(r"/internal/storefronts/([^/]+)/orders", request.url.path)
        if match is None or request.method != "GET":
            return httpx.Response(404, json={"error": {"code": "NOT_FOUND"}})
        if request.headers.get("x-service-token") != DEV_SECRET:
            return httpx.Response(401, json={"error": {"code": "AUTHENTICATION_REQUIRED"}})
        self.calls.append(match.group(1))
        if self.status != 200:
            return httpx.Response(self.status, json={"error": {"code": "SERVICE_UNAVAILABLE"}})
        return httpx.Response(200, json=self.counts.get(match.group(1), {"orders": 0, "unpaid": 0}))


@pytest.fixture
def fake_orders() -> FakeOrders:
    return FakeOrders()


@pytest.fixture
def start_identity(service_database, test_settings_overrides, fake_payments: FakePayments,
                   fake_orders: FakeOrders) -> StartIdentity:
    """`async with start_identity(**settings) as api:` — the app on this test's database.

    May be entered more than once in a test (a restart keeps the database).
    """
    url = service_database("identity", MIGRATIONS)

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[IdentityApi]:
        settings = IdentitySettings(database_url=url, **{**test_settings_overrides, **TEST_SETTINGS, **overrides})
        bus = RecordingBus()
        mounts: dict[str, httpx.AsyncBaseTransport] = {"http://payments.internal": fake_payments.transport,
                                                       "http://orders.internal": fake_orders.transport}
        async with ServiceHarness(create_app(settings, bus=bus, http_mounts=mounts), bus) as h:
            yield IdentityApi(h, fake_payments)

    return start


@pytest.fixture
async def api(start_identity: StartIdentity) -> AsyncIterator[IdentityApi]:
    async with start_identity() as identity:
        yield identity


@pytest.fixture
def harness(api: IdentityApi) -> ServiceHarness:
    return api.h


@pytest.fixture
def staff(test_keys: TestKeys) -> dict[str, str]:
    """An admin's headers (a test that needs a narrower role defines its own `staff`)."""
    return test_keys.staff_headers()


class IdentityApi:
    """The calls most tests start from, through the public routes only."""

    password = PASSWORD

    def __init__(self, harness: ServiceHarness, payments: FakePayments) -> None:
        self.h = harness
        self.client = harness.client
        self.payments = payments

    async def register(self, email: str = "ada@example.com", password: str = PASSWORD, *,
                       headers: dict[str, str] | None = None, **fields: Any) -> httpx.Response:
        body = {"email": email, "password": password, "password_confirm": password, "first_name": "Ada",
                "last_name": "Lovelace", **fields}
        return await self.client.post("/api/v1/auth/register", json=body, headers=headers)

    async def passkey_login_begin(self, email: str | None = None,
                                  headers: dict[str, str] | None = None) -> dict[str, Any]:
        """The options of a passkey sign-in (discoverable when no `email` is named)."""
        response = await self.client.post("/api/v1/auth/passkeys/login/begin", json={"email": email} if email else None,
                                          headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def passkey_login_complete(self, options: dict[str, Any], credential: dict[str, Any],
                                     headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.post("/api/v1/auth/passkeys/login/complete", headers=headers, json={
            "authentication_id": options["authentication_id"], "credential": credential})

    def spy_password_checks(self, monkeypatch: pytest.MonkeyPatch) -> list[str]:
        """The hashes every password verification from now on checks against, in order."""
        hasher = self.h.runtime.context.passwords._hash
        calls: list[str] = []
        original = hasher.verify_and_update

        def spy(password: str, hashed: str) -> Any:
            calls.append(hashed)
            return original(password, hashed)

        monkeypatch.setattr(hasher, "verify_and_update", spy)
        return calls

    def slow_password_checks(self, monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
        """Every password verification from now on first waits `seconds` (Argon2 on a busy CPU)."""
        passwords = self.h.runtime.context.passwords
        verify = passwords.verify

        async def slow(password: str, hashed: str | None) -> tuple[bool, str | None]:
            await asyncio.sleep(seconds)
            return await verify(password, hashed)

        monkeypatch.setattr(passwords, "verify", slow)

    async def mailbox(self, to: str) -> list[dict[str, Any]]:
        response = await self.client.get("/api/dev/mailbox", params={"to": to})
        assert response.status_code == 200, response.text
        return response.json()["results"]

    async def mailbox_after_delivery(self, to: str) -> list[dict[str, Any]]:
        """The mailbox once everything queued so far was delivered (to assert that nothing was sent)."""
        while await self.h.runtime.context.mailer.flush():
            pass
        return await self.mailbox(to)

    async def wait_for_mail(self, to: str, count: int = 1) -> list[dict[str, Any]]:
        """The mailbox of `to` once it holds at least `count` messages (newest first)."""

        async def arrived() -> list[dict[str, Any]] | None:
            mails = await self.mailbox(to)
            return mails if len(mails) >= count else None

        return await poll_until(arrived, timeout=10, message=f"{count} mail(s) to {to}")

    async def mailed_token(self, to: str, count: int = 1) -> str:
        newest = (await self.wait_for_mail(to, count))[0]
        match = TOKEN_IN_LINK.search(newest["text"])
        assert match, newest["text"]
        return match.group(1)

    async def mailed_code(self, to: str, count: int = 1) -> str:
        """The 6-digit code of the newest magic-link mail."""
        newest = (await self.wait_for_mail(to, count))[0]
        match = CODE_IN_MAIL.search(newest["text"])
        assert match, newest["text"]
        return match.group(1)

    async def mail_count(self, to: str) -> int:
        return len(await self.mailbox_after_delivery(to))

    async def verified_user(self, email: str = "ada@example.com", password: str = PASSWORD,
                            **fields: Any) -> dict[str, Any]:
        registered = await self.register(email, password, **fields)
        assert registered.status_code == 201, registered.text
        verified = await self.client.post("/api/v1/auth/verify-email", json={"token": await self.mailed_token(email)})
        assert verified.status_code == 200, verified.text
        return verified.json()["user"]

    async def login(self, email: str = "ada@example.com", password: str = PASSWORD, *,
                    headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.post("/api/v1/auth/login", json={"email": email, "password": password},
                                      headers=headers)

    async def signed_in(self, email: str = "ada@example.com", password: str = PASSWORD) -> dict[str, Any]:
        """A verified user's login response body."""
        await self.verified_user(email, password)
        response = await self.login(email, password)
        assert response.status_code == 200, response.text
        return response.json()


def _expect_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert the one error format and return its details."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]["details"]


@pytest.fixture
def expect_error() -> Callable[[httpx.Response, int, str], dict[str, Any]]:
    return _expect_error


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth_header() -> Callable[[str], dict[str, str]]:
    return bearer


@pytest.fixture(scope="session")
def _oidc_server() -> Iterator[Any]:
    with oidc_provider.ServedProvider() as provider:
        yield provider


@pytest.fixture
def oidc(_oidc_server: Any) -> Any:
    """The fake OpenID provider, emptied for this test."""
    _oidc_server.reset()
    return _oidc_server


@pytest.fixture
def oauth_settings(oidc: Any) -> dict[str, Any]:
    """Settings that make identity offer `google`, served by the fake provider."""
    module = oidc_provider
    return {"oauth_google_client_id": module.CLIENT_ID, "oauth_google_client_secret": module.CLIENT_SECRET,
            "oauth_google_discovery_url": oidc.discovery_url}


@pytest.fixture
def authenticator() -> Any:
    """A software passkey authenticator for the default relying party (localhost, the frontend's origin)."""
    return fake_authenticator.SoftwareAuthenticator()


@pytest.fixture
def new_authenticator() -> Callable[..., Any]:
    return fake_authenticator.SoftwareAuthenticator
