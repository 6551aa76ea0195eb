"""`atelier up`'s process list: what runs, and how a service API is scaled out."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from atelier_gateway.settings import SERVICES
from atelier_platform.cli import app
from atelier_platform.processes import Topology


def _commands(**kwargs) -> dict[str, list[str]]:
    topology = Topology(postgres="postgresql://pg", amqp="amqp://mq", data_dir=Path("/tmp/x"), **kwargs)
    return {name: command for name, command, _ in topology.commands()}


def test_split_topology_runs_api_relay_and_consumer_per_service_and_one_gateway() -> None:
    commands = _commands()
    for service in SERVICES:
        assert {f"{service}-api", f"{service}-relay", f"{service}-consumer"} <= set(commands)
    assert "generation-worker" in commands and "gateway" in commands


def test_api_workers_scale_one_service_out() -> None:
    commands = _commands(split=False, api_workers={"catalog": 3})
    workers = {name: command[command.index("--workers") + 1]
               for name, command in commands.items() if "serve" in command}
    assert workers == {service: "3" if service == "catalog" else "1" for service in SERVICES}


def test_up_refuses_a_malformed_workers_option() -> None:
    result = CliRunner().invoke(app, ["up", "--workers", "catalog=two"])
    assert result.exit_code == 2 and "SERVICE=N" in result.output
    result = CliRunner().invoke(app, ["up", "--workers", "billing=2"])
    assert result.exit_code == 2


def test_probe_ports_for_every_process_without_an_api() -> None:
    topology = Topology(postgres="postgresql://pg", amqp="amqp://mq", data_dir=Path("/tmp/x"), probe_base_port=9300)
    ports = {name: extra.get("ATELIER_PROBE_PORT") for name, _, extra in topology.commands()}
    probed = {name: port for name, port in ports.items() if port}
    assert set(probed) == {name for name in ports if name.endswith(("-relay", "-consumer", "-worker"))}
    assert sorted(int(p) for p in probed.values()) == list(range(9300, 9300 + len(probed)))
    assert not any(ports[name] for name in ports if name.endswith("-api") or name == "gateway")
    assert not any(extra for _, _, extra in Topology(postgres="p", amqp="a").commands() if "ATELIER_PROBE_PORT" in extra)


def test_the_default_topology_fits_a_default_postgresql() -> None:
    topology = Topology(postgres="postgresql://postgres@127.0.0.1:5432/postgres", amqp="amqp://guest:guest@127.0.0.1/")
    assert topology.connections_needed() <= 80  # 80 % of max_connections=100
    scaled = Topology(postgres=topology.postgres, amqp=topology.amqp, api_workers={"catalog": 2})
    assert scaled.connections_needed() == topology.connections_needed() + 8


def test_a_topology_too_big_for_the_server_is_refused_with_one_clear_line(postgres_server_url: str) -> None:
    url = postgres_server_url
    topology = Topology(postgres=url, amqp="amqp://guest:guest@127.0.0.1/", api_workers={"catalog": 20})
    message = topology.check_connection_budget()
    assert message is not None and "max_connections" in message and "PgBouncer" in message
    assert Topology(postgres=url, amqp="amqp://guest:guest@127.0.0.1/").check_connection_budget() is None
