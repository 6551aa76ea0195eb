"""Generation's own Prometheus metrics, beside the shared ones of `atelier_common.metrics`
(served on the same `/metrics`)."""

from __future__ import annotations

from prometheus_client import Counter

# `_total` is added by the client: `atelier_generation_jobs_total{storefront, kind, status}`.
JOBS_FINISHED = Counter("atelier_generation_jobs", "Generation jobs finished, by storefront, kind and outcome "
                        "(completed, failed)", ["storefront", "kind", "status"])


def job_finished(storefront: str, kind: str, status: str) -> None:
    JOBS_FINISHED.labels(storefront=storefront, kind=kind, status=status).inc()
