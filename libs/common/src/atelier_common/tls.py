"""The one TLS context every outbound httpx client of a process verifies servers with."""

from __future__ import annotations

import ssl
from functools import cache

import httpx


@cache
def client_tls() -> ssl.SSLContext:
    """httpx's own default (certifi's roots, or `SSL_CERT_FILE` / `SSL_CERT_DIR`), built once per
    process. Each client used to build its own, and loading the roots costs ~30 ms of CPU: an OAuth
    provider call paid it every time, and so did every app start in a test worker (twice for identity)."""
    return httpx.create_ssl_context()
