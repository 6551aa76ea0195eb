"""A configuration error ends any `atelier` command with one line per bad setting — its name, its
environment variable and what is wrong — and exit code 2, never a traceback; and a normal command
prints no third-party warning (authlib's httpx deprecation printed on every call)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsError

from atelier_common.settings import explain_settings_error
from atelier_gateway.settings import GatewaySettings
from atelier_platform.embedded import settings_class


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ATELIER_", "PYTHONWARNINGS"))}
    return {**env, "ATELIER_DATA_DIR": str(tmp_path / "data"), **extra}


def _atelier(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "atelier_platform.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize("args", [["migrate"], ["dev", "--port", "0"], ["serve", "identity", "--port", "0"],
                                  ["up", "--port", "0"], ["worker", "catalog"]], ids=lambda a: a[0])
def test_a_bad_setting_is_one_line_and_exit_code_2(args: list[str], tmp_path: Path) -> None:
    result = _atelier(args, _clean_env(tmp_path, ATELIER_DB_POOL_SIZE="many"), tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "ValidationError" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "configuration error: db_pool_size (ATELIER_DB_POOL_SIZE): Input should be a valid integer, "
        "unable to parse string as an integer (got 'many')"]


def test_a_rule_of_a_settings_class_names_its_setting_too(tmp_path: Path) -> None:
    """A model validator's error (no location) still names the setting and its variable."""
    result = _atelier(["migrate"], _clean_env(tmp_path, ATELIER_ENVIRONMENT="production"), tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("configuration error: ") and "must be set in production" in line
    assert "(ATELIER_" in line
    result = _atelier(["migrate"], _clean_env(tmp_path, ATELIER_PAYMENTS_WEBHOOK_SECRETS="not json"), tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stdout == ""  # nothing was migrated first
    assert result.stderr.startswith("configuration error: webhook_secrets (ATELIER_PAYMENTS_WEBHOOK_SECRETS): ")


def test_the_explanation_names_the_variable_actually_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("ATELIER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ATELIER_GATEWAY_RATE_LIMITS_ENABLED", "maybe")
    monkeypatch.setenv("ATELIER_ORDERS_ENVIRONMENT", "staging")
    with pytest.raises(ValidationError) as gateway:
        GatewaySettings()
    assert explain_settings_error(gateway.value) == [
        "configuration error: rate_limits_enabled (ATELIER_GATEWAY_RATE_LIMITS_ENABLED): Input should be a valid "
        "boolean, unable to interpret input (got 'maybe')"]
    with pytest.raises(ValidationError) as orders:
        settings_class("orders")()
    assert explain_settings_error(orders.value) == [
        "configuration error: environment (ATELIER_ORDERS_ENVIRONMENT): Input should be 'dev', 'test' or "
        "'production' (got 'staging')"]
    # A secret's value is never echoed; a variable that is not JSON is named too.
    monkeypatch.setenv("ATELIER_ORDERS_ENVIRONMENT", "dev")
    monkeypatch.setenv("ATELIER_ORDERS_SERVICE_URLS", '{"catalog": {"url": "http://user:hunter2@catalog"}}')
    with pytest.raises(ValidationError) as url:
        settings_class("orders")()
    (line,) = explain_settings_error(url.value) or []
    assert line.startswith("configuration error: service_urls.catalog (ATELIER_ORDERS_SERVICE_URLS): ")
    assert "hunter2" not in line
    monkeypatch.delenv("ATELIER_ORDERS_SERVICE_URLS")
    monkeypatch.setenv("ATELIER_PAYMENTS_WEBHOOK_SECRETS", "whsec_not_json")
    with pytest.raises(SettingsError) as source:
        settings_class("payments")()
    (line,) = explain_settings_error(source.value) or []
    assert line.startswith("configuration error: webhook_secrets (ATELIER_PAYMENTS_WEBHOOK_SECRETS): not valid JSON")
    assert "whsec_not_json" not in line


def test_another_validation_error_keeps_its_traceback() -> None:
    from pydantic import BaseModel

    class NotSettings(BaseModel):
        count: int

    with pytest.raises(ValidationError) as error:
        NotSettings(count="x")  # type: ignore[arg-type]  # the wrong type is the point
    assert explain_settings_error(error.value) is None


def test_a_normal_command_prints_no_warning(tmp_path: Path) -> None:
    """`atelier openapi` imports every service (authlib with identity) and prints nothing on stderr."""
    result = _atelier(["openapi", "--output", str(tmp_path / "openapi.json")], _clean_env(tmp_path), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    result = _atelier(["--help"], _clean_env(tmp_path), tmp_path)
    assert result.returncode == 0 and result.stderr == ""


def test_migrate_prints_no_warning_and_keeps_the_expression_index(tmp_path: Path) -> None:
    """SQLite's table copy (catalog_0010) lost `ix_product_sku_lower` with a SAWarning on every migrate."""
    import sqlite3

    result = _atelier(["migrate"], _clean_env(tmp_path), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    with sqlite3.connect(tmp_path / "data" / "catalog.db") as db:
        found = db.execute("SELECT sql FROM sqlite_master WHERE name = 'ix_product_sku_lower'").fetchone()
    assert found is not None and "lower(sku)" in found[0]
    with sqlite3.connect(tmp_path / "data" / "identity.db") as db:  # identity_0015 copies the user table
        found = db.execute("SELECT sql FROM sqlite_master WHERE name = 'uq_user_username_lower'").fetchone()
    assert found is not None and "lower(username)" in found[0]


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


STARTING = [["migrate"], ["dev", "--port", "0"], ["serve", "identity", "--port", "0"], ["worker", "catalog"]]


@pytest.mark.parametrize("args", STARTING, ids=lambda a: a[0])
def test_an_unreachable_database_is_one_line_and_exit_code_2(args: list[str], tmp_path: Path) -> None:
    """A PostgreSQL that does not answer was a 53–61-line traceback from a migration or a lifespan."""
    port = _closed_port()
    env = _clean_env(tmp_path, ATELIER_DATABASE_URL=f"postgresql://atelier:hunter2@127.0.0.1:{port}/atelier")
    result = _atelier(args, env, tmp_path)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"atelier {args[0]}: PostgreSQL at postgresql://atelier:***@127.0.0.1:{port}/atelier "
                           "is unreachable (")
    assert line.endswith("start it, or correct ATELIER_DATABASE_URL / ATELIER_POSTGRES_SERVER_URL")
    assert "hunter2" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "data").exists()  # nothing created: no keys, no SQLite files


@pytest.mark.parametrize("args", [["migrate"], ["serve", "identity", "--port", "0"]], ids=lambda a: a[0])
def test_a_server_that_refuses_the_role_is_quoted_not_called_unreachable(args: list[str], tmp_path: Path,
                                                                        postgres_server_url: str) -> None:
    """A wrong role was reported as a server to start; the server had answered, and said why."""
    host = postgres_server_url.rsplit("@", 1)[-1].split("/", 1)[0]
    env = _clean_env(tmp_path, ATELIER_DATABASE_URL=f"postgresql://nobody:hunter2@{host}/atelier")
    result = _atelier(args, env, tmp_path)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line == (f"atelier {args[0]}: PostgreSQL at postgresql://nobody:***@{host}/atelier refused the "
                    'connection: role "nobody" does not exist; correct ATELIER_DATABASE_URL / ATELIER_POSTGRES_SERVER_URL')


@pytest.mark.parametrize("args", [["serve", "orders", "--port", "0"], ["worker", "orders"]], ids=lambda a: a[0])
def test_an_unreachable_broker_is_one_line_and_exit_code_2(args: list[str], tmp_path: Path) -> None:
    port = _closed_port()
    result = _atelier(args, _clean_env(tmp_path, ATELIER_BUS="rabbitmq",
                                       ATELIER_AMQP_URL=f"amqp://guest:guest@127.0.0.1:{port}/"), tmp_path)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"atelier {args[0]}: RabbitMQ at 127.0.0.1:{port} is unreachable (")
    assert line.endswith("start it, or correct ATELIER_AMQP_URL")


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("ATELIER_DATABASE_URL", "notaurl",
     "configuration error: database_url (ATELIER_DATABASE_URL): not a PostgreSQL or SQLite URL"),
    ("ATELIER_ORDERS_DATABASE_URL", "mysql://root@db/orders",
     "configuration error: database_url (ATELIER_ORDERS_DATABASE_URL): not a PostgreSQL or SQLite URL"),
    ("ATELIER_AMQP_URL", "guest:guest@rabbit:5672",
     "configuration error: amqp_url (ATELIER_AMQP_URL): not an AMQP URL"),
], ids=["not-a-url", "another-database", "amqp"])
def test_an_unusable_server_url_is_a_configuration_error(variable: str, value: str, message: str,
                                                         tmp_path: Path) -> None:
    result = _atelier(["migrate"], _clean_env(tmp_path, **{variable: value}), tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines and all(line.startswith(message) for line in lines), lines
    assert value not in result.stderr  # a URL may carry a password: never echoed
