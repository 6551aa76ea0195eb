"""No public secret: outside production, a secret the operator did not set is this install's own."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi import APIRouter
from pydantic import ValidationError

from atelier_common.auth import require_service
from atelier_common.keys import install_secret
from atelier_common.service import ServiceSpec, build_app
from atelier_common.settings import DEV_SECRET, ServiceSettings
from atelier_testing import RecordingBus, ServiceHarness

CONSTANTS = (DEV_SECRET, "", "secret", "dev", "test", "atelier")


def test_an_unset_secret_is_generated_once_per_install(tmp_path: Path) -> None:
    settings = ServiceSettings(environment="dev", data_dir=tmp_path / "one").with_install_secrets()
    token = settings.service_token
    assert token not in CONSTANTS and len(token) >= 32
    stored = tmp_path / "one" / "keys" / "service_token.secret"
    assert stored.read_text() == token and stat.S_IMODE(stored.stat().st_mode) == 0o600
    # Kept: the next start (or another process on the same data directory) gets the same value.
    assert ServiceSettings(environment="dev", data_dir=tmp_path / "one").with_install_secrets().service_token == token
    # Another install has its own.
    assert ServiceSettings(environment="dev", data_dir=tmp_path / "two").with_install_secrets().service_token != token


def test_a_secret_the_operator_set_is_kept(tmp_path: Path) -> None:
    settings = ServiceSettings(environment="dev", data_dir=tmp_path, service_token="mine").with_install_secrets()
    assert settings.service_token == "mine" and not (tmp_path / "keys").exists()


def test_production_requires_every_secret(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="service_token"):
        ServiceSettings(environment="production", data_dir=tmp_path)
    with pytest.raises(ValidationError, match="service_token"):
        ServiceSettings(environment="production", data_dir=tmp_path, service_token=DEV_SECRET)
    settings = ServiceSettings(environment="production", data_dir=tmp_path, service_token="a-real-one")
    assert settings.with_install_secrets().service_token == "a-real-one" and not (tmp_path / "keys").exists()


def test_processes_starting_together_agree_on_the_secret(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        values = set(pool.map(lambda _: install_secret(tmp_path / "keys", "race"), range(64)))
    assert len(values) == 1
    assert [p.name for p in (tmp_path / "keys").iterdir()] == ["race.secret"]


async def test_a_fresh_dev_install_refuses_the_old_public_service_token(tmp_path: Path) -> None:
    router = APIRouter()

    @router.get("/internal/ping", dependencies=[require_service])
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    settings = ServiceSettings(environment="dev", data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db",
                               log_json=False)
    app = build_app(ServiceSpec(name="demo", routers=[router]), settings, bus=RecordingBus(),
                    roles=frozenset({"api"}))
    async with ServiceHarness(app, RecordingBus()) as h:
        for constant in CONSTANTS:
            response = await h.client.get("/internal/ping", headers={"X-Service-Token": constant})
            assert response.status_code == 401, constant
        own = (tmp_path / "keys" / "service_token.secret").read_text()
        assert (await h.client.get("/internal/ping", headers={"X-Service-Token": own})).status_code == 200


def test_a_signing_key_setting_may_be_one_line_with_escaped_line_breaks() -> None:
    """Env files (compose's `env_file`, `kubectl create secret --from-env-file`) hold one line per variable."""
    from atelier_common.keys import SigningKey

    key = SigningKey.generate()
    one_line = key.pem().decode().strip().replace("\n", "\\n")
    assert "\n" not in one_line
    assert SigningKey.from_pem(one_line).kid == key.kid == SigningKey.from_pem(key.pem().decode()).kid


def test_processes_starting_at_once_share_one_generated_signing_key(tmp_path: Path) -> None:
    """Compose starts every process of a service together on one data volume: one key, not one each."""
    from atelier_common.keys import SigningKey

    path = tmp_path / "keys" / "identity.pem"
    with ThreadPoolExecutor(max_workers=16) as pool:
        kids = set(pool.map(lambda _: SigningKey.load(None, path).kid, range(64)))
    assert kids == {SigningKey.load(None, path).kid}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["identity.pem"]  # no temporary file left
