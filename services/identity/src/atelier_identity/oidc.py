"""OpenID Connect providers (S2's Google): their settings, and their discovery documents and keys
fetched once and kept for an hour (long-lived, so they live in the context)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc.jwk import KeySet

from atelier_common.tls import client_tls
from atelier_identity.errors import OAuthFailed, OAuthProviderUnknown
from atelier_identity.settings import IdentitySettings

log = logging.getLogger("atelier.identity.oauth")

# Provider metadata and keys are fetched once and kept this long.
METADATA_TTL = 3600.0


@dataclass(frozen=True)
class Provider:
    name: str
    client_id: str
    client_secret: str | None
    discovery_url: str


@dataclass
class OidcProviders:
    """The configured providers, with the cache of their discovery documents and key sets."""

    providers: dict[str, Provider]
    timeout: float
    _metadata: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)
    _keys: dict[str, tuple[float, KeySet]] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: IdentitySettings) -> OidcProviders:
        providers = {}
        if settings.oauth_google_client_id:
            providers["google"] = Provider("google", settings.oauth_google_client_id,
                                           settings.oauth_google_client_secret, settings.oauth_google_discovery_url)
        return cls(providers=providers, timeout=settings.oauth_http_timeout_seconds)

    def get(self, name: str) -> Provider:
        provider = self.providers.get(name)
        if provider is None:
            raise OAuthProviderUnknown()
        return provider

    async def discover(self, provider: Provider) -> dict[str, Any]:
        cached = self._metadata.get(provider.name)
        if cached and time.monotonic() - cached[0] < METADATA_TTL:
            return cached[1]
        metadata = await self.get_json(provider.discovery_url)
        for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(metadata.get(key), str):
                raise OAuthFailed(details={"provider_error": f"discovery document without {key}"})
        self._metadata[provider.name] = (time.monotonic(), metadata)
        return metadata

    async def key_set(self, provider: Provider, metadata: dict[str, Any], *, refresh: bool = False) -> KeySet:
        cached = self._keys.get(provider.name)
        if cached and not refresh and time.monotonic() - cached[0] < METADATA_TTL:
            return cached[1]
        keys = KeySet.import_key_set(await self.get_json(metadata["jwks_uri"]))  # type: ignore[arg-type]  # a JWKS document, checked by joserfc
        self._keys[provider.name] = (time.monotonic(), keys)
        return keys

    async def get_json(self, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self.timeout, verify=client_tls()) as client:
                response = await client.get(url, **kwargs)
                response.raise_for_status()
                document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("OAuth provider request to %s failed: %s", url, exc)
            raise OAuthFailed(details={"provider_error": "the provider could not be reached"}) from exc
        if not isinstance(document, dict):
            raise OAuthFailed(details={"provider_error": "the provider answered something other than an object"})
        return document
