"""The merged OpenAPI is one a client author can live with: Redocly's lint finds no error and
no warning (clients/redocly.yaml); every operation has a summary, a description and examples; the
dev endpoints are there, marked dev-only, where they are served; the outbound webhooks are in the
`webhooks` section with their payloads as identity sends them."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from atelier_common.events.envelope import event_class
from atelier_testing.infra import REQUIRE_ENV, infra_required

METHODS = ("get", "put", "post", "delete", "patch")
# Bodies of bytes (an uploaded photo, a served image): their fields are described, not exemplified.
BINARY = ("multipart/form-data", "image/", "application/octet-stream")
GENERATED = re.compile(r"\*\*(Who may call:\*\*[^\n]*|Development only: [^\n]*\*\*)")


@pytest.fixture(scope="module")
def doc(schema: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema.read_text())
    return loaded


def _operations(doc: dict[str, Any], section: str = "paths") -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in doc.get(section, {}).items()
            for method, op in item.items() if method in METHODS]


def _has_example(media: dict[str, Any]) -> bool:
    return "example" in media or bool(media.get("examples"))


def _missing_examples(op: dict[str, Any]) -> list[str]:
    """The request body and answers of `op` that have a body but no example (bytes excepted)."""
    missing = [f"request {media_type}" for media_type, media in op.get("requestBody", {}).get("content", {}).items()
               if not media_type.startswith(BINARY) and not _has_example(media)]
    for status, response in op["responses"].items():
        missing += [f"{status} {media_type}" for media_type, media in response.get("content", {}).items()
                    if not media_type.startswith(BINARY) and not _has_example(media)]
    return missing


def test_the_merged_document_lints_with_no_error_and_no_warning(generate: ModuleType, schema: Path) -> None:
    if shutil.which("npm") is None:
        message = "npm is not installed (apt-get install -y npm)"
        if infra_required():
            pytest.fail(f"{REQUIRE_ENV}=1 but {message}", pytrace=False)
        pytest.skip(message)
    output = generate.lint(schema)  # raises ClientCheckFailed on any error or warning
    assert "Your API description is valid" in output
    print("\nredocly lint (clients/redocly.yaml): 0 errors, 0 warnings")


def test_every_operation_has_a_summary_a_description_and_examples(doc: dict[str, Any]) -> None:
    operations = _operations(doc)
    undescribed, unexampled = [], []
    for method, path, op in operations:
        assert op.get("summary"), (method, path)
        # Its own words, besides the lines the platform adds (who may call it, dev-only).
        if not GENERATED.sub("", op.get("description", "")).strip():
            undescribed.append(f"{method.upper()} {path}")
        if missing := _missing_examples(op):
            unexampled.append(f"{method.upper()} {path}: {missing}")
    assert not undescribed, undescribed
    assert not unexampled, unexampled
    # Every answer with a body has an example, and every operation answers one at least (its 400).
    with_body = [op for _, _, op in operations if "requestBody" in op]
    answered = [op for _, _, op in operations if any(
        _has_example(media) for response in op["responses"].values() for media in response.get("content", {}).values())]
    success = [op for _, _, op in operations if any(
        _has_example(media) for status, response in op["responses"].items() if status.startswith("2")
        for media in response.get("content", {}).values())]
    assert len(answered) == len(operations) > 180
    print(f"\n{len(operations)} operations: {len(operations) - len(undescribed)} with a summary and a description, "
          f"{len(answered)} with an answer example ({len(success)} of them a 2xx answer's; the others answer no body "
          f"or bytes), {len(with_body)} with a request body, all of them with an example but the "
          f"{sum('multipart/form-data' in op['requestBody']['content'] for op in with_body)} file uploads")


def test_every_operation_documents_the_rate_limit(doc: dict[str, Any]) -> None:
    """The gateway limits every call (docs/limits.md); the document once said so of 1 operation in 245."""
    unlimited = [f"{method.upper()} {path}" for method, path, op in _operations(doc) if "429" not in op["responses"]]
    assert not unlimited, unlimited
    for method, path, op in _operations(doc):
        limited = op["responses"]["429"]
        assert "Retry-After" in limited["headers"], (method, path)
        assert limited["content"]["application/json"]["example"]["error"]["code"] == "RATE_LIMITED", (method, path)


def test_the_dev_endpoints_are_documented_as_dev_only(doc: dict[str, Any]) -> None:
    paths = doc["paths"]
    dev = [(method, path, op) for method, path, op in _operations(doc) if path.startswith("/api/dev/")]
    assert {("get", "/api/dev/mailbox"), ("get", "/api/dev/checkout/{session_id}"),
            ("post", "/api/dev/checkout/{session_id}/pay")} <= {(method, path) for method, path, _ in dev}
    for method, path, op in dev:
        assert op["tags"] == ["dev"] and op["x-dev-only"] is True, (method, path)
        assert op["description"].startswith("**Development only"), (method, path)
    assert "Development only" in next(tag["description"] for tag in doc["tags"] if tag["name"] == "dev")
    mailbox = paths["/api/dev/mailbox"]["get"]["responses"]["200"]["content"]["application/json"]["example"]
    assert mailbox["results"][0]["subject"]


def test_a_service_without_dev_endpoints_documents_none(tmp_path: Path) -> None:
    from atelier_identity.app import create_app
    from atelier_payments.app import create_app as create_payments
    from atelier_platform.embedded import service_settings

    for service, create in (("identity", create_app), ("payments", create_payments)):
        served = create(service_settings(service, tmp_path)).openapi()
        hidden = create(service_settings(service, tmp_path, dev_endpoints=False)).openapi()
        assert any(path.startswith("/api/dev/") for path in served["paths"]), service
        assert not any(path.startswith("/api/dev/") for path in hidden["paths"]), service
        assert "dev" not in {tag["name"] for tag in hidden.get("tags", ())}, service


def test_the_outbound_webhooks_are_documented_as_identity_sends_them(doc: dict[str, Any]) -> None:
    from atelier_identity.webhooks import EVENT_TYPES, payload

    webhooks = doc["webhooks"]
    assert set(webhooks) == set(EVENT_TYPES)
    for event_type in EVENT_TYPES:
        op = webhooks[event_type]["post"]
        assert op["summary"] and op["description"] and "webhook-signature" in op["description"]
        assert {p["name"] for p in op["parameters"] if p["in"] == "header"} >= {
            "webhook-id", "webhook-timestamp", "webhook-signature"}
        media = op["requestBody"]["content"]["application/json"]
        schema = doc["components"]["schemas"][media["schema"]["$ref"].rsplit("/", 1)[1]]
        assert schema["properties"]["type"]["const"] == event_type
        assert schema["properties"]["data"]["$ref"]  # the event's contract, with its own types
        example = media["example"]
        # The example is what identity would send for that event: the contract reads its data back as it is.
        contract = event_class(event_type, 1)
        assert contract is not None
        sent = json.loads(payload(event_type, datetime(2026, 11, 26, tzinfo=UTC),
                                  contract.model_validate(example["data"]).model_dump(mode="json")))
        assert sent["type"] == example["type"] == event_type and sent["data"] == example["data"]
