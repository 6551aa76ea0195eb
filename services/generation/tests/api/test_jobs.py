"""Generation jobs end to end inside the service: credits → job → worker → images → status."""

from __future__ import annotations

import asyncio
import io
import logging
import uuid

import pytest
from PIL import Image

from atelier_common.contracts.generation import JobRequested
from atelier_common.events.envelope import Envelope
from atelier_testing import poll_until

from ..conftest import MODEL_API, FakeModelApi, assert_error


class TestBuyAndGenerate:
    async def test_a_bought_pack_pays_for_two_flux_pro_images(self, api) -> None:
        user = api.user()
        paid = await api.buy_credits(user, 10)
        assert await api.balance(user) == 10
        # The same event redelivered, and another event for the same order line: granted once.
        await api.h.deliver(paid, producer="payments")
        await api.buy_credits(user, 10, order_id=paid.order_id, product_id=paid.lines[0].product_id)
        assert await api.balance(user) == 10

        job = await api.generated(user, "a dancer mid-leap", model="flux-pro", batch_size=2, seed=7)

        assert job["status"] == "completed" and job["progress"] == 100
        assert job["credits_charged"] == 4 and job["attempts"] == 1
        assert len(job["images"]) == 2
        pictures = [(await api.fetch(image["url"])) for image in job["images"]]
        assert all(p.status_code == 200 and p.headers["content-type"] == "image/png" for p in pictures)
        assert pictures[0].content != pictures[1].content
        for picture in pictures:
            assert Image.open(io.BytesIO(picture.content)).format == "PNG"
        thumbnail = await api.fetch(job["images"][0]["thumbnail_url"])
        assert max(Image.open(io.BytesIO(thumbnail.content)).size) == 32

        assert await api.balance(user) == 6
        history = await api.transactions(user)
        assert [(t["transaction_type"], t["amount"], t["balance_after"]) for t in history] == [
            ("consume", -4, 6), ("purchase", 10, 10)]
        consumed = api.h.published("credit.consumed")
        assert [(e.data["credits"], e.data["balance_after"], e.data["reason"]) for e in consumed] == [
            (4, 6, "generation")]
        completed = api.h.published("job.completed")
        assert len(completed) == 1 and len(completed[0].data["asset_ids"]) == 2

    async def test_different_prompts_make_different_images(self, api) -> None:
        user = await api.user_with_credits(10)
        first = await api.generated(user, "a dancer mid-leap", seed=1)
        second = await api.generated(user, "an old fisherman", seed=1)
        again = await api.generated(user, "a dancer mid-leap", seed=1)
        a, b, c = [(await api.fetch(job["images"][0]["url"])).content for job in (first, second, again)]
        assert a != b
        assert a == c  # deterministic from prompt, filters and seed

    async def test_the_filters_become_tags(self, api) -> None:
        user = await api.user_with_credits(2)
        job = await api.generated(user, filters={"pose": "Standing", "lighting": "dramatic", "body_type": "athletic"})
        image = (await api.client.get(f"/api/v1/images/{job['images'][0]['id']}", headers=user.headers)).json()
        assert image["tags"] == ["body_type:athletic", "lighting:dramatic", "pose:standing"]


class TestSubmit:
    async def test_without_enough_credits_is_refused(self, api) -> None:
        user = await api.user_with_credits(3)
        details = assert_error(await api.generate(user, model="flux-pro", batch_size=2), 403, "INSUFFICIENT_CREDITS")["details"]
        assert details == {"required": 4, "balance": 3}
        assert await api.balance(user) == 3
        assert api.h.published("credit.consumed") == []

    async def test_a_user_without_a_wallet_has_nothing(self, api) -> None:
        assert_error(await api.generate(api.user()), 403, "INSUFFICIENT_CREDITS")

    async def test_the_request_is_validated(self, api) -> None:
        user = await api.user_with_credits(100)
        assert_error(await api.generate(user, model="dall-e"), 400, "VALIDATION_ERROR")
        assert_error(await api.generate(user, model="restore-v1"), 400, "VALIDATION_ERROR")
        for batch in (0, 5, "2"):
            assert_error(await api.generate(user, batch_size=batch), 400, "VALIDATION_ERROR")
        assert_error(await api.generate(user, prompt="   "), 400, "VALIDATION_ERROR")
        assert_error(await api.generate(user, filters={"pose": 3}), 400, "VALIDATION_ERROR")
        assert await api.balance(user) == 100

    async def test_anonymous_callers_cannot_generate(self, api) -> None:
        response = await api.client.post("/api/v1/generation/jobs", json={"prompt": "x"},
                                         headers=api.keys.anon_headers())
        assert_error(response, 401, "AUTHENTICATION_REQUIRED")

    async def test_another_users_job_is_not_found(self, api) -> None:
        owner, other = api.user(), api.user()
        await api.buy_credits(owner, 2)
        job = await api.generated(owner)
        response = await api.client.get(f"/api/v1/generation/jobs/{job['job_id']}", headers=other.headers)
        assert_error(response, 404, "NOT_FOUND")
        response = await api.client.get(f"/api/v1/generation/jobs/{job['job_id']}/events", headers=other.headers)
        assert_error(response, 404, "NOT_FOUND")

    async def test_the_rate_limit_follows_the_tier(self, start_generation) -> None:
        async with start_generation(generation_rate_limits={"free": "2/minute", "pro": "5/minute"}) as api:
            user = await api.user_with_credits(100)
            assert [(await api.generate(user)).status_code for _ in range(3)] == [202, 202, 429]
            response = await api.generate(user)
            assert_error(response, 429, "RATE_LIMITED")
            assert int(response.headers["Retry-After"]) >= 1


class TestProgressEvents:
    async def test_the_stream_ends_when_the_job_completes(self, api) -> None:
        user = await api.user_with_credits(2)
        job_id = (await api.generate(user)).json()["job_id"]
        response = await api.client.get(f"/api/v1/generation/jobs/{job_id}/events", headers=user.headers)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [block for block in response.text.split("\n\n") if block.startswith("event:")]
        assert events[-1].startswith("event: completed\n")
        assert '"progress":100' in events[-1]
        assert all(e.split("\n")[0] in {"event: queued", "event: running", "event: completed"} for e in events)


class TestFailures:
    async def test_a_failed_job_gives_the_credits_back(self, start_generation) -> None:
        model_api = FakeModelApi(fail=True)
        async with start_generation(model_backends={"flux-pro": "http"}, mounts={MODEL_API: model_api.app}) as api:
            user = await api.user_with_credits(5)
            job = await api.generated(user, batch_size=2)
            assert job["status"] == "failed" and job["images"] == []
            assert "503" in job["error"]
            assert await api.balance(user) == 5
            assert [(t["transaction_type"], t["amount"]) for t in await api.transactions(user)] == [
                ("refund", 4), ("consume", -4), ("purchase", 5)]
            failed = api.h.published("job.failed")
            assert len(failed) == 1 and failed[0].data["refunded_credits"] == 4

    async def test_a_model_api_that_never_answers_times_out(self, start_generation, silent_server) -> None:
        async with silent_server() as url, start_generation(
                generator_backend="http", http_generator_base_url=url, http_generator_timeout_seconds=0.3) as api:
            user = await api.user_with_credits(2)
            job = await api.generated(user)
            assert job["status"] == "failed" and "ReadTimeout" in job["error"]
            assert await api.balance(user) == 2

    async def test_the_hosted_model_api_makes_the_images(self, start_generation) -> None:
        model_api = FakeModelApi()
        async with start_generation(model_backends={"flux-pro": "http"}, mounts={MODEL_API: model_api.app}) as api:
            user = await api.user_with_credits(4)
            job = await api.generated(user, batch_size=2, seed=3)
            assert job["status"] == "completed" and len(job["images"]) == 2
            [call] = model_api.calls
            assert call["authorization"] == "Bearer model-key"
            assert call["body"]["model"] == "flux-pro" and call["body"]["seed"] == 3
            assert call["body"]["batch_size"] == 2 and call["body"]["width"] == 96


class TestCrashedWorker:
    async def _queued_job(self, start_generation, *, credits: int = 10) -> tuple[object, str, Envelope]:
        """A job charged and announced by an API with no worker running (the worker "crashed")."""
        async with start_generation(roles={"api", "relay", "consumer"}) as api:
            user = await api.user_with_credits(credits)
            job_id = (await api.generate(user, batch_size=2)).json()["job_id"]
            await api.h.drain()
            [message] = api.h.published(JobRequested.type)
        return user, job_id, message

    async def test_a_claimed_job_redelivered_completes_once_and_is_charged_once(self, start_generation) -> None:
        user, job_id, message = await self._queued_job(start_generation)
        async with start_generation() as api:
            # The crashed worker had claimed it: running, one attempt used.
            await api.set_job(job_id, status="running", attempts=1, progress=5)
            await api.h.bus.publish([message])  # the broker redelivers the unacknowledged message
            await api.h.drain()
            job = await api.job(user, job_id)
            assert job["status"] == "completed" and job["attempts"] == 2 and len(job["images"]) == 2
            # The same message again, and a fresh one for the finished job: nothing more happens.
            await api.h.bus.publish([message])
            await api.h.deliver(JobRequested(job_id=uuid.UUID(job_id), kind="image"), producer="generation")
            assert (await api.job(user, job_id))["attempts"] == 2
            assert await api.balance(user) == 6
            kinds = [t["transaction_type"] for t in await api.transactions(user)]
            assert kinds == ["consume", "purchase"]
            assert len(api.h.published("job.completed")) == 1
            images = (await api.client.get("/api/v1/images", headers=user.headers)).json()
            assert images["count"] == 2

    async def test_a_job_that_used_every_attempt_fails_and_is_refunded(self, start_generation) -> None:
        user, job_id, message = await self._queued_job(start_generation)
        async with start_generation(job_max_attempts=3) as api:
            await api.set_job(job_id, status="running", attempts=3)
            await api.h.bus.publish([message])
            await api.h.drain()
            job = await api.job(user, job_id)
            assert job["status"] == "failed" and job["attempts"] == 3
            assert await api.balance(user) == 10
            assert api.h.published("job.failed")[0].data["refunded_credits"] == 4

    async def test_a_stale_job_is_announced_again_and_runs(self, start_generation) -> None:
        user, job_id, _ = await self._queued_job(start_generation)
        # The message was lost with the process: the sweep at the next start finds the job.
        async with start_generation(job_stale_seconds=0) as api:
            job = await api.wait_for_status(user, job_id, "completed")
            assert job["attempts"] == 1 and len(job["images"]) == 2
            assert await api.balance(user) == 6


class TestTransientFailures:
    async def test_a_dropped_connection_while_storing_does_not_fail_the_job(self, start_generation) -> None:
        async with start_generation() as api:
            storage = api.runtime.context.storage
            real_put, failures = storage.put, []

            async def put_once_failing(key: str, data: bytes, content_type: str | None = None) -> None:
                if not failures:
                    failures.append(key)
                    raise ConnectionResetError("storage connection dropped")
                await real_put(key, data, content_type)

            storage.put = put_once_failing
            user = await api.user_with_credits(2)
            job = await api.generated(user)
            # The message came back and the second attempt made the image; nothing was refunded.
            assert failures and job["status"] == "completed" and job["attempts"] == 2
            assert [t["transaction_type"] for t in await api.transactions(user)] == ["consume", "purchase"]

    @pytest.mark.databases("postgres", why="the connection pool is PostgreSQL's")
    async def test_no_connection_is_held_while_the_picture_is_made(self, start_generation, db_backend) -> None:
        model_api = FakeModelApi()
        model_api.gate.clear()
        async with start_generation(model_backends={"flux-pro": "http"}, mounts={MODEL_API: model_api.app}) as api:
            user = await api.user_with_credits(2)
            job_id = (await api.generate(user)).json()["job_id"]
            await asyncio.wait_for(model_api.entered.wait(), timeout=30)
            # The job is running and its generator is busy (until the gate opens): the worker holds no
            # database connection. Polled: the status read's own connection goes back a moment after
            # its answer, and on a busy machine that moment is seen.
            assert (await api.job(user, job_id))["status"] == "running"
            pool = api.runtime.db.engine.pool

            async def none_held() -> bool:
                return pool.checkedout() == 0

            await poll_until(none_held, timeout=30, message="no connection checked out while the model works")
            model_api.gate.set()
            await api.h.drain()
            assert (await api.job(user, job_id))["status"] == "completed"


class TestBusinessLog:
    """One INFO line per job finished, with its id, kind and storefront."""

    @staticmethod
    def _lines(caplog: pytest.LogCaptureFixture, job_id: str) -> list[logging.LogRecord]:
        return [r for r in caplog.records
                if r.name == "atelier.generation.worker" and getattr(r, "fields", {}).get("job_id") == job_id]

    async def test_a_completed_job_is_one_line(self, api, caplog: pytest.LogCaptureFixture) -> None:
        user = await api.user_with_credits(2)
        with caplog.at_level(logging.INFO, logger="atelier.generation.worker"):
            job = await api.generated(user, "a lighthouse at dawn")
        (line,) = self._lines(caplog, job["job_id"])
        assert line.levelname == "INFO"
        assert line.getMessage() == f"job {job['job_id']} completed: image on storefront default"
        assert line.fields == {"job_id": job["job_id"], "job_kind": "image", "job_status": "completed",  # type: ignore[attr-defined]  # the line's structured fields, an extra on the record
                               "storefront": "default", "model": job["model"]}

    async def test_a_failed_job_is_one_line_with_the_reason(self, start_generation,
                                                            caplog: pytest.LogCaptureFixture) -> None:
        async with start_generation(model_backends={"flux-pro": "http"},
                                    mounts={MODEL_API: FakeModelApi(fail=True).app}) as api:
            user = await api.user_with_credits(5)
            with caplog.at_level(logging.INFO, logger="atelier.generation.worker"):
                job = await api.generated(user)
        (line,) = self._lines(caplog, job["job_id"])
        assert line.getMessage().startswith(f"job {job['job_id']} failed: image on storefront default (")
        assert "503" in line.getMessage()
