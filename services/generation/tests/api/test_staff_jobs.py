"""Support's generation jobs: every customer's jobs by status, a failed one retried through the
worker and paid again; a customer's credits ledger and books for the back office."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

from atelier_generation.models import GenerationJob
from atelier_testing import assert_error

from ..conftest import MODEL_API, FakeModelApi

URL = "/api/v1/staff/jobs"


async def _failed_job(api, model_api: FakeModelApi, user, *, credits: int = 8) -> dict:
    model_api.fail = True
    await api.buy_credits(user, credits)
    job = await api.generated(user, batch_size=2)
    assert job["status"] == "failed"
    return job


class TestRetry:
    async def test_support_finds_a_failed_job_and_its_retry_completes_paid_once_more(self, start_generation) -> None:
        model_api = FakeModelApi()
        async with start_generation(model_backends={"flux-pro": "http"}, mounts={MODEL_API: model_api.app}) as api:
            user, other = api.user(), api.user()
            job = await _failed_job(api, model_api, user)
            support = api.keys.staff_headers("support")
            listed = await api.client.get(URL, params={"status": ["failed", "blocked"], "customer": str(user.id)},
                                          headers=support)
            assert listed.status_code == 200, listed.text
            assert [j["id"] for j in listed.json()["results"]] == [job["job_id"]]
            assert (await api.client.get(URL, params={"customer": str(other.id)}, headers=support)).json()["count"] == 0

            model_api.fail = False
            retried = await api.client.post(f"{URL}/{job['job_id']}/retry", json={"reason": "provider was down"},
                                            headers=support)
            assert retried.status_code == 200, retried.text
            assert (retried.json()["status"], retried.json()["attempts"], retried.json()["error"]) == ("queued", 0, None)
            await api.h.drain()
            done = await api.job(user, job["job_id"])
            assert done["status"] == "completed" and len(done["images"]) == 2
            # Refunded when it failed, paid again for the retry.
            assert [(t["transaction_type"], t["amount"]) for t in await api.transactions(user)] == [
                ("consume", -4), ("refund", 4), ("consume", -4), ("purchase", 8)]
            assert await api.balance(user) == 4
            [row] = [e.data for e in api.h.published("staff.action_recorded")]
            assert (row["action"], row["target_id"], row["reason"]) == ("job.retry", job["job_id"], "provider was down")
            assert row["before"]["status"] == "failed" and row["after"]["credits_charged"] == 4

            # Done now: a second retry is refused.
            again = await api.client.post(f"{URL}/{job['job_id']}/retry", headers=support)
            assert_error(again, 409, "JOB_NOT_RETRYABLE")

    async def test_a_customer_without_the_credits_is_409_and_the_job_stays_failed(self, start_generation) -> None:
        model_api = FakeModelApi()
        async with start_generation(model_backends={"flux-pro": "http"}, mounts={MODEL_API: model_api.app}) as api:
            user = api.user()
            job = await _failed_job(api, model_api, user, credits=4)
            finance = api.keys.staff_headers("finance")
            await api.client.post(f"/api/v1/staff/customers/{user.id}/credits", json={"amount": -2, "reason": "x"},
                                  headers=finance)
            response = await api.client.post(f"{URL}/{job['job_id']}/retry", headers=api.keys.staff_headers("support"))
            assert_error(response, 409, "INSUFFICIENT_CREDITS")
            assert (await api.job(user, job["job_id"]))["status"] == "failed"
            assert await api.balance(user) == 2

    async def test_unknown_jobs_and_bad_status_filters(self, api) -> None:
        support = api.keys.staff_headers("support")
        assert_error(await api.client.post(f"{URL}/{uuid.uuid4()}/retry", headers=support), 404, "NOT_FOUND")
        assert_error(await api.client.get(URL, params={"status": "lost"}, headers=support), 400, "VALIDATION_ERROR")

    async def test_a_merchandiser_cannot_retry(self, api) -> None:
        response = await api.client.post(f"{URL}/{uuid.uuid4()}/retry", headers=api.keys.staff_headers("merchandiser"))
        assert_error(response, 403, "PERMISSION_DENIED")


class TestFailedJobsReport:
    """The dashboard's chart: jobs failed per UTC day of their failure; a retried one is not."""

    async def test_failed_jobs_are_counted_per_day_of_their_failure(self, start_generation) -> None:
        model_api = FakeModelApi()
        async with start_generation(model_backends={"flux-pro": "http"}, mounts={MODEL_API: model_api.app}) as api:
            await _failed_job(api, model_api, api.user())  # today, through the worker
            retried = await _failed_job(api, model_api, api.user())
            support = api.keys.staff_headers("support")
            model_api.fail = False
            assert (await api.client.post(f"{URL}/{retried['job_id']}/retry", headers=support)).status_code == 200
            await api.h.drain()
            today = datetime.now(UTC).date()

            def at(days_ago: int, hour: int = 12) -> datetime:
                return datetime.combine(today - timedelta(days=days_ago), time(hour), tzinfo=UTC)

            owner = uuid.uuid4()
            async with api.runtime.db.transaction() as session:
                session.add_all([
                    GenerationJob(owner_id=owner, kind="image", model="flux-pro", status="failed",
                                  created_at=at(4, 23), finished_at=at(3, 0)),  # failed on the day after it began
                    GenerationJob(owner_id=owner, kind="image", model="flux-pro", status="failed",
                                  created_at=at(2)),  # no end recorded: its creation's day
                    GenerationJob(owner_id=owner, kind="image", model="flux-pro", status="failed",
                                  created_at=at(40), finished_at=at(40)),  # before the window
                    GenerationJob(owner_id=owner, kind="image", model="flux-pro", status="completed",
                                  created_at=at(1), finished_at=at(1))])
            response = await api.client.get("/api/v1/staff/reports/failed-jobs", headers=support)
            assert response.status_code == 200, response.text
            body = response.json()
            assert (body["days"], body["since"], body["until"]) == (30, str(today - timedelta(days=29)), str(today))
            assert body["results"] == [{"day": str(today - timedelta(days=3)), "failed": 1},
                                       {"day": str(today - timedelta(days=2)), "failed": 1},
                                       {"day": str(today), "failed": 1}]
            week = (await api.client.get("/api/v1/staff/reports/failed-jobs", params={"days": 3}, headers=support)).json()
            assert [r["failed"] for r in week["results"]] == [1, 1]

    async def test_bad_days_and_other_roles_are_refused(self, api) -> None:
        url = "/api/v1/staff/reports/failed-jobs"
        assert_error(await api.client.get(url, params={"days": 0}, headers=api.keys.staff_headers("support")),
                     400, "VALIDATION_ERROR")
        assert_error(await api.client.get(url, headers=api.keys.staff_headers("finance")), 403, "PERMISSION_DENIED")


class TestCustomerGeneration:
    async def test_support_reads_a_customers_balance_ledger_and_books(self, api) -> None:
        user = await api.user_with_credits(5)
        support = api.keys.staff_headers("support")
        for path in (f"/api/v1/staff/customers/{user.id}/credits", f"/api/v1/staff/credits/{user.id}"):
            response = await api.client.get(path, headers=support)
            assert response.status_code == 200, response.text
            assert response.json()["balance"] == 5
            assert [t["transaction_type"] for t in response.json()["transactions"]] == ["purchase"]
        books = await api.client.get("/api/v1/staff/books", params={"customer": str(user.id)}, headers=support)
        assert books.status_code == 200 and books.json()["count"] == 0
        assert_error(await api.client.get("/api/v1/staff/books", headers=support), 400, "VALIDATION_ERROR")
