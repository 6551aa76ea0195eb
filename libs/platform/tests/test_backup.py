"""`atelier backup` / `atelier restore`: one archive, verified, onto an empty install only."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import tarfile
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from atelier_common.keys import SigningKey
from atelier_platform.cli import app
from atelier_testing.platform import drop_databases

runner = CliRunner()


def atelier(*args: str, stdin: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def refused(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 1, result.output
    return result.output


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Point the CLI at an install: `install("a")` is the data directory tmp_path/a (embedded)."""
    monkeypatch.setenv("ATELIER_ENVIRONMENT", "test")
    monkeypatch.setenv("ATELIER_IDENTITY_PASSWORD_HASH_TIME_COST", "1")
    monkeypatch.setenv("ATELIER_IDENTITY_PASSWORD_HASH_MEMORY_COST_KIB", "1024")
    for name in ("ATELIER_POSTGRES_SERVER_URL", "ATELIER_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)

    def use(name: str) -> Path:
        monkeypatch.setenv("ATELIER_DATA_DIR", str(tmp_path / name))
        return tmp_path / name

    return use


def _populated(install) -> Path:
    source = install("source")
    atelier("migrate")
    atelier("users", "create", "ada@example.com", "--stdin", stdin="correct-horse-battery\n")
    SigningKey.load(None, source / "keys" / "identity.pem")  # what the platform's first start creates
    (source / "media" / "products").mkdir(parents=True)
    (source / "media" / "products" / "chair.png").write_bytes(b"\x89PNG chair")
    (source / "assets" / "images").mkdir(parents=True)
    (source / "assets" / "images" / "one.png").write_bytes(b"\x89PNG asset")
    return source


def _backed_up(install, tmp_path: Path) -> Path:
    """The archive of a backup of `_populated`'s install."""
    _populated(install)
    archive = tmp_path / "backup.tar"
    atelier("backup", "--out", str(archive))
    return archive


def _rewritten(archive: Path, out: Path, edit: Callable[[tarfile.TarInfo, bytes], bytes]) -> Path:
    """`archive` copied to `out`, each member's data passed through `edit` (its size follows)."""
    with tarfile.open(archive) as src, tarfile.open(out, "w") as dst:
        for info in src:
            data = edit(info, src.extractfile(info).read())  # type: ignore[union-attr]  # regular members only
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
    return out


def _users(data_dir: Path) -> list[str]:
    with sqlite3.connect(data_dir / "identity.db") as conn:
        emails = [row[0] for row in conn.execute("SELECT email FROM user")]
    conn.close()
    return emails


class TestEmbedded:
    def test_a_backup_restores_onto_an_empty_install(self, install, tmp_path: Path) -> None:
        source = _populated(install)
        archive = tmp_path / "backup.tar"
        summary = json.loads(atelier("backup", "--out", str(archive)).splitlines()[-1])
        assert summary["archive"] == str(archive)
        with tarfile.open(archive) as tar:
            manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]  # a regular member
        assert manifest["created_at"].endswith("Z")
        assert manifest["services"]["identity"]["tables"]["user"] == 1
        assert manifest["services"]["identity"]["revision"] == manifest["services"]["identity"]["code_head"]
        assert {"files/catalog/products/chair.png", "files/generation/images/one.png",
                "databases/identity.sqlite"} <= set(manifest["members"])
        assert all(len(m["sha256"]) == 64 for m in manifest["members"].values())

        target = install("target")
        atelier("restore", str(archive))
        assert _users(target) == ["ada@example.com"]
        assert (target / "media" / "products" / "chair.png").read_bytes() == b"\x89PNG chair"
        assert (target / "assets" / "images" / "one.png").read_bytes() == b"\x89PNG asset"
        # The install's keys come along: tokens and signed links issued before stay valid.
        assert (target / "keys").is_dir()
        assert sorted(p.name for p in (target / "keys").iterdir()) == sorted(p.name for p in (source / "keys").iterdir())

    def test_a_non_empty_install_is_refused_unless_forced(self, install, tmp_path: Path) -> None:
        archive = _backed_up(install, tmp_path)
        target = install("target")
        atelier("migrate")
        atelier("users", "create", "bob@example.com", "--stdin", stdin="correct-horse-battery\n")
        assert "not empty" in refused("restore", str(archive))
        assert _users(target) == ["bob@example.com"]
        atelier("restore", "--force", str(archive))
        assert _users(target) == ["ada@example.com"]

    def test_a_damaged_archive_is_refused_before_anything_is_written(self, install, tmp_path: Path) -> None:
        def tamper(info: tarfile.TarInfo, data: bytes) -> bytes:
            if info.name != "files/catalog/products/chair.png":
                return data
            return b"\x89PNG tampered"[: len(data)].ljust(len(data), b"!")

        damaged = _rewritten(_backed_up(install, tmp_path), tmp_path / "damaged.tar", tamper)
        target = install("target")
        assert "checksum" in refused("restore", str(damaged))
        assert not (target / "identity.db").exists()
        assert "not an Atelier backup" in refused("restore", str(tmp_path / "source" / "identity.db"))

    def test_a_member_outside_the_work_directory_is_refused(self, install, tmp_path: Path) -> None:
        archive = _backed_up(install, tmp_path)
        escaping, payload = tmp_path / "escaping.tar", b"written outside"
        with tarfile.open(archive) as src, tarfile.open(escaping, "w") as dst:
            manifest = json.loads(src.extractfile("manifest.json").read())  # type: ignore[union-attr]  # a regular member
            manifest["members"]["../escaped.txt"] = {"size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
            for info in src:
                if info.name != "manifest.json":
                    dst.addfile(info, src.extractfile(info))
            escaped = tarfile.TarInfo("../escaped.txt")
            escaped.size = len(payload)
            dst.addfile(escaped, io.BytesIO(payload))
            listed = json.dumps(manifest).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(listed)
            dst.addfile(info, io.BytesIO(listed))
        target = install("target")
        assert "not a path inside the archive" in refused("restore", str(escaping))
        assert not (target / "identity.db").exists()

    def test_a_backup_from_a_newer_migration_history_is_refused(self, install, tmp_path: Path) -> None:
        def from_the_future(info: tarfile.TarInfo, data: bytes) -> bytes:
            if info.name != "manifest.json":
                return data
            manifest = json.loads(data)
            manifest["services"]["orders"]["revision"] = "orders_9999"
            return json.dumps(manifest).encode()

        newer = _rewritten(_backed_up(install, tmp_path), tmp_path / "newer.tar", from_the_future)
        install("target")
        assert "orders_9999" in refused("restore", str(newer))


@pytest.mark.infra
def test_postgresql_databases_round_trip(install, tmp_path: Path, postgres_server_url: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    run = uuid.uuid4().hex[:8]
    monkeypatch.setenv("ATELIER_POSTGRES_SERVER_URL", postgres_server_url)
    try:
        monkeypatch.setenv("ATELIER_DATABASE_NAME_PREFIX", f"op_bk_{run}_a_")
        install("source")
        atelier("migrate")
        created = json.loads(atelier("users", "create", "ada@example.com", "--stdin", stdin="x-correct-horse-battery\n"))
        rotated = json.loads(atelier("keys", "rotate"))
        archive = tmp_path / "backup.tar.gz"
        atelier("backup", "--out", str(archive))
        with tarfile.open(archive) as tar:
            manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]  # a regular member
        assert manifest["services"]["identity"]["engine"] == "postgresql"
        assert manifest["services"]["identity"]["tables"]["user"] == 1

        monkeypatch.setenv("ATELIER_DATABASE_NAME_PREFIX", f"op_bk_{run}_b_")
        install("target")
        atelier("restore", str(archive))
        assert "not empty" in refused("restore", str(archive))
        # The account is back: creating it again keeps the restored one.
        again = json.loads(atelier("users", "create", "ada@example.com", "--stdin", stdin="x-correct-horse-battery\n"))
        assert again["id"] == created["id"]
        # So are the signing keys (the active one signs there as it did here).
        states = [json.loads(line) for line in atelier("keys", "list").splitlines()]
        assert (states[0]["kid"], states[0]["state"]) == (rotated["kid"], "active")
        assert [k["state"] for k in states][1:] == ["published"]
    finally:
        drop_databases(postgres_server_url, f"op_bk_{run}_")
