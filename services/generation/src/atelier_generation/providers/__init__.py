"""Hosted model providers behind one port (`base.Provider`), switched on by settings
(`ATELIER_GENERATION_PROVIDERS`) and used by the catalogue's models (docs/providers.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx

from atelier_generation.providers.base import (
    InvalidWebhook,
    Progress,
    Provider,
    ProviderError,
    ProviderFailed,
    ProviderRequest,
    ProviderResult,
    ProviderUnavailable,
    SafetyRefusal,
    Submission,
    WebhookEvent,
)
from atelier_generation.providers.fal import FalProvider
from atelier_generation.providers.gemini import GeminiProvider
from atelier_generation.providers.kie import KieProvider
from atelier_generation.providers.openai import OpenAIImagesProvider
from atelier_generation.providers.replicate import ReplicateProvider
from atelier_generation.settings import ProviderName, ProviderSettings

ADAPTERS: dict[str, Callable[[httpx.AsyncClient, ProviderSettings], Provider]] = {
    "fal": FalProvider,
    "openai": OpenAIImagesProvider,
    "replicate": ReplicateProvider,
    "gemini": GeminiProvider,
    "kie": KieProvider,
}


def build_providers(configured: Mapping[ProviderName, ProviderSettings], http: httpx.AsyncClient) -> dict[str, Provider]:
    return {name: ADAPTERS[name](http, settings) for name, settings in configured.items() if name in ADAPTERS}


__all__ = ["ADAPTERS", "InvalidWebhook", "Progress", "Provider", "ProviderError", "ProviderFailed", "ProviderRequest",
           "ProviderResult", "ProviderUnavailable", "SafetyRefusal", "Submission", "WebhookEvent", "build_providers"]
