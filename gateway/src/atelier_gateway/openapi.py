"""One OpenAPI 3.1 document for the whole platform, merged from the services' own documents.

Component schemas are prefixed with the service name (and every `$ref` rewritten) so two
services may both have a `ProductRead` without clashing (their titles too, which client generators
name models after); the schemas every service shares (the error format) are kept once, unprefixed. Only public routes are kept. The tags are those the
operations carry, grouped by service (`x-tagGroups`, which ReDoc shows), so no group is empty; a
tag's description is its service's (each service's, one paragraph each, where several use it).
The services' outbound webhooks (identity's) are kept in the OpenAPI 3.1 `webhooks` section.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import httpx

from atelier_common.openapi import SECURITY_SCHEMES, SHARED_SCHEMAS
from atelier_gateway.routing import resolve

_REF_PREFIX = "#/components/schemas/"
DESCRIPTION = """Every public route of the Atelier platform, through the gateway.

Errors always have one shape, `{"error": {"code", "message", "details"}}`; each operation lists the
codes it may answer. A signed-in user sends `Authorization: Bearer <access>` (from `POST
/api/v1/auth/login` or register); a guest gets an anonymous token from the gateway
(`X-Anonymous-Token`, also set as a cookie) on its first call that needs one and sends it back.
Lists are pages: `{count, next, previous, results}`, with `limit`/`offset` (or `page`/`page_size`).
Operations tagged `dev` exist only on a development platform. The `webhooks` section describes the
signed requests Atelier sends to the endpoints staff register (`/api/v1/webhook-endpoints`)."""


def _rename_refs(node: Any, service: str) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if (key == "$ref" and isinstance(value, str) and value.startswith(_REF_PREFIX)
                    and value[len(_REF_PREFIX):] not in SHARED_SCHEMAS):
                out[key] = f"{_REF_PREFIX}{service}__{value[len(_REF_PREFIX):]}"
            else:
                out[key] = _rename_refs(value, service)
        return out
    if isinstance(node, list):
        return [_rename_refs(v, service) for v in node]
    return node


def merge(documents: dict[str, dict[str, Any]], *, version: str = "0.1.0") -> dict[str, Any]:
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Atelier API", "version": version, "description": DESCRIPTION},
        # The gateway that serves this document answers every path in it (relative to its origin).
        "servers": [{"url": "/", "description": "The Atelier gateway that serves this document"}],
        "paths": {},
        "webhooks": {},
        "components": {"schemas": dict(SHARED_SCHEMAS), "securitySchemes": dict(SECURITY_SCHEMES)},
        "tags": [],
        "x-tagGroups": [],
    }
    described: dict[str, list[tuple[str, str]]] = {}  # tag → (service, its description)
    for service, doc in sorted(documents.items()):
        tags: list[str] = []
        for path, item in doc.get("paths", {}).items():
            if resolve(path) != service:
                continue  # internal and health routes stay private
            merged["paths"][path] = _rename_refs(item, service)
            for operation in item.values():
                if isinstance(operation, dict):
                    tags.extend(t for t in operation.get("tags", ()) if t not in tags)
        for name, item in doc.get("webhooks", {}).items():
            merged["webhooks"][name] = _rename_refs(item, service)
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            if name not in SHARED_SCHEMAS:
                merged["components"]["schemas"][f"{service}__{name}"] = _rename_refs(schema, service)
        for tag in doc.get("tags", ()):
            if tag.get("description") and tag["name"] in tags:
                described.setdefault(tag["name"], []).append((service, tag["description"]))
        known = {tag["name"] for tag in merged["tags"]}
        new = [tag for tag in tags if tag not in known]  # a tag two services use is grouped once
        merged["tags"].extend({"name": tag} for tag in new)
        if new:
            merged["x-tagGroups"].append({"name": service, "tags": new})
    for tag in merged["tags"]:
        if texts := described.get(tag["name"]):
            tag["description"] = (texts[0][1] if len({text for _, text in texts}) == 1
                                  else "\n\n".join(f"**{service}**: {text}" for service, text in texts))
    if not merged["webhooks"]:
        del merged["webhooks"]
    _unique_titles(merged["components"]["schemas"])
    return merged


def _unique_titles(schemas: dict[str, Any]) -> None:
    """Client generators name a model after its schema's `title` (openapi-python-client refuses two
    models of one name): where services share a title (`ImageRead` in catalog and generation), each
    copy gets its service in front (`CatalogImageRead`, `GenerationImageRead`)."""
    by_title: dict[str, list[str]] = {}
    for name, schema in schemas.items():
        by_title.setdefault(schema.get("title", name), []).append(name)
    for title, names in by_title.items():
        if len(names) < 2:
            continue
        for name in names:
            service = name.split("__", 1)[0] if "__" in name else ""
            schemas[name] = {**schemas[name], "title": f"{service.capitalize()}{title}"}


# A service builds its document at its first read: seconds on a busy two-core machine.
FETCH_TIMEOUT_SECONDS = 15.0
# Names the services whose document has not been read yet (down, or slower than the timeout): the
# document lacks their routes for now, not for good; it is rebuilt at the next read.
MISSING = "x-atelier-missing"


class OpenApiCache:
    """The merged document, rebuilt at most every `ttl` seconds. A service whose document could not
    be read this time keeps its last one; one never read yet is named under `MISSING` and asked
    again at the next read, never left out for a whole `ttl` (the console leaves out the pages of
    routes a document lacks)."""

    def __init__(self, client: httpx.AsyncClient, urls: Mapping[str, str | list[str]], ttl: float) -> None:
        self.client = client
        self.urls = urls
        self.ttl = ttl
        self._doc: dict[str, Any] | None = None
        self._until = 0.0
        self._read: dict[str, dict[str, Any]] = {}  # each service's last document
        self._lock = asyncio.Lock()

    async def document(self) -> dict[str, Any]:
        async with self._lock:
            if self._doc is None or time.monotonic() >= self._until:
                results = await asyncio.gather(*(self._fetch(s, u) for s, u in self.urls.items()))
                self._read.update({s: d for s, d in results if d is not None})
                self._doc = merge(self._read)
                if missing := sorted(set(self.urls) - set(self._read)):
                    self._doc[MISSING] = missing
                self._until = time.monotonic() + (0 if missing else self.ttl)
            return self._doc

    async def _fetch(self, service: str, bases: str | list[str]) -> tuple[str, dict[str, Any] | None]:
        for base in [bases] if isinstance(bases, str) else bases:  # the first of its processes that answers
            try:
                response = await self.client.get(f"{base.rstrip('/')}/openapi.json", timeout=FETCH_TIMEOUT_SECONDS)
                response.raise_for_status()
                return service, response.json()
            except (httpx.HTTPError, ValueError):
                continue
        return service, None
