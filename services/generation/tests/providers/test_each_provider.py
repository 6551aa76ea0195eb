"""Every hosted provider against its fake (in-process): the same money rules for each."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from atelier_common.contracts.generation import JobRequested
from atelier_generation.repository import JobRepository
from atelier_generation.service._shared import utcnow
from atelier_testing.fakes.providers import GARBAGE_WORD, NOT_AN_IMAGE_WORD, SAFETY_WORD, FakeProvider

from ._cases import CASES, QUEUED, Case


@pytest.fixture
def fake(case: Case) -> FakeProvider:
    return case.fake()


@pytest.fixture
def start(start_generation, case: Case, fake: FakeProvider):
    def start(**overrides: Any):
        return start_generation(mounts={case.base_url: fake.app}, **case.settings(**overrides))
    return start


async def transactions(api, user) -> list[str]:
    return [t["transaction_type"] for t in await api.transactions(user)]


async def queued_job(start, **overrides: Any) -> tuple[Any, str, Any]:
    """A job charged and announced by an API whose worker is not running."""
    async with start(roles={"api", "relay", "consumer"}, **overrides) as api:
        user = await api.user_with_credits(2)
        job_id = (await api.generate(user)).json()["job_id"]
        await api.h.drain()
        [message] = api.h.published(JobRequested.type)
    return user, job_id, message


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
class TestEachProvider:
    async def test_the_provider_makes_the_image(self, case: Case, start, fake: FakeProvider) -> None:
        async with start() as api:
            user = await api.user_with_credits(2)
            job = await api.generated(user, seed=11)
            assert job["status"] == "completed" and len(job["images"]) == 1, job
            assert fake.submit_count(case.provider_model) == 1
            stored = await api.fetch(job["images"][0]["url"])
            assert stored.status_code == 200 and stored.content.startswith(b"\x89PNG")
            async with api.runtime.db.read_only() as session:
                row = await JobRepository(session).get(uuid.UUID(job["job_id"]))
            assert row is not None and row.provider == case.name and row.provider_latency_ms is not None
            assert (row.provider_request_id is None) == case.synchronous
            assert await transactions(api, user) == ["consume", "purchase"]

    async def test_a_safety_refusal_blocks_and_refunds_once(self, case: Case, start, fake: FakeProvider) -> None:
        async with start() as api:
            user = await api.user_with_credits(2)
            job = await api.generated(user, prompt=f"a {SAFETY_WORD} picture")
            assert job["status"] == "blocked" and "safety" in job["error"].lower(), job
            await api.h.deliver(JobRequested(job_id=uuid.UUID(job["job_id"]), kind="image"), producer="generation")
            assert await transactions(api, user) == ["refund", "consume", "purchase"]
            assert await api.balance(user) == 2

    async def test_a_429_is_sent_again_after_retry_after(self, case: Case, start, fake: FakeProvider) -> None:
        fake.refuse_next(429, retry_after=0.3)
        async with start() as api:
            user = await api.user_with_credits(2)
            before = time.monotonic()
            job = await api.generated(user)
            assert job["status"] == "completed", job
            assert len(fake.refused) == 1 and fake.submit_count() == 1
            assert fake.submits[0].created - before >= 0.3

    async def test_a_5xx_falls_back_to_the_cheaper_model(self, case: Case, start, fake: FakeProvider) -> None:
        fake.refuse_next(503, times=2)
        cheap = {"id": "flux-schnell", "name": "FLUX Schnell", "credits": 1, "kind": "image", "provider": case.name,
                 "provider_model": f"{case.provider_model}-cheap"}
        primary = case.settings(model={"fallback": "flux-schnell"})["models"][0]
        async with start(models=[primary, cheap], provider_submit_retries=1) as api:
            user = await api.user_with_credits(2)
            job = await api.generated(user)
            assert job["status"] == "completed", job
            assert [j.model for j in fake.submits] == [f"{case.provider_model}-cheap"]
            assert await api.balance(user) == 0

    @pytest.mark.parametrize("word", [GARBAGE_WORD, NOT_AN_IMAGE_WORD])
    async def test_a_broken_answer_fails_and_refunds_once(self, case: Case, start, fake: FakeProvider,
                                                          word: str) -> None:
        async with start() as api:
            user = await api.user_with_credits(2)
            job = await api.generated(user, prompt=f"a cat {word}")
            assert job["status"] == "failed" and job["images"] == [], job
            assert await transactions(api, user) == ["refund", "consume", "purchase"]

    async def test_a_lost_submit_answer_is_never_sent_again(self, case: Case, start, fake: FakeProvider) -> None:
        user, job_id, message = await queued_job(start)
        async with start() as api:
            await api.set_job(job_id, status="running", attempts=1, provider=case.name, provider_submitted_at=utcnow())
            await api.h.bus.publish([message])
            await api.h.drain()
            job = await api.job(user, job_id)
            assert job["status"] == "failed" and fake.submit_count() == 0
            assert await api.balance(user) == 2


@pytest.mark.parametrize("case", QUEUED, ids=[case.name for case in QUEUED])
class TestQueuedProviders:
    async def test_a_crashed_run_resumes_by_polling(self, case: Case, start, fake: FakeProvider) -> None:
        user, job_id, message = await queued_job(start)
        accepted = fake.new_job(case.provider_model, {"input": {"prompt": "x"}, "prompt": "x"}, "a dancer")
        async with start() as api:
            await api.set_job(job_id, status="running", attempts=1, provider=case.name, served_model="flux-pro",
                              provider_model=case.provider_model, provider_submitted_at=utcnow(),
                              provider_request_id=accepted.id)
            await api.h.bus.publish([message])
            await api.h.drain()
            job = await api.job(user, job_id)
            assert job["status"] == "completed" and len(job["images"]) == 1, job
            assert fake.submit_count() == 1 and fake.polls >= 1
