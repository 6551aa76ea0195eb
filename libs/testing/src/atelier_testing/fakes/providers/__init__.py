"""Loopback fakes of the hosted model providers generation calls, each speaking the provider's
documented wire protocol: `FakeServer(FakeFal()).start()` for a real HTTP server, or the fake's
`app` mounted in-process (httpx ASGI transport)."""

from atelier_testing.fakes.providers._base import (
    GARBAGE_WORD,
    NOT_AN_IMAGE_WORD,
    SAFETY_WORD,
    FakeProvider,
    FakeServer,
    picture,
)

__all__ = ["GARBAGE_WORD", "NOT_AN_IMAGE_WORD", "SAFETY_WORD", "FakeProvider", "FakeServer", "picture"]
