"""What `atelier dev` (`make dev`) tells a developer: once it serves, where the API,
the docs, the console and the mailbox are, and the development staff account — made at the first
start, its random password printed that once and kept nowhere else; a later start names the
account without a password. Never outside the `dev` environment."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from atelier_platform.devstart import DEV_STAFF_EMAIL, ensure_dev_staff
from atelier_platform.embedded import service_settings
from atelier_testing.platform import free_port, make_dev


@contextmanager
def dev(home: Path) -> Iterator[tuple[str, str]]:
    """`atelier dev` as `make dev` starts it: (its URL, what it printed once it serves)."""
    with make_dev(home) as started:
        yield started.url, started.printed()


def _sign_in(url: str, password: str) -> list[str]:
    answer = httpx.post(f"{url}/api/v1/auth/login", json={"email": DEV_STAFF_EMAIL, "password": password}, timeout=30)
    assert answer.status_code == 200, answer.text
    me = httpx.get(f"{url}/api/v1/users/me", headers={"Authorization": f"Bearer {answer.json()['access']}"}, timeout=30)
    roles: list[str] = me.json()["roles"]
    return roles


def test_the_first_start_prints_the_links_and_a_staff_password_the_next_does_not(tmp_path: Path) -> None:
    with dev(tmp_path) as (url, printed):
        lines = printed.splitlines()
        assert lines[0] == f"Atelier (embedded) on {url}"
        assert f"  API:      {url}/api/v1/…  ({url}/ lists every link)" in lines
        for name, path in (("docs", "/api/docs"), ("console", "/console"), ("mailbox", "/api/dev/mailbox")):
            assert f"  {name + ':':<10}{url}{path}" in lines, (name, printed)
            assert httpx.get(f"{url}{path}", timeout=30).status_code == 200, path
        password = next(line.split("password: ")[1].split()[0] for line in lines if "password: " in line)
        assert f"staff:    {DEV_STAFF_EMAIL}  password: {password}" in printed
        assert {"staff", "admin"} <= set(_sign_in(url, password))
        assert httpx.get(url, timeout=30).json()["links"]["console"]["href"] == "/console"
    assert password not in "".join(p.read_text(errors="ignore") for p in (tmp_path / "data").rglob("*") if p.is_file())
    with dev(tmp_path) as (url, printed):
        assert "password:" not in printed and f"staff:    {DEV_STAFF_EMAIL}  (its password was shown" in printed
        assert "admin" in _sign_in(url, password)  # the same account, its password unchanged


def test_no_dev_staff_account_outside_the_dev_environment(tmp_path: Path) -> None:
    for environment in ("test", "production"):
        settings = service_settings("identity", tmp_path).model_copy(update={"environment": environment})
        assert ensure_dev_staff(settings, migrations=None) is None
    configured = service_settings("identity", tmp_path).model_copy(
        update={"bootstrap_staff_email": "boss@example.com", "bootstrap_staff_password": "a long password 1"})
    assert ensure_dev_staff(configured, migrations=None) is None
    assert not (tmp_path / "identity.db").exists()


def test_a_port_in_use_stops_it_at_once_with_one_line(tmp_path: Path) -> None:
    """The port is taken first: its banner, printed when the start is done, is never ahead of the
    socket, and a port in use costs no migration and no staff account."""
    port = free_port()
    with socket.create_server(("127.0.0.1", port)):
        done = subprocess.run([sys.executable, "-m", "atelier_platform.cli", "dev", "--port", str(port),
                               "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == f"atelier dev: cannot listen on 127.0.0.1:{port}: Address already in use"
    assert done.stdout == "" and not (tmp_path / "data").exists()
