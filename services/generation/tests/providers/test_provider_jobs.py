"""Paid jobs on a hosted provider (fal.ai's fake, in-process): the money rules of docs/providers.md."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from atelier_common.contracts.generation import JobRequested
from atelier_generation.models import GenerationJob
from atelier_generation.repository import JobRepository
from atelier_generation.service._shared import utcnow
from atelier_testing import poll_until
from atelier_testing.fakes.providers import GARBAGE_WORD, NOT_AN_IMAGE_WORD, SAFETY_WORD
from atelier_testing.fakes.providers.fal import API_KEY, FakeFal

from ..conftest import assert_error

FAL = "http://fal.test"
FLUX_PRO = {"id": "flux-pro", "name": "FLUX Pro", "credits": 2, "kind": "image", "provider": "fal",
            "provider_model": "fal-ai/flux-pro/v1.1"}
SCHNELL = {"id": "flux-schnell", "name": "FLUX Schnell", "credits": 1, "kind": "image", "provider": "fal",
           "provider_model": "fal-ai/flux/schnell"}
ULTRA = {"id": "flux-ultra", "name": "FLUX Ultra", "credits": 4, "kind": "image", "provider": "fal",
         "provider_model": "fal-ai/flux-pro/v1.1-ultra"}


def fal_settings(*models: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {"providers": {"fal": {"api_key": API_KEY, "base_url": FAL, "jwks_url": f"{FAL}/.well-known/jwks.json"}},
            "models": list(models or [FLUX_PRO]), "provider_poll_seconds": 0.01, "provider_poll_max_seconds": 0.05,
            "provider_backoff_seconds": 0.01, **overrides}


@pytest.fixture
def fal() -> FakeFal:
    return FakeFal()


@pytest.fixture
def start_fal(start_generation, fal: FakeFal):
    def start(*models: dict[str, Any], **overrides: Any):
        return start_generation(mounts={FAL: fal.app}, **fal_settings(*models, **overrides))
    return start


async def job_row(api, job_id: str) -> GenerationJob:
    async with api.runtime.db.read_only() as session:
        job = await JobRepository(session).get(uuid.UUID(job_id))
    assert job is not None
    return job


class TestCatalogue:
    async def test_a_model_of_an_unconfigured_provider_is_not_listed(self, start_generation) -> None:
        gemini = {"id": "nano", "name": "Nano", "credits": 1, "provider": "gemini", "provider_model": "gemini-x"}
        async with start_generation(models=[gemini]) as api:
            models = (await api.client.get("/api/v1/generation/models")).json()["models"]
            assert "nano" not in [m["id"] for m in models] and "flux-pro" in [m["id"] for m in models]
            user = await api.user_with_credits(5)
            assert_error(await api.generate(user, model="nano"), 400, "VALIDATION_ERROR")

    async def test_a_configured_model_is_listed_and_replaces_the_built_in(self, start_fal) -> None:
        async with start_fal(FLUX_PRO, {**SCHNELL, "id": "fal-schnell", "storefronts": ["elsewhere"]}) as api:
            models = {m["id"]: m for m in (await api.client.get("/api/v1/generation/models")).json()["models"]}
            assert models["flux-pro"] == {"id": "flux-pro", "name": "FLUX Pro", "credits": 2, "kind": "image"}
            # Sold on another storefront only.
            assert "fal-schnell" not in models


class TestSubmitAndFollow:
    async def test_a_finished_job_is_timed_per_provider(self, start_fal) -> None:
        """The dashboards' job time per provider (deploy/helm/atelier): `atelier_generation_job_seconds`."""
        def timed(provider: str) -> float:
            return REGISTRY.get_sample_value("atelier_generation_job_seconds_count",
                                             {"provider": provider, "status": "completed"}) or 0.0

        async with start_fal(FLUX_PRO, SCHNELL) as api:
            before = timed("fal")
            user = await api.user_with_credits(4)
            job = await api.generated(user, model="flux-schnell")
            assert job["status"] == "completed", job
            assert timed("fal") == before + 1

    async def test_a_free_model_needs_no_wallet_and_charges_nothing(self, start_fal, fal: FakeFal) -> None:
        async with start_fal({**SCHNELL, "id": "free-sketch", "credits": 0}) as api:
            user = api.user()  # never bought credits: no wallet at all
            job = await api.generated(user, model="free-sketch")
            assert job["status"] == "completed" and job["credits_charged"] == 0, job
            assert api.h.published("credit.consumed") == []
            assert await api.balance(user) == 0

    async def test_the_provider_makes_the_images_and_they_are_stored(self, start_fal, fal: FakeFal) -> None:
        fal.delay = 0.05
        async with start_fal() as api:
            user = await api.user_with_credits(4)
            job = await api.generated(user, batch_size=2, seed=7)
            assert job["status"] == "completed" and len(job["images"]) == 2, job
            [submit] = fal.submits
            assert submit.model == "fal-ai/flux-pro/v1.1" and submit.body["num_images"] == 2
            assert submit.body["seed"] == 7 and "pose: standing" in submit.prompt
            for ref in job["images"]:
                stored = await api.fetch(ref["url"])
                assert stored.status_code == 200 and stored.content.startswith(b"\x89PNG")
            row = await job_row(api, job["job_id"])
            assert (row.provider, row.provider_model, row.provider_request_id) == (
                "fal", "fal-ai/flux-pro/v1.1", submit.id)
            assert row.provider_latency_ms is not None and row.provider_cost is None  # fal reports no price
            assert await api.balance(user) == 0

    async def test_a_crashed_run_resumes_by_polling_and_never_submits_again(self, start_generation, start_fal,
                                                                           fal: FakeFal) -> None:
        async with start_fal(roles={"api", "relay", "consumer"}) as api:
            user = await api.user_with_credits(2)
            job_id = (await api.generate(user)).json()["job_id"]
            await api.h.drain()
            [message] = api.h.published(JobRequested.type)
        # The crashed run had marked, submitted and stored the request id: the provider has the job.
        accepted = fal.new_job("fal-ai/flux-pro/v1.1", {"num_images": 1}, "a dancer mid-leap")
        async with start_fal() as api:
            await api.set_job(job_id, status="running", attempts=1, provider="fal", served_model="flux-pro",
                              provider_model="fal-ai/flux-pro/v1.1", provider_submitted_at=utcnow(),
                              provider_request_id=accepted.id)
            await api.h.bus.publish([message])  # the broker redelivers
            await api.h.drain()
            job = await api.job(user, job_id)
            assert job["status"] == "completed" and len(job["images"]) == 1
            assert fal.submit_count() == 1 and fal.polls >= 1
            assert await api.balance(user) == 0

    async def test_a_submit_whose_answer_was_lost_fails_and_refunds_without_asking_again(
            self, start_fal, fal: FakeFal) -> None:
        async with start_fal(roles={"api", "relay", "consumer"}) as api:
            user = await api.user_with_credits(2)
            job_id = (await api.generate(user)).json()["job_id"]
            await api.h.drain()
            [message] = api.h.published(JobRequested.type)
        async with start_fal() as api:
            await api.set_job(job_id, status="running", attempts=1, provider="fal", provider_submitted_at=utcnow())
            await api.h.bus.publish([message])
            await api.h.drain()
            job = await api.job(user, job_id)
            assert job["status"] == "failed" and "not sent again" in job["error"]
            assert fal.submit_count() == 0
            assert await api.balance(user) == 2
            assert [t["transaction_type"] for t in await api.transactions(user)] == ["refund", "consume", "purchase"]


class TestRefusals:
    async def test_a_safety_refusal_blocks_the_job_and_refunds_once(self, start_fal, fal: FakeFal) -> None:
        async with start_fal() as api:
            user = await api.user_with_credits(2)
            job = await api.generated(user, prompt=f"something {SAFETY_WORD}")
            assert job["status"] == "blocked" and job["images"] == []
            assert "safety" in job["error"]
            assert await api.balance(user) == 0 + 2
            [failed] = api.h.published("job.failed")
            assert failed.data["refunded_credits"] == 2
            # The same message again: nothing more.
            await api.h.deliver(JobRequested(job_id=uuid.UUID(job["job_id"]), kind="image"), producer="generation")
            assert [t["transaction_type"] for t in await api.transactions(user)] == ["refund", "consume", "purchase"]
            events = (await api.client.get(f"/api/v1/generation/jobs/{job['job_id']}/events",
                                           headers=user.headers)).text
            assert "event: blocked" in events

    async def test_a_429_is_submitted_again_after_retry_after(self, start_fal, fal: FakeFal) -> None:
        fal.refuse_next(429, retry_after=0.3)
        async with start_fal() as api:
            user = await api.user_with_credits(2)
            started = time.monotonic()
            job = await api.generated(user)
            assert job["status"] == "completed"
            assert len(fal.refused) == 1 and fal.submit_count() == 1
            assert fal.submits[0].created - started >= 0.3

    async def test_refusals_past_the_budget_fail_and_refund(self, start_fal, fal: FakeFal) -> None:
        fal.refuse_next(503, times=10)
        async with start_fal(provider_submit_retries=2) as api:
            user = await api.user_with_credits(2)
            job = await api.generated(user)
            assert job["status"] == "failed" and "503" in job["error"]
            assert len(fal.refused) == 3 and fal.submit_count() == 0
            assert await api.balance(user) == 2

    async def test_a_5xx_falls_back_to_a_cheaper_model(self, start_fal, fal: FakeFal) -> None:
        fal.refuse_next(503, times=2)
        async with start_fal({**FLUX_PRO, "fallback": "flux-schnell"}, SCHNELL, provider_submit_retries=1) as api:
            user = await api.user_with_credits(2)
            job = await api.generated(user)
            assert job["status"] == "completed"
            assert [j.model for j in fal.submits] == ["fal-ai/flux/schnell"]
            row = await job_row(api, job["job_id"])
            assert row.served_model == "flux-schnell" and row.model == "flux-pro"
            # The customer paid for the model asked for; the fallback costs no more.
            assert await api.balance(user) == 0

    async def test_a_dearer_fallback_is_never_used(self, start_fal, fal: FakeFal) -> None:
        fal.refuse_next(503, times=2)
        async with start_fal({**FLUX_PRO, "fallback": "flux-ultra"}, ULTRA, provider_submit_retries=1) as api:
            user = await api.user_with_credits(2)
            job = await api.generated(user)
            assert job["status"] == "failed" and fal.submit_count() == 0
            assert await api.balance(user) == 2

    async def test_a_safety_refusal_is_not_a_reason_to_fall_back(self, start_fal, fal: FakeFal) -> None:
        async with start_fal({**FLUX_PRO, "fallback": "flux-schnell"}, SCHNELL) as api:
            user = await api.user_with_credits(2)
            job = await api.generated(user, prompt=SAFETY_WORD)
            assert job["status"] == "blocked" and fal.submit_count() == 1


class TestBadAnswers:
    @pytest.mark.parametrize("word", [GARBAGE_WORD, NOT_AN_IMAGE_WORD])
    async def test_a_broken_answer_fails_the_job_and_refunds_once(self, start_fal, fal: FakeFal, word: str) -> None:
        async with start_fal() as api:
            user = await api.user_with_credits(2)
            job = await api.generated(user, prompt=f"a cat {word}")
            assert job["status"] == "failed" and job["images"] == []
            assert fal.submit_count() == 1
            assert [t["transaction_type"] for t in await api.transactions(user)] == ["refund", "consume", "purchase"]
            images = api.storage_dir / "images"
            assert not images.exists() or list(images.glob("*")) == []

    async def test_a_request_the_provider_does_not_know_fails_the_job(self, start_fal, fal: FakeFal) -> None:
        async with start_fal(roles={"api", "relay", "consumer"}) as api:
            user = await api.user_with_credits(2)
            job_id = (await api.generate(user)).json()["job_id"]
            await api.h.drain()
            [message] = api.h.published(JobRequested.type)
        async with start_fal() as api:
            await api.set_job(job_id, status="running", attempts=1, provider="fal", served_model="flux-pro",
                              provider_model="fal-ai/flux-pro/v1.1", provider_submitted_at=utcnow(),
                              provider_request_id="no-such-request")
            await api.h.bus.publish([message])
            await api.h.drain()
            assert (await api.job(user, job_id))["status"] == "failed"
            assert await api.balance(user) == 2

    async def test_a_job_past_its_deadline_is_cancelled_failed_and_refunded(self, start_fal, fal: FakeFal) -> None:
        fal.hold = True
        async with start_fal(provider_job_timeout_seconds=0.3) as api:
            user = await api.user_with_credits(2)
            job = await api.generated(user)
            assert job["status"] == "failed" and "did not finish" in job["error"]
            assert fal.cancels == [fal.submits[0].id]
            assert await api.balance(user) == 2


class TestWebhooks:
    async def _post(self, api, headers: dict[str, str], body: bytes) -> httpx.Response:
        return await api.client.post("/api/v1/generation/providers/fal/webhook", content=body, headers=headers)

    async def _running_job(self, api, fal: FakeFal) -> tuple[Any, str, str]:
        user = await api.user_with_credits(2)
        job_id = (await api.generate(user)).json()["job_id"]
        request = fal.new_job("fal-ai/flux-pro/v1.1", {"num_images": 1}, "a cat")
        await api.set_job(job_id, status="running", attempts=1, provider="fal", provider_request_id=request.id,
                          provider_submitted_at=utcnow(), heartbeat_at=utcnow())
        return user, job_id, request.id

    async def test_a_signed_webhook_of_a_known_request_is_accepted(self, start_fal, fal: FakeFal) -> None:
        async with start_fal(roles={"api", "relay", "consumer"}) as api:
            _, _, request_id = await self._running_job(api, fal)
            response = await self._post(api, *fal.signed_webhook(request_id))
            assert response.status_code == 200 and response.json() == {"status": "received"}

    async def test_a_webhook_for_a_quiet_job_announces_it_again(self, start_fal, fal: FakeFal) -> None:
        async with start_fal(roles={"api", "relay", "consumer"}) as api:
            _, job_id, request_id = await self._running_job(api, fal)

            async def requested() -> bool:  # the job's own announcement, which the relay publishes on its own time
                return any(e.data["job_id"] == job_id for e in api.h.published(JobRequested.type))

            await poll_until(requested, message="the job's first generation.job_requested")
            await api.set_job(job_id, heartbeat_at=utcnow().replace(year=2020))
            before = len(api.h.published(JobRequested.type))
            response = await self._post(api, *fal.signed_webhook(request_id))
            assert response.json() == {"status": "resumed"}
            await api.h.drain()
            assert len(api.h.published(JobRequested.type)) == before + 1

    async def test_bad_signatures_and_unknown_requests_are_refused(self, start_fal, fal: FakeFal) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        async with start_fal(roles={"api", "relay", "consumer"}) as api:
            user, job_id, request_id = await self._running_job(api, fal)
            headers, body = fal.signed_webhook(request_id)
            assert_error(await self._post(api, headers, body + b" "), 400, "INVALID_SIGNATURE")
            assert_error(await self._post(api, *fal.signed_webhook(request_id, key=Ed25519PrivateKey.generate())),
                         400, "INVALID_SIGNATURE")
            assert_error(await self._post(api, *fal.signed_webhook(request_id, timestamp=int(time.time()) - 3600)),
                         400, "INVALID_SIGNATURE")
            assert_error(await self._post(api, {**headers, "X-Fal-Webhook-Signature": "zz"}, body),
                         400, "INVALID_SIGNATURE")
            assert_error(await self._post(api, *fal.signed_webhook("someone-elses-request")), 404, "NOT_FOUND")
            response = await api.client.post("/api/v1/generation/providers/replicate/webhook", content=b"{}")
            assert_error(response, 404, "NOT_FOUND")
            # Nothing changed: the job still runs, its credits still spent.
            assert (await api.job(user, job_id))["status"] == "running"
            assert await api.balance(user) == 0


class TestStaffRetry:
    async def test_a_retried_job_with_a_stored_request_polls_it_and_never_submits_again(
            self, start_fal, fal: FakeFal) -> None:
        """Support retries a job that failed while following its provider request."""
        async with start_fal(roles={"api", "relay", "consumer"}) as api:
            user = await api.user_with_credits(4)
            job_id = (await api.generate(user)).json()["job_id"]
            await api.h.drain()
        accepted = fal.new_job("fal-ai/flux-pro/v1.1", {"num_images": 1}, "a dancer mid-leap")
        async with start_fal() as api:
            await api.set_job(job_id, status="failed", attempts=1, provider="fal", served_model="flux-pro",
                              provider_model="fal-ai/flux-pro/v1.1", provider_submitted_at=utcnow(),
                              provider_request_id=accepted.id, error="The provider did not answer in time")
            response = await api.client.post(f"/api/v1/staff/jobs/{job_id}/retry",
                                             headers=api.keys.staff_headers("support"))
            assert response.status_code == 200, response.text
            assert response.json()["provider_request_id"] == accepted.id
            await api.h.drain()
            job = await api.job(user, job_id)
            assert job["status"] == "completed" and len(job["images"]) == 1
            assert fal.submit_count() == 1 and fal.polls >= 1
