"""The embedded mode: the gateway and all six services in one process.

Each service keeps its own SQLite file under the data directory, the event bus is in-process
(same at-least-once contract), and the gateway and the services reach each other through
in-process ASGI transports mounted on the services' usual URLs.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from atelier_common.events.memory import InMemoryBus
from atelier_common.telemetry import setup_logging, setup_tracing
from atelier_gateway.settings import SERVICES, GatewaySettings
from atelier_gateway.upstream import AsgiUpstream
from atelier_platform.gateway import create_gateway

GATEWAY_URL = "http://gateway.internal"


def _service_module(service: str) -> Any:
    return importlib.import_module(f"atelier_{service}.app")


def settings_class(service: str) -> Any:
    """`atelier_<service>.settings.<Service>Settings` (each service names its own that way)."""
    return getattr(importlib.import_module(f"atelier_{service}.settings"), f"{service.capitalize()}Settings")


def service_settings(service: str, data_dir: Path, public_base_url: str | None = None, **overrides: Any) -> Any:
    """A service's settings for the embedded mode; environment variables still apply first."""
    cls = settings_class(service)
    defaults: dict[str, Any] = {
        "data_dir": data_dir,
        "jwks_url": f"{GATEWAY_URL}/.well-known/jwks.json",
        "service_urls": {s: f"http://{s}.internal" for s in SERVICES},
        "dev_endpoints": True,
        "bus": "memory",
    }
    if public_base_url:
        defaults["public_base_url"] = public_base_url
    if service == "catalog":
        defaults["seed_demo_data"] = True
    if service == "identity":
        defaults["seed_demo_storefronts"] = True  # the five seed products' storefronts (docs/storefronts.md)
        # A development machine's receivers are on localhost (docs/webhooks.md).
        defaults["outbound_webhooks_allow_private_urls"] = True
    settings = cls()
    # Explicit environment wins over the embedded defaults; overrides win over both.
    explicit = settings.model_fields_set
    values = {k: v for k, v in defaults.items() if k not in explicit and k in cls.model_fields}
    return settings.model_copy(update={**values, **overrides})


def build(data_dir: Path | None = None, *, gateway_settings: GatewaySettings | None = None,
          public_base_url: str | None = None,
          service_overrides: dict[str, dict[str, Any]] | None = None) -> tuple[FastAPI, InMemoryBus]:
    gateway_settings = gateway_settings or GatewaySettings()
    # One process, one log and trace configuration: named after the mode, not after the first
    # service; each line and span names the service that did the work (`telemetry.service_var`).
    setup_logging(gateway_settings, "embedded")
    data_dir = data_dir or gateway_settings.data_dir
    gateway_settings = gateway_settings.model_copy(update={
        "data_dir": data_dir, "dev_endpoints": True, "service_urls": {s: f"http://{s}.internal" for s in SERVICES}})
    setup_tracing(gateway_settings, "embedded")
    bus = InMemoryBus(max_retries=gateway_settings.consumer_max_retries)
    mounts: dict[str, httpx.AsyncBaseTransport] = {}
    apps: dict[str, FastAPI] = {}
    for service in SERVICES:
        settings = service_settings(service, data_dir, public_base_url, **(service_overrides or {}).get(service, {}))
        apps[service] = _service_module(service).create_app(settings, bus=bus, http_mounts=mounts)
        mounts[f"http://{service}.internal"] = httpx.ASGITransport(app=apps[service])
    gateway = create_gateway(gateway_settings, bus=bus, own_bus=True, upstream=AsgiUpstream(dict(apps)),
                             http_mounts=mounts, children=list(apps.values()))
    mounts[GATEWAY_URL] = httpx.ASGITransport(app=gateway)
    return gateway, bus
