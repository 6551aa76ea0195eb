"""The merged OpenAPI feeds the standard client generators: openapi-python-client and
openapi-typescript generate without a warning, and a small program type-checks against each client
(clients/generate.py, what `make clients` runs)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from atelier_testing.infra import REQUIRE_ENV, infra_required


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in doc["paths"].items() for method, op in item.items()
            if isinstance(op, dict)]


def test_the_document_has_what_generators_need(schema: Path) -> None:
    doc = json.loads(schema.read_text())
    ids = [op["operationId"] for _, _, op in _operations(doc)]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    titles = [s.get("title", name) for name, s in doc["components"]["schemas"].items()]
    assert len(titles) == len(set(titles)), sorted({t for t in titles if titles.count(t) > 1})
    for method, path, op in _operations(doc):
        for parameter in op.get("parameters", ()):
            if parameter["in"] == "path":
                assert parameter["required"] is True and "anyOf" not in parameter["schema"], (method, path, parameter)
    # The storybook versions' routes were the nullable ones (a handler shared with the cover's route).
    versions = doc["paths"]["/api/v1/books/{book_id}/pages/{item_id}/versions"]["get"]["parameters"]
    assert {"type": "string", "format": "uuid"}.items() <= next(p for p in versions if p["name"] == "item_id")[
        "schema"].items()


@pytest.fixture(scope="module")
def python_client(generate: ModuleType, schema: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target: Path = generate.python_client(schema, tmp_path_factory.mktemp("clients"))
    return target


def test_the_python_client_generates_and_type_checks(python_client: Path) -> None:
    assert (python_client / "atelier_client" / "api" / "orders" / "orders_get_order.py").exists()
    assert (python_client / "atelier_client" / "models" / "generation_image_read.py").exists()


def test_the_file_routes_answer_files(python_client: Path) -> None:
    """A stored file is bytes (`format: binary`): the client hands back a `File`, not bytes cast to `str`,
    and a generator without our configuration no longer leaves these answers out."""
    for module in ("products/catalog_get_media.py", "images/generation_get_image_file.py"):
        code = (python_client / "atelier_client" / "api" / module).read_text()
        assert "response_200 = File(" in code, module


def test_the_python_check_fails_on_a_program_the_client_does_not_fit(generate: ModuleType, python_client: Path) -> None:
    """mypy really reads the generated client: a field the schema lacks fails the check."""
    example = python_client / "example.py"
    good = example.read_text()
    example.write_text(good.replace("cart.total", "cart.grand_total"))
    try:
        with pytest.raises(generate.ClientCheckFailed, match="grand_total"):
            generate.check_python(python_client)
    finally:
        example.write_text(good)


def test_the_typescript_client_generates_and_type_checks(generate: ModuleType, schema: Path, tmp_path: Path) -> None:
    if shutil.which("npm") is None:
        message = "npm is not installed (apt-get install -y npm)"
        if infra_required():
            pytest.fail(f"{REQUIRE_ENV}=1 but {message}", pytrace=False)
        pytest.skip(message)
    target = generate.typescript_client(schema, tmp_path)
    generated = (target / "generated" / "atelier.ts").read_text()
    assert '"/api/v1/orders/{order_id}"' in generated
    # tsc really checks: a path the schema lacks fails.
    (target / "example.ts").write_text((target / "example.ts").read_text().replace(
        '"/api/v1/cart/items"', '"/api/v1/cart/lines"'))
    with pytest.raises(generate.ClientCheckFailed, match="cart/lines"):
        generate.check_typescript(target)
