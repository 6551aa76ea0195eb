"""The API docs work with no network and say what the API really does.

`/api/docs` is opened in headless Chromium (Debian's `chromium`, driven by Playwright): every
operation (and outbound webhook) renders, Authorize applies the bearer token to a tried request, and
no request leaves 127.0.0.1 (any that tries is recorded and aborted); so does each compatibility
profile's `/compat/<profile>/docs`. The merged schema itself: no 422 anywhere,
every operation tagged and no empty tag group, errors described by the one error schema, security
on protected operations, examples on the main request bodies.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from infra.journeys import customer

from atelier_testing.browser import chromium, offline_context
from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
ERROR = {"$ref": "#/components/schemas/Error"}


@pytest.fixture(scope="module")
def schema(embedded_platform: Platform) -> dict[str, Any]:
    response = httpx.get(f"{embedded_platform.url}/api/schema", timeout=30)
    assert response.status_code == 200
    return response.json()


def _operations(schema: dict[str, Any], section: str = "paths") -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in schema.get(section, {}).items()
            for method, op in item.items() if method in METHODS]


def _request_schema(schema: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    ref = schema["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    found: dict[str, Any] = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return found


# -- the merged schema ---------------------------------------------------------------------------

def test_no_operation_documents_a_422_and_every_one_a_400_with_the_error_schema(schema: dict[str, Any]) -> None:
    operations = _operations(schema)
    assert len(operations) > 100
    for method, path, op in operations:
        assert "422" not in op["responses"], (method, path)
        assert op["responses"]["400"]["content"]["application/json"]["schema"] == ERROR, (method, path)
    assert "HTTPValidationError" not in str(schema["components"]["schemas"])
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert set(schema["components"]["schemas"]["ErrorBody"]["required"]) == {"code", "message", "details"}


def test_every_documented_error_status_has_the_error_schema(schema: dict[str, Any]) -> None:
    seen: set[str] = set()
    for method, path, op in _operations(schema):
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                seen.add(status)
                assert response["content"]["application/json"]["schema"] == ERROR, (method, path, status)
    assert {"400", "401", "403", "404", "409", "429"} <= seen


def test_every_operation_is_tagged_and_no_tag_group_is_empty(schema: dict[str, Any]) -> None:
    used: set[str] = set()
    for method, path, op in _operations(schema):
        assert op.get("tags"), (method, path)
        used.update(op["tags"])
    declared = {tag["name"] for tag in schema["tags"]}
    assert declared == used
    grouped = {tag for group in schema["x-tagGroups"] for tag in group["tags"]}
    assert grouped == used and all(group["tags"] for group in schema["x-tagGroups"])
    assert {group["name"] for group in schema["x-tagGroups"]} == {
        "identity", "catalog", "cart", "orders", "payments", "generation"}


@pytest.mark.parametrize(("method", "path", "expected"), [
    ("get", "/api/v1/users/me", [{"bearer": []}]),
    ("post", "/api/v1/generation/jobs", [{"bearer": []}]),
    ("post", "/api/v1/products", [{"bearer": []}]),  # staff
    ("post", "/api/v1/cart/items", [{"bearer": []}, {"anonToken": []}]),
    ("post", "/api/v1/orders", [{"bearer": []}, {"anonToken": []}]),
    ("get", "/api/v1/products", [{}, {"bearer": []}, {"anonToken": []}]),  # public, a caller may be known
])
def test_protected_operations_declare_their_security(schema: dict[str, Any], method: str, path: str,
                                                     expected: list[dict[str, list[str]]]) -> None:
    op = schema["paths"][path][method]
    assert op["security"] == expected
    if {} not in expected:
        assert op["responses"]["401"]["content"]["application/json"]["schema"] == ERROR


def test_security_schemes_are_bearer_and_the_anonymous_token_header(schema: dict[str, Any]) -> None:
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearer"]["type"] == "http" and schemes["bearer"]["scheme"] == "bearer"
    assert schemes["anonToken"] == {**schemes["anonToken"], "type": "apiKey", "in": "header",
                                    "name": "X-Anonymous-Token"}
    public = [(m, p) for m, p, op in _operations(schema) if not op.get("security")]  # `security: []`
    assert ("post", "/api/v1/auth/login") in public and ("post", "/api/v1/auth/register") in public
    # Every operation that answers 401 for a missing user has a way to send one.
    for method, path, op in _operations(schema):
        if "security" in op:
            assert all(set(req) <= set(schemes) for req in op["security"]), (method, path)


@pytest.mark.parametrize(("method", "path", "field"), [
    ("post", "/api/v1/auth/register", "email"),
    ("post", "/api/v1/auth/login", "password"),
    ("post", "/api/v1/orders", "items"),
    ("post", "/api/v1/generation/jobs", "prompt"),
    ("post", "/api/v1/books", "title"),
])
def test_main_request_bodies_have_examples(schema: dict[str, Any], method: str, path: str, field: str) -> None:
    examples = _request_schema(schema, method, path)["examples"]
    assert examples and field in examples[0]


async def test_the_examples_are_accepted(embedded_platform: Platform, schema: dict[str, Any]) -> None:
    """The documented bodies are real requests: none of them is a 400 (or worse)."""
    def example(path: str) -> dict[str, Any]:
        found: dict[str, Any] = _request_schema(schema, "post", path)["examples"][0]
        return found

    async with httpx.AsyncClient(base_url=embedded_platform.url, timeout=30) as api:
        r = await api.post("/api/v1/auth/register", json=example("/api/v1/auth/register"))
        assert r.status_code in {201, 409, 429}, r.text  # 409: taken already; 429: the credential limit
        r = await api.post("/api/v1/auth/login", json=example("/api/v1/auth/login"))
        assert r.status_code != 400 and r.status_code < 500, r.text
        headers = await customer(api)
        for path in ("/api/v1/generation/jobs", "/api/v1/books", "/api/v1/orders"):
            r = await api.post(path, json=example(path), headers=headers)
            # 402/403: no credits; 404: the example's address (or product) is not this customer's.
            assert r.status_code in {200, 201, 202, 402, 403, 404, 409}, (path, r.status_code, r.text)


# -- in the browser ------------------------------------------------------------------------------

@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with chromium() as the_browser:
        yield the_browser


async def test_swagger_ui_renders_every_operation_offline_and_authorize_applies_the_token(
        embedded_platform: Platform, schema: dict[str, Any], browser: Any) -> None:
    async with httpx.AsyncClient(base_url=embedded_platform.url, timeout=30) as api:
        access = (await customer(api))["Authorization"].removeprefix("Bearer ")
    async with offline_context(browser) as (context, watch):
        page = await context.new_page()
        refused: list[str] = []  # what the pages' Content-Security-Policy had to block: nothing should try
        page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
                else None)
        await page.goto(f"{embedded_platform.url}/api/docs", wait_until="load")
        # Every operation, and every outbound webhook (Swagger UI shows the `webhooks` section too).
        expected = len(_operations(schema)) + len(_operations(schema, "webhooks"))
        # A locator, not a string predicate: the page's CSP refuses the eval Playwright would use.
        await page.locator(".opblock").nth(expected - 1).wait_for(timeout=60_000)
        assert await page.locator(".opblock").count() == expected
        assert await page.locator(".opblock-tag-section").count() == len(schema["tags"])

        # Authorize with the access token; a tried request to a protected route carries it.
        await page.locator("button.authorize").first.click()
        bearer_box = page.locator(".auth-container").filter(has_text="bearer")
        await bearer_box.locator("input").first.fill(access)
        await bearer_box.locator("button.authorize").click()
        await page.locator("button.btn-done").first.click()
        operation = page.locator('.opblock-get:has(.opblock-summary-path[data-path="/api/v1/users/me"])')
        await operation.locator(".opblock-summary").first.click()
        await operation.locator("button.try-out__btn").click()
        async with page.expect_response(lambda r: r.url.endswith("/api/v1/users/me")) as answer:
            await operation.locator("button.execute").click()
        response = await answer.value
        assert response.request.headers.get("authorization") == f"Bearer {access}"
        assert response.status == 200
        await operation.locator(".live-responses-table .response-col_status").first.wait_for()

        # ReDoc too: it renders the operations from the same files, offline.
        await page.goto(f"{embedded_platform.url}/api/redoc", wait_until="load")
        await page.get_by_text("/api/v1/users/me").first.wait_for(state="attached", timeout=60_000)
    assert watch.escaped == [], f"requests left the machine: {watch.escaped}"
    assert refused == [], refused
    assert watch.requests and watch.server_errors == [], watch.server_errors


async def test_each_compat_profile_has_a_docs_page_that_renders_offline(embedded_platform: Platform,
                                                                       browser: Any) -> None:
    """`/compat/<profile>/docs`: Swagger UI on the profile's own document, every operation of
    it rendered, with the gateway's offline files."""
    async with offline_context(browser) as (context, watch), httpx.AsyncClient(base_url=embedded_platform.url,
                                                                              timeout=30) as api:
        page = await context.new_page()
        for profile in ("storybook", "marbelle", "reviv", "shop", "figureforge"):
            document = (await api.get(f"/compat/{profile}/schema")).json()
            expected = len(_operations(document))
            await page.goto(f"{embedded_platform.url}/compat/{profile}/docs", wait_until="load")
            await page.locator(".opblock").nth(expected - 1).wait_for(timeout=60_000)
            assert await page.locator(".opblock").count() == expected, profile
            assert document["info"]["title"] in await page.title()
    assert watch.escaped == [], f"requests left the machine: {watch.escaped}"
    assert watch.server_errors == [], watch.server_errors


def test_the_dev_endpoints_are_in_the_schema_marked_dev_only(schema: dict[str, Any]) -> None:
    """A development platform's `/api/schema` has its dev routes, tagged and described as such."""
    dev = {(method, path): op for method, path, op in _operations(schema) if path.startswith("/api/dev/")}
    assert {("get", "/api/dev/mailbox"), ("get", "/api/dev/checkout/{session_id}"),
            ("post", "/api/dev/checkout/{session_id}/pay")} <= set(dev)
    assert all(op["x-dev-only"] and op["tags"] == ["dev"] and "Development only" in op["description"]
               for op in dev.values())
