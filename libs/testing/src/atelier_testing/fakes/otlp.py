"""A local OpenTelemetry collector: an HTTP server that takes OTLP/HTTP protobuf POSTs on
/v1/traces and /v1/metrics and keeps them decoded, so tests check what a process exports without
a real collector or the internet."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


class OtlpCollector:
    def __init__(self) -> None:
        self.traces: list[ExportTraceServiceRequest] = []
        self.metrics: list[ExportMetricsServiceRequest] = []
        self.content_types: set[str] = set()
        self.lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                message: Any
                if self.path == "/v1/traces":
                    message = ExportTraceServiceRequest.FromString(body)
                elif self.path == "/v1/metrics":
                    message = ExportMetricsServiceRequest.FromString(body)
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                with collector.lock:
                    collector.content_types.add(self.headers.get("Content-Type", ""))
                    (collector.traces if self.path == "/v1/traces" else collector.metrics).append(message)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> OtlpCollector:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def spans(self) -> Iterator[tuple[str, Any]]:
        """(service.name, span) of every span received."""
        with self.lock:
            requests = list(self.traces)
        for request in requests:
            for resource_spans in request.resource_spans:
                service = next((a.value.string_value for a in resource_spans.resource.attributes
                                if a.key == "service.name"), "")
                for scope in resource_spans.scope_spans:
                    for span in scope.spans:
                        yield service, span

    def metric_points(self) -> dict[str, list[Any]]:
        """Metric name → its received metrics (newest last), across every export."""
        out: dict[str, list[Any]] = {}
        with self.lock:
            requests = list(self.metrics)
        for request in requests:
            for resource_metrics in request.resource_metrics:
                for scope in resource_metrics.scope_metrics:
                    for metric in scope.metrics:
                        out.setdefault(metric.name, []).append(metric)
        return out
