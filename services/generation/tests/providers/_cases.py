"""One entry per hosted provider: its fake, where it is mounted, and the settings that point at it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from atelier_testing.fakes.providers import FakeProvider, fal, gemini, kie, openai, replicate


@dataclass(frozen=True)
class Case:
    name: str
    fake: type[FakeProvider]
    api_key: str
    provider_model: str
    synchronous: bool = False
    # What the provider's base URL ends with (OpenAI's includes its `/v1`, as its SDK's does).
    path: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://{self.name}.test"

    def settings(self, **overrides: Any) -> dict[str, Any]:
        model = {"id": "flux-pro", "name": "FLUX Pro", "credits": 2, "kind": "image", "provider": self.name,
                 "provider_model": self.provider_model, **overrides.pop("model", {})}
        base_url = self.base_url + self.path
        return {"providers": {self.name: {"api_key": self.api_key, "base_url": base_url, **self.extra}},
                "models": overrides.pop("models", [model]), "provider_poll_seconds": 0.01, "provider_poll_max_seconds": 0.05,
                "provider_backoff_seconds": 0.01, **overrides}


CASES = [
    Case("fal", fal.FakeFal, fal.API_KEY, "fal-ai/flux-pro/v1.1",
         extra={"jwks_url": "http://fal.test/.well-known/jwks.json"}),
    Case("openai", openai.FakeOpenAI, openai.API_KEY, "gpt-image-1", synchronous=True, path="/v1"),
    Case("replicate", replicate.FakeReplicate, replicate.API_KEY, "black-forest-labs/flux-schnell",
         extra={"webhook_secret": replicate.WEBHOOK_SECRET}),
    Case("gemini", gemini.FakeGemini, gemini.API_KEY, "gemini-2.5-flash-image", synchronous=True),
    Case("kie", kie.FakeKie, kie.API_KEY, "google/nano-banana", extra={"webhook_secret": kie.WEBHOOK_SECRET}),
]
QUEUED = [case for case in CASES if not case.synchronous]
