"""Paid generation on each hosted provider's loopback fake, through the distributed platform:
submit → progress (SSE) → image in storage; a worker killed right after the submit →
the same request polled, never submitted twice; a safety refusal → `blocked` + refund; a 429 →
submitted again after its Retry-After; a 5xx → the cheaper fallback model; a failed job retried by
support completes.

All five providers are configured on one platform (`ATELIER_GENERATION_PROVIDERS`) with two models
each (`<provider>-main`, 2 credits, falling back to `<provider>-cheap`, 1 credit). Distributed mode
only: the crash is a SIGKILL of generation's process, which `atelier up` restarts.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from generation.test_credits_and_generation import pay_locally
from infra.journeys import customer, poll, staff
from infra.oidc import identity_env

from atelier_testing.fakes.providers import (
    GARBAGE_WORD,
    NOT_AN_IMAGE_WORD,
    SAFETY_WORD,
    FakeProvider,
    FakeServer,
    fal,
    gemini,
    kie,
    openai,
    replicate,
)
from atelier_testing.platform import Platform, distributed

pytestmark = pytest.mark.e2e

# name → (fake, API key, the provider's model id, path of its base URL, synchronous)
PROVIDERS: dict[str, tuple[type[FakeProvider], str, str, str, bool]] = {
    "fal": (fal.FakeFal, fal.API_KEY, "fal-ai/flux-pro/v1.1", "", False),
    "openai": (openai.FakeOpenAI, openai.API_KEY, "gpt-image-1", "/v1", True),
    "replicate": (replicate.FakeReplicate, replicate.API_KEY, "black-forest-labs/flux-1.1-pro", "", False),
    "gemini": (gemini.FakeGemini, gemini.API_KEY, "gemini-2.5-flash-image", "", True),
    "kie": (kie.FakeKie, kie.API_KEY, "google/nano-banana", "", False),
}
# Each fake takes this long per job (a synchronous one before it answers), so the progress
# stream has something to show.
JOB_SECONDS = 1.5


@pytest.fixture(scope="module")
def fakes() -> Iterator[dict[str, FakeServer]]:
    servers = {name: FakeServer(spec[0](delay=JOB_SECONDS)).start() for name, spec in PROVIDERS.items()}
    try:
        yield servers
    finally:
        for server in servers.values():
            server.stop()


def provider_env(servers: dict[str, FakeServer]) -> dict[str, str]:
    providers: dict[str, Any] = {name: {"api_key": spec[1], "base_url": servers[name].url + spec[3]}
                                 for name, spec in PROVIDERS.items()}
    providers["fal"]["jwks_url"] = servers["fal"].url + "/.well-known/jwks.json"
    models = []
    for name, spec in PROVIDERS.items():
        models += [{"id": f"{name}-main", "name": f"{name} main", "credits": 2, "kind": "image", "provider": name,
                    "provider_model": spec[2], "fallback": f"{name}-cheap"},
                   {"id": f"{name}-cheap", "name": f"{name} cheap", "credits": 1, "kind": "image", "provider": name,
                    "provider_model": f"{spec[2]}-cheap"}]
    return {"ATELIER_GENERATION_PROVIDERS": json.dumps(providers), "ATELIER_GENERATION_MODELS": json.dumps(models),
            "ATELIER_GENERATION_PROVIDER_POLL_SECONDS": "0.2", "ATELIER_GENERATION_PROVIDER_POLL_MAX_SECONDS": "0.5",
            "ATELIER_GENERATION_PROVIDER_SUBMIT_RETRIES": "1", "ATELIER_GENERATION_PROVIDER_BACKOFF_SECONDS": "0.2"}


@pytest.fixture(scope="module")
def provider_platform(tmp_path_factory: pytest.TempPathFactory, postgres_server_url: str, amqp_url: str,
                      oidc_provider: Any, fakes: dict[str, FakeServer]) -> Iterator[Platform]:
    # One process per service (generation's includes its worker), with small pools beside the session's platform.
    env = {**identity_env(oidc_provider), **provider_env(fakes), "ATELIER_DB_POOL_SIZE": "1",
           "ATELIER_DB_MAX_OVERFLOW": "1"}
    with distributed(tmp_path_factory.mktemp("providers"), postgres_server_url, amqp_url, env,
                     split=False) as platform:
        yield platform


@pytest.fixture
async def api(provider_platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=provider_platform.url, timeout=30) as client:
        yield client


@pytest.fixture(params=list(PROVIDERS))
def provider(request: pytest.FixtureRequest, fakes: dict[str, FakeServer]) -> tuple[str, FakeProvider]:
    fake = fakes[request.param].fake
    fake.hold, fake.refusals[:] = False, []
    return request.param, fake


async def customer_with_credits(api: httpx.AsyncClient) -> dict[str, str]:
    auth = await customer(api)
    r = await api.post("/api/v1/credits/purchase", headers=auth, json={"sku": "PACK_10"})
    assert r.status_code in (200, 201), r.text
    await pay_locally(api, r.json()["checkout_url"])
    await poll(lambda: _balance_is(api, auth, 10), timeout=60, message="10 credits granted")
    return auth


async def _balance_is(api: httpx.AsyncClient, auth: dict[str, str], expected: int) -> bool:
    r = await api.get("/api/v1/credits/balance", headers=auth)
    return r.status_code == 200 and r.json()["balance"] == expected


async def submit(api: httpx.AsyncClient, auth: dict[str, str], model: str, prompt: str = "a fox in a red scarf") -> str:
    r = await api.post("/api/v1/generation/jobs", headers=auth, json={"prompt": prompt, "model": model})
    assert r.status_code == 202, r.text
    return str(r.json()["job_id"])


async def finished(api: httpx.AsyncClient, auth: dict[str, str], job_id: str, timeout: float = 90) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        try:
            r = await api.get(f"/api/v1/generation/jobs/{job_id}", headers=auth)
        except httpx.HTTPError:
            return None  # the service is restarting
        if r.status_code != 200:
            return None
        job = r.json()
        return job if job["status"] in ("completed", "failed", "blocked") else None

    return await poll(done, timeout=timeout, interval=0.25, message=f"job {job_id} finished")


async def test_submit_progress_and_the_image_in_storage(api: httpx.AsyncClient, provider) -> None:
    name, fake = provider
    auth = await customer_with_credits(api)
    submits = fake.submit_count()
    job_id = await submit(api, auth, f"{name}-main")
    async with api.stream("GET", f"/api/v1/generation/jobs/{job_id}/events", headers=auth, timeout=120) as stream:
        assert stream.status_code == 200
        text = (await stream.aread()).decode()
    events = [block.split("\n")[0].removeprefix("event: ") for block in text.split("\n\n")
              if block.startswith("event:")]
    assert events[-1] == "completed" and "running" in events, events
    job = await finished(api, auth, job_id)
    assert job["status"] == "completed" and len(job["images"]) == 1
    image = await api.get(job["images"][0]["url"])
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert fake.submit_count() == submits + 1
    assert await _balance_is(api, auth, 8)


async def test_a_worker_killed_after_the_submit_never_submits_twice(api: httpx.AsyncClient, provider,
                                                                     provider_platform: Platform) -> None:
    name, fake = provider
    synchronous = PROVIDERS[name][4]
    auth = await customer_with_credits(api)
    submits = fake.submit_count()
    if synchronous:
        fake.delay = 60.0  # the answer is still on its way when the worker dies
    else:
        fake.hold = True
    try:
        job_id = await submit(api, auth, f"{name}-main")

        async def submitted() -> bool:
            if fake.submit_count() <= submits:
                return False
            if synchronous:
                return True
            job = (await api.get(f"/api/v1/generation/jobs/{job_id}", headers=auth)).json()
            return bool(job["progress"] >= 10)  # the request id is stored

        await poll(submitted, timeout=60, message="the provider has the job")
        os.kill(provider_platform.children()["generation api"], signal.SIGKILL)
    finally:
        fake.hold = False
        fake.delay = JOB_SECONDS
    job = await finished(api, auth, job_id, timeout=180)
    assert fake.submit_count() == submits + 1  # the one submit: polled after the crash, never sent again
    if synchronous:
        # No request id to come back to: failed and refunded rather than paid twice.
        assert job["status"] == "failed" and "not sent again" in job["error"]
        await poll(lambda: _balance_is(api, auth, 10), timeout=30, message="refunded")
    else:
        assert job["status"] == "completed" and len(job["images"]) == 1
        assert await _balance_is(api, auth, 8)


async def test_a_safety_refusal_blocks_and_refunds(api: httpx.AsyncClient, provider) -> None:
    name, _ = provider
    auth = await customer_with_credits(api)
    job = await finished(api, auth, await submit(api, auth, f"{name}-main", f"something {SAFETY_WORD}"))
    assert job["status"] == "blocked" and "safety" in job["error"].lower() and job["images"] == []
    await poll(lambda: _balance_is(api, auth, 10), timeout=30, message="refunded")
    kinds = [t["transaction_type"] for t in (await api.get("/api/v1/credits/transactions", headers=auth)).json()]
    assert kinds.count("refund") == 1


async def test_a_429_is_submitted_again_after_retry_after(api: httpx.AsyncClient, provider) -> None:
    name, fake = provider
    auth = await customer_with_credits(api)
    refused, submits = len(fake.refused), fake.submit_count()
    fake.refuse_next(429, retry_after=2)
    started = time.monotonic()
    job = await finished(api, auth, await submit(api, auth, f"{name}-main"))
    assert job["status"] == "completed"
    assert len(fake.refused) == refused + 1 and fake.submit_count() == submits + 1
    assert fake.submits[-1].created - started >= 2


async def test_a_5xx_falls_back_to_the_cheaper_model(api: httpx.AsyncClient, provider) -> None:
    name, fake = provider
    auth = await customer_with_credits(api)
    fake.refuse_next(503, times=2)
    job = await finished(api, auth, await submit(api, auth, f"{name}-main"))
    assert job["status"] == "completed"
    assert fake.submits[-1].model == f"{PROVIDERS[name][2]}-cheap"
    assert await _balance_is(api, auth, 8)  # charged for what was asked; the fallback costs no more


@pytest.mark.parametrize("word", [GARBAGE_WORD, NOT_AN_IMAGE_WORD])
async def test_a_broken_answer_fails_and_refunds_once(api: httpx.AsyncClient, provider, word: str) -> None:
    name, _ = provider
    auth = await customer_with_credits(api)
    job = await finished(api, auth, await submit(api, auth, f"{name}-main", f"a cat {word}"))
    assert job["status"] == "failed" and job["images"] == []
    await poll(lambda: _balance_is(api, auth, 10), timeout=30, message="refunded")
    kinds = [t["transaction_type"] for t in (await api.get("/api/v1/credits/transactions", headers=auth)).json()]
    assert kinds.count("refund") == 1


async def test_bad_webhooks_are_refused_through_the_gateway(api: httpx.AsyncClient,
                                                             fakes: dict[str, FakeServer]) -> None:
    fal_fake = fakes["fal"].fake
    assert isinstance(fal_fake, fal.FakeFal)
    job = fal_fake.new_job("fal-ai/flux-pro/v1.1", {}, "x")
    headers, body = fal_fake.signed_webhook(job.id)
    # fal's signature, but no job of this platform has that request: refused, nothing changes.
    r = await api.post("/api/v1/generation/providers/fal/webhook", headers=headers, content=body)
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
    r = await api.post("/api/v1/generation/providers/fal/webhook", headers=headers, content=body + b" ")
    assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_SIGNATURE"
    # Replicate and kie.ai have no webhook secret configured here: nothing they send is trusted.
    replicate_fake = fakes["replicate"].fake
    assert isinstance(replicate_fake, replicate.FakeReplicate)
    r = await api.post("/api/v1/generation/providers/replicate/webhook", content=b'{"id": "x"}',
                       headers=replicate_fake.signed_webhook("x")[0])
    assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_SIGNATURE"
    r = await api.post("/api/v1/generation/providers/nobody/webhook", content=b"{}")
    assert r.status_code == 404


async def test_support_retries_a_failed_job_and_it_completes(api: httpx.AsyncClient,
                                                             fakes: dict[str, FakeServer]) -> None:
    """A job failed on refused submits; support finds it and retries it through the worker."""
    fake = fakes["fal"].fake
    fake.hold, fake.refusals[:] = False, []
    auth = await customer_with_credits(api)
    me = (await api.get("/api/v1/users/me", headers=auth)).json()
    fake.refuse_next(503, times=2)  # the submit and its one retry; the cheap model has no fallback
    job_id = await submit(api, auth, "fal-cheap")
    assert (await finished(api, auth, job_id))["status"] == "failed"
    await poll(lambda: _balance_is(api, auth, 10), timeout=30, message="refunded")

    support = await staff(api)
    failed = await api.get("/api/v1/staff/jobs", headers=support, params={"status": "failed", "customer": me["id"]})
    assert [j["id"] for j in failed.json()["results"]] == [job_id]
    submits = fake.submit_count()
    retried = await api.post(f"/api/v1/staff/jobs/{job_id}/retry", headers=support, json={"reason": "fal was down"})
    assert retried.status_code == 200 and retried.json()["status"] == "queued", retried.text
    job = await finished(api, auth, job_id)
    assert job["status"] == "completed" and len(job["images"]) == 1
    assert fake.submit_count() == submits + 1
    await poll(lambda: _balance_is(api, auth, 9), timeout=30, message="paid again for the retry")
    again = await api.post(f"/api/v1/staff/jobs/{job_id}/retry", headers=support)
    assert again.status_code == 409 and again.json()["error"]["code"] == "JOB_NOT_RETRYABLE"
