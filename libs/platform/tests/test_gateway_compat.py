"""The platform's gateway mounts the compatibility profiles its settings name (the gateway does not import them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from atelier_gateway.settings import GatewaySettings
from atelier_platform.gateway import create_gateway
from atelier_testing import TestKeys


def _settings(tmp_path: Path, keys: TestKeys, **named: Any) -> GatewaySettings:
    return GatewaySettings(environment="test", data_dir=tmp_path, anon_signing_key_pem=keys.anon.pem().decode(),
                           log_json=False, **named)


@pytest.mark.parametrize(("named", "served", "not_served"), [
    ({"compat_profiles": ["marbelle"]}, "/compat/marbelle/schema", "/compat/shop/schema"),
    ({"compat_profiles": ["all"]}, "/compat/figureforge/schema", "/compat/nope/schema"),
    ({"compat_profiles": [], "compat_root_profile": "shop"}, "/schema", "/compat/marbelle/schema"),
    ({}, "/compat/marbelle/schema", "/compat/nope/schema"),  # every profile unless the settings say
    ({"compat_profiles": []}, None, "/compat/marbelle/schema"),
])
async def test_the_gateway_serves_the_profiles_its_settings_name(tmp_path: Path, test_keys: TestKeys,
                                                                  named: dict[str, Any], served: str | None,
                                                                  not_served: str) -> None:
    app = create_gateway(_settings(tmp_path, test_keys, **named))
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        if served is not None:
            r = await client.get(served)
            assert r.status_code == 200, r.text
            assert r.json()["openapi"].startswith("3.1")
        r = await client.get(not_served)
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "NOT_FOUND"


def test_an_unknown_profile_name_stops_the_start(tmp_path: Path, test_keys: TestKeys) -> None:
    with pytest.raises(ValueError, match="unknown compatibility profiles"):
        create_gateway(_settings(tmp_path, test_keys, compat_profiles=["storybook", "nope"]))
