"""`atelier keys rotate|list|retire` against identity's database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from atelier_common.keys import SigningKey
from atelier_platform.cli import app

runner = CliRunner()


def _run(*args: str, exit_code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == exit_code, result.output
    return result.output


def _keys() -> list[dict[str, str]]:
    return [json.loads(line) for line in _run("keys", "list").splitlines() if line.startswith("{")]


def test_rotate_list_and_retire(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ATELIER_POSTGRES_SERVER_URL", "ATELIER_DATABASE_URL", "ATELIER_IDENTITY_SIGNING_KEY_PEM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ATELIER_ENVIRONMENT", "test")
    monkeypatch.setenv("ATELIER_DATA_DIR", str(tmp_path))
    _run("migrate", "--service", "identity")
    configured = SigningKey.load(None, tmp_path / "keys" / "identity.pem")

    first = json.loads(_run("keys", "rotate"))
    second = json.loads(_run("keys", "rotate"))
    states = _keys()
    # Newest first: the configured key (in use before any rotation) and the first rotation's stay published.
    assert [(k["kid"], k["state"]) for k in states] == [
        (second["kid"], "active"), (first["kid"], "published"), (configured.kid, "published")]
    assert all(k["retire_after"] for k in states[1:])

    assert "rotate first" in _run("keys", "retire", second["kid"], exit_code=1)
    assert "--force" in _run("keys", "retire", first["kid"], exit_code=1)
    assert "No such signing key" in _run("keys", "retire", "unknown", exit_code=1)
    assert _run("keys", "retire").strip() == ""  # nothing is past its overlap yet
    retired = json.loads(_run("keys", "retire", first["kid"], "--force"))
    assert retired["state"] == "retired" and retired["retired_at"]
    assert [k["state"] for k in _keys()] == ["active", "retired", "published"]
