"""Generation's own Prometheus metrics, beside the shared ones of `atelier_common.metrics`
(served on the same `/metrics`)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# `_total` is added by the client: `atelier_generation_jobs_total{storefront, kind, status}`.
JOBS_FINISHED = Counter("atelier_generation_jobs", "Generation jobs finished, by storefront, kind and outcome "
                        "(completed, failed)", ["storefront", "kind", "status"])


# From the worker taking the job to its end, by the provider that ran it (`local`: the built-in
# generators) and outcome: `atelier_generation_job_seconds_bucket{provider, status, le}`.
JOB_SECONDS = Histogram("atelier_generation_job_seconds", "Time a job ran, by provider and outcome",
                        ["provider", "status"], buckets=(0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600))


def job_finished(storefront: str, kind: str, status: str, *, provider: str, seconds: float | None) -> None:
    JOBS_FINISHED.labels(storefront=storefront, kind=kind, status=status).inc()
    if seconds is not None:  # a job failed before a worker took it has not run
        JOB_SECONDS.labels(provider=provider, status=status).observe(seconds)
