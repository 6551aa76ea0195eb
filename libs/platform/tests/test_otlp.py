"""OTLP export by setting: a service process started with `ATELIER_OTEL_EXPORTER=otlp`
sends its request spans and its Prometheus metrics to a local collector fake as OTLP/HTTP protobuf,
and logs JSON lines stamped in UTC with milliseconds."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from atelier_common.telemetry import OtlpMetricsExporter, otlp_endpoint, utc_timestamp
from atelier_testing.fakes.otlp import OtlpCollector
from atelier_testing.platform import free_port

T = TypeVar("T")
UTC_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_timestamps_are_utc_iso_8601_with_milliseconds() -> None:
    assert utc_timestamp(1795624833.1234) == "2026-11-25T16:40:33.123Z"
    assert utc_timestamp(0.0) == "1970-01-01T00:00:00.000Z"


def test_the_endpoint_setting_takes_the_base_or_the_traces_url() -> None:
    assert otlp_endpoint("http://c:4318", "metrics") == "http://c:4318/v1/metrics"
    assert otlp_endpoint("http://c:4318/v1/traces", "metrics") == "http://c:4318/v1/metrics"
    assert otlp_endpoint("http://c:4318/", "traces") == "http://c:4318/v1/traces"
    assert otlp_endpoint(None, "traces") is None


def test_metrics_go_out_as_sums_histograms_and_gauges() -> None:
    from atelier_common import metrics

    metrics.HTTP_REQUESTS.labels("otlp-test", "GET", "/x", "200", "shop").inc(3)
    metrics.HTTP_DURATION.labels("otlp-test", "GET", "/x").observe(0.02)
    metrics.OUTBOX_BACKLOG.labels("otlp-test").set(7)
    with OtlpCollector() as collector:
        exporter = OtlpMetricsExporter(f"{collector.url}/v1/metrics", "otlp-test", 60)
        assert exporter.export()
        points = collector.metric_points()
    requests = points["atelier_http_requests"][-1]
    assert requests.sum.is_monotonic and requests.sum.aggregation_temporality == 2  # cumulative
    (mine,) = [p for p in requests.sum.data_points
               if {a.key: a.value.string_value for a in p.attributes}.get("service") == "otlp-test"]
    assert mine.as_double == 3 and {a.key: a.value.string_value for a in mine.attributes}["storefront"] == "shop"
    duration = points["atelier_http_request_duration_seconds"][-1]
    (point,) = [p for p in duration.histogram.data_points
                if {a.key: a.value.string_value for a in p.attributes}.get("service") == "otlp-test"]
    assert point.count == 1 and list(point.explicit_bounds)[:3] == [0.005, 0.01, 0.025]
    assert sum(point.bucket_counts) == 1 and point.bucket_counts[2] == 1  # 0.02 s falls in (0.01, 0.025]
    backlog = points["atelier_outbox_backlog"][-1]
    assert any(p.as_double == 7 for p in backlog.gauge.data_points)
    assert not any(name.startswith(("process_", "python_")) for name in points)


def test_a_service_process_exports_traces_and_metrics_over_otlp(tmp_path: Path) -> None:
    port = free_port()
    with OtlpCollector() as collector:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")}
        env.update({"ATELIER_DATA_DIR": str(tmp_path), "ATELIER_OTEL_EXPORTER": "otlp",
                    "ATELIER_OTEL_ENDPOINT": collector.url, "ATELIER_OTEL_METRICS_INTERVAL_SECONDS": "0.5",
                    "ATELIER_LOG_JSON": "true"})
        process = subprocess.Popen([sys.executable, "-m", "atelier_platform.cli", "serve", "catalog", "--port",
                                    str(port)], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        try:
            answer = _wait_for(lambda: _get(f"http://127.0.0.1:{port}/api/v1/products"), 120,
                                   "the catalog answering")
            assert answer.status_code == 200
            spans = _wait_for(lambda: [s for svc, s in collector.spans()
                                       if svc == "atelier-catalog" and "/api/v1/products" in s.name], 60,
                              "the request's span at the collector")
            assert spans[0].kind == 2  # SERVER
            requests = _wait_for(lambda: [p for m in collector.metric_points().get("atelier_http_requests", [])
                                          for p in m.sum.data_points
                                          if {a.key: a.value.string_value for a in p.attributes}.get("route")
                                          == "/api/v1/products"], 60, "the request counted at the collector")
            assert requests[-1].as_double >= 1
            assert collector.content_types == {"application/x-protobuf"}
        finally:
            process.terminate()
            _, stderr = process.communicate(timeout=60)
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert lines, stderr
    for line in lines:
        assert UTC_MS.match(line["ts"]), line


def _get(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=5)
    except httpx.HTTPError:
        return None


def _wait_for(check: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.2)
    pytest.fail(f"{what} not seen within {timeout} s")
