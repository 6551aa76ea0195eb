"""`atelier up`'s process list: what runs, and how a service API is scaled out."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from atelier_gateway.settings import SERVICES
from atelier_platform.cli import app
from atelier_platform.preflight import postgres_problem
from atelier_platform.processes import ServerConnections, Topology


def _commands(**kwargs) -> dict[str, list[str]]:
    topology = Topology(postgres="postgresql://pg", amqp="amqp://mq", data_dir=Path("/tmp/x"), **kwargs)
    return {name: command for name, command, _ in topology.commands()}


def test_split_topology_runs_api_relay_consumer_and_housekeeping_per_service_and_one_gateway() -> None:
    commands = _commands()
    for service in SERVICES:
        assert {f"{service}-api", f"{service}-relay", f"{service}-consumer", f"{service}-housekeeping"} <= set(commands)
        assert commands[f"{service}-housekeeping"][-4:] == ["worker", service, "--role", "housekeeping"]
    assert "generation-worker" in commands and "gateway" in commands
    assert not any(name.endswith("-housekeeping") for name in _commands(split=False))  # in the one process


def test_api_workers_scale_one_service_out() -> None:
    commands = _commands(split=False, api_workers={"catalog": 3})
    workers = {name: command[command.index("--workers") + 1]
               for name, command in commands.items() if "serve" in command}
    assert workers == {service: "3" if service == "catalog" else "1" for service in SERVICES}


def test_api_processes_each_listen_on_a_port_of_their_own_that_the_gateway_and_services_are_given() -> None:
    topology = Topology(postgres="postgresql://pg", amqp="amqp://mq", base_port=8101, api_processes=2)
    commands = {name: (command, extra) for name, command, extra in topology.commands()}
    ports = {name: command[command.index("--port") + 1] for name, (command, _) in commands.items() if "serve" in command}
    # The first process of each service keeps its port; the second ones take the next block.
    assert ports["identity-api"] == "8101" and ports["orders-api"] == "8104" and ports["orders-api-2"] == "8110"
    assert len(set(ports.values())) == len(ports) == 2 * len(SERVICES)
    assert commands["orders-api-2"][1] == {"ATELIER_ORDERS_ROLES": '["api"]'}
    urls = json.loads(topology.env()["ATELIER_SERVICE_URLS"])
    assert urls["orders"] == ["http://127.0.0.1:8104", "http://127.0.0.1:8110"]
    assert topology.service_urls()["orders"] == "http://127.0.0.1:8104"
    # One process: the setting as it always was, one URL per service.
    assert json.loads(Topology(postgres="p", amqp="a").env()["ATELIER_SERVICE_URLS"])["orders"] == "http://127.0.0.1:8104"
    # Each API process holds its pool; the relay, consumers and housekeeping stay one each.
    single = Topology(postgres="p", amqp="a")
    assert topology.connections_needed() == single.connections_needed() + 5 * len(SERVICES)


def test_without_split_the_extra_api_processes_serve_the_api_only() -> None:
    topology = Topology(postgres="p", amqp="a", split=False, api_processes=2)
    commands = {name: extra for name, _, extra in topology.commands()}
    assert commands["orders"] == {} and commands["orders-2"] == {"ATELIER_ORDERS_ROLES": '["api"]'}
    # As an API process of the split topology: the API's pool only.
    assert topology.connections()["orders-2"] == Topology(postgres="p", amqp="a").connections()["orders-api"]


def test_up_plan_shows_the_api_processes_and_what_production_needs(monkeypatch) -> None:
    monkeypatch.setattr(Topology, "run", lambda self: pytest.fail("--plan started the platform"))
    monkeypatch.setattr("atelier_platform.processes.cpu_cores", lambda: 2)
    one = CliRunner().invoke(app, ["up", "--plan"])
    assert "1 API process per service (production: 2 at least, --api-processes 2)" in one.output
    two = CliRunner().invoke(app, ["up", "--plan", "--api-processes", "2"])
    assert "2 API processes per service;" in two.output
    assert "orders-api-2" in two.output and "atelier serve orders --host 127.0.0.1 --port 8110" in two.output
    monkeypatch.setattr("atelier_platform.processes.cpu_cores", lambda: 4)
    assert "2 API processes per service;" in CliRunner().invoke(app, ["up", "--plan"]).output


def test_the_gateway_runs_in_several_processes_on_one_port(monkeypatch) -> None:
    gateway = _commands(gateway_workers=3)["gateway"]
    assert gateway[gateway.index("--workers") + 1] == "3"
    # `atelier up` gives the gateway half the cores (the services run on them too), at least one,
    # unless told otherwise.
    chosen: list[int] = []
    monkeypatch.setattr(Topology, "run", lambda self: chosen.append(self.gateway_workers) or 0)
    for cores in (4, 2, 1):
        monkeypatch.setattr("atelier_platform.processes.cpu_cores", lambda cores=cores: cores)
        assert CliRunner().invoke(app, ["up"]).exit_code == 0
    assert CliRunner().invoke(app, ["up", "--gateway-workers", "2"]).exit_code == 0
    assert chosen == [2, 1, 1, 2]


def test_up_refuses_a_malformed_workers_option() -> None:
    result = CliRunner().invoke(app, ["up", "--workers", "catalog=two"])
    assert result.exit_code == 2 and "SERVICE=N" in result.output
    result = CliRunner().invoke(app, ["up", "--workers", "billing=2"])
    assert result.exit_code == 2


def test_probe_ports_for_every_process_without_an_api() -> None:
    topology = Topology(postgres="postgresql://pg", amqp="amqp://mq", data_dir=Path("/tmp/x"), probe_base_port=9300)
    ports = {name: extra.get("ATELIER_PROBE_PORT") for name, _, extra in topology.commands()}
    probed = {name: port for name, port in ports.items() if port}
    assert set(probed) == {name for name in ports if name.endswith(("-relay", "-consumer", "-worker", "-housekeeping"))}
    assert sorted(int(p) for p in probed.values()) == list(range(9300, 9300 + len(probed)))
    assert not any(ports[name] for name in ports if name.endswith("-api") or name == "gateway")
    assert not any(extra for _, _, extra in Topology(postgres="p", amqp="a").commands() if "ATELIER_PROBE_PORT" in extra)


def test_the_default_topology_fits_a_default_postgresql() -> None:
    topology = Topology(postgres="postgresql://postgres@127.0.0.1:5432/postgres", amqp="amqp://guest:guest@127.0.0.1/")
    # 6 × (api 5 + relay 1 + consumer 2 + housekeeping 1) + generation's and identity's workers 2 each
    assert topology.connections_needed() == 58 <= 80  # 80 % of max_connections=100
    scaled = Topology(postgres=topology.postgres, amqp=topology.amqp, api_workers={"catalog": 2})
    assert scaled.connections_needed() == topology.connections_needed() + 5


def test_up_plan_prints_the_processes_and_their_connections_and_starts_nothing(monkeypatch) -> None:
    """The figures the docs once typed (and got wrong) are the command's to print."""
    monkeypatch.setattr(Topology, "run", lambda self: pytest.fail("--plan started the platform"))
    monkeypatch.setattr("atelier_platform.processes.cpu_cores", lambda: 2)
    result = CliRunner().invoke(app, ["up", "--plan"])
    assert result.exit_code == 0, result.output
    default = Topology(postgres="p", amqp="a")
    names = [name for name, _, _ in default.commands()]
    assert f"atelier up starts {len(names)} processes" in result.output
    listed = [line.split()[0] for line in result.output.splitlines() if line.startswith("  ")][1:]
    assert listed == names
    assert "atelier worker orders --role consumer" in result.output
    assert f"PostgreSQL connections: at most {default.connections_needed()} " in result.output
    assert "max_connections >= 73" in result.output  # 58 is 80 % of 72.5
    scaled = CliRunner().invoke(app, ["up", "--plan", "--workers", "catalog=2"])
    assert f"at most {default.connections_needed() + 5} " in scaled.output
    assert "catalog-api" in scaled.output and "--workers 2" in scaled.output


def test_a_topology_too_big_for_the_server_is_refused_with_one_clear_line(postgres_server_url: str) -> None:
    url = postgres_server_url
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1) + "/postgres") as conn:
        allowed = int(conn.execute("SHOW max_connections").fetchone()[0])
    # Enough catalog processes to pass 80 % of whatever this server allows (5 connections each).
    workers = allowed // 5 + 1
    topology = Topology(postgres=url, amqp="amqp://guest:guest@127.0.0.1/", api_workers={"catalog": workers})
    message = topology.check_connection_budget(count_in_use=False)
    assert message is not None and "max_connections" in message and "PgBouncer" in message
    # Whatever else this (shared) test server holds at the moment is test_connections_in_use_count's.
    default = Topology(postgres=url, amqp="amqp://guest:guest@127.0.0.1/")
    assert default.check_connection_budget(count_in_use=False) is None


def test_connections_in_use_on_the_server_count_against_the_topology() -> None:
    # Figures, not the shared test server: other tests open and close connections on it all the time.
    server = ServerConnections(allowed=100, reserved=3, in_use=40)
    assert server.refuses(57) is None  # 100 - 3 - 40 = 57 free
    message = server.refuses(58)
    assert message is not None and "only 57 of the server's max_connections=100 are free" in message
    assert "40 in use by other clients, 3 kept for superusers" in message and "58 PostgreSQL" in message
    assert server.refuses(58, count_in_use=False) is None
    assert "more than 80 %" in (ServerConnections(allowed=100, reserved=3, in_use=0).refuses(81) or "")


def test_the_server_read_counts_the_connections_other_clients_hold(postgres_server_url: str) -> None:
    import psycopg

    url = postgres_server_url.replace("postgresql+psycopg://", "postgresql://", 1) + "/postgres"
    with psycopg.connect(url) as conn:
        allowed = int(conn.execute("SHOW max_connections").fetchone()[0])
        reserved = int(conn.execute("SHOW superuser_reserved_connections").fetchone()[0])
    held = [psycopg.connect(url) for _ in range(3)]
    try:
        server = ServerConnections.read(postgres_server_url)
    finally:
        for conn in held:
            conn.close()
    assert (server.allowed, server.reserved) == (allowed, reserved)
    assert server.in_use >= len(held)  # whatever else the shared server holds, these three count


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_server_is_one_clear_line_before_anything_is_created(tmp_path: Path) -> None:
    port = _closed_port()
    down = Topology(postgres=f"postgresql://postgres@127.0.0.1:{port}", amqp="amqp://guest:guest@127.0.0.1/",
                    data_dir=tmp_path / "data")
    message = down.unreachable()
    assert message is not None and message.startswith(f"PostgreSQL at postgresql://postgres@127.0.0.1:{port}")
    assert "--postgres" in message and "\n" not in message
    assert down.run() == 2
    assert not (tmp_path / "data").exists()  # nothing created: no keys, no databases


def test_a_server_that_refuses_the_role_says_so(postgres_server_url: str) -> None:
    host = postgres_server_url.rsplit("@", 1)[-1].split("/", 1)[0]
    message = Topology(postgres=f"postgresql://nobody@{host}", amqp="amqp://guest:guest@127.0.0.1/").unreachable()
    assert message == (f'PostgreSQL at postgresql://nobody@{host} refused the connection: role "nobody" does not '
                       "exist; correct --postgres")


def test_an_unreachable_broker_is_named(postgres_server_url: str) -> None:
    port = _closed_port()
    message = Topology(postgres=postgres_server_url, amqp=f"amqp://guest:guest@127.0.0.1:{port}/").unreachable()
    assert message is not None and message.startswith(f"RabbitMQ at 127.0.0.1:{port} is unreachable")


def test_a_cluster_is_reachable_while_one_of_its_brokers_is(postgres_server_url: str, amqp_url: str) -> None:
    """ATELIER_AMQP_URL with a cluster's nodes: the processes connect to the first that answers,
    so a node down is no reason to refuse to start; all of them down is, each named."""
    down, other = _closed_port(), _closed_port()
    one_up = Topology(postgres=postgres_server_url, amqp=f"amqp://guest:guest@127.0.0.1:{down}/,{amqp_url}")
    assert one_up.unreachable() is None
    none_up = Topology(postgres=postgres_server_url,
                       amqp=f"amqp://guest:guest@127.0.0.1:{down}/,amqp://guest:guest@127.0.0.1:{other}/")
    message = none_up.unreachable()
    assert message is not None and message.startswith(f"RabbitMQ at 127.0.0.1:{down} is unreachable")
    assert f"127.0.0.1:{other} is unreachable" in message and "guest" not in message


def test_a_primary_with_standbys_is_reached_through_its_list_of_hosts(postgres_server_url: str) -> None:
    """A server URL naming a host that is down and the one that answers (a primary and its standby,
    libpq's list): the checks before starting reach the one that answers, as the services do."""
    host_port = postgres_server_url.split("@", 1)[1].split("/", 1)[0]
    both = postgres_server_url.replace(host_port, f"127.0.0.1:{_closed_port()},{host_port}", 1)
    topology = Topology(postgres=f"{both}/?target_session_attrs=read-write", amqp="amqp://guest:guest@127.0.0.1/")
    assert postgres_problem(topology.postgres) is None
    assert topology.check_connection_budget(count_in_use=False) is None


def test_a_child_that_fails_slowly_still_trips_the_restart_limit() -> None:
    topology = Topology(postgres="postgresql://x", amqp="amqp://x")
    # One restart every 30 s: never 6 in a minute, but 11 in ten minutes.
    times = [30.0 * n for n in range(11)]
    assert not topology.too_many_restarts(times[:10], now=times[9])
    assert topology.too_many_restarts(times, now=times[10])
    # A burst trips the per-minute limit.
    assert topology.too_many_restarts([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], now=6.0)


def test_dev_gives_every_process_the_embedded_modes_dev_settings(monkeypatch) -> None:
    from atelier_platform.processes import DEV_SETTINGS

    monkeypatch.delenv("ATELIER_DEV_ENDPOINTS", raising=False)
    monkeypatch.delenv("ATELIER_CATALOG_SEED_DEMO_DATA", raising=False)
    plain = Topology(postgres="postgresql://pg", amqp="amqp://mq").env()
    assert not DEV_SETTINGS.keys() & plain.keys()
    dev = Topology(postgres="postgresql://pg", amqp="amqp://mq", dev=True).env()
    assert dev["ATELIER_DEV_ENDPOINTS"] == "true" and dev["ATELIER_CATALOG_SEED_DEMO_DATA"] == "true"
    # The settings the embedded mode turns on, read by every child from that environment.
    from atelier_platform.embedded import settings_class

    for name, value in DEV_SETTINGS.items():
        monkeypatch.setenv(name, value)
    assert settings_class("catalog")().seed_demo_data is True
    assert all(settings_class(s)().dev_endpoints for s in ("identity", "payments"))
    # A variable set explicitly wins.
    monkeypatch.setenv("ATELIER_CATALOG_SEED_DEMO_DATA", "false")
    assert Topology(postgres="p", amqp="a", dev=True).env()["ATELIER_CATALOG_SEED_DEMO_DATA"] == "false"


def test_dev_is_refused_in_production_before_anything_starts(tmp_path: Path) -> None:
    topology = Topology(postgres="postgresql://postgres@127.0.0.1:1", amqp="amqp://guest:guest@127.0.0.1:1/",
                        data_dir=tmp_path / "data", dev=True, extra_env={"ATELIER_ENVIRONMENT": "production"})
    assert topology.run() == 2
    assert not (tmp_path / "data").exists()


# Run in a fresh interpreter: forking pytest's process, with its threads, could leave a lock held.
FORKING = """
import json, os, signal, sys, time, urllib.error, urllib.request
from atelier_platform.cli import run
from atelier_platform.processes import fork, preload

port, data_dir = sys.argv[1], sys.argv[2]
env = {**os.environ, "ATELIER_DATA_DIR": data_dir}
preload()
failed = fork([sys.executable, "-m", "atelier_platform.cli", "worker", "billing"], env, run)
gateway = fork([sys.executable, "-m", "atelier_platform.cli", "gateway", "--port", port], env, run)
answered, deadline = None, time.monotonic() + 120
while answered is None and time.monotonic() < deadline:
    try:
        answered = urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5).status
    except urllib.error.HTTPError as exc:
        answered = exc.code
    except OSError:
        time.sleep(0.1)
title = open(f"/proc/{gateway.pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode().strip()
own_session = os.getsid(gateway.pid) == gateway.pid
gateway.send_signal(signal.SIGTERM)
print(json.dumps({"failed": failed.wait(60), "answered": answered, "title": title, "own_session": own_session,
                  "stopped": gateway.wait(60)}))
"""


def test_a_forked_child_runs_its_command_under_its_own_name_environment_and_session(tmp_path: Path) -> None:
    import json
    import signal
    import subprocess
    import sys

    port = _closed_port()
    ran = subprocess.run([sys.executable, "-c", FORKING, str(port), str(tmp_path / "data")],
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    result = json.loads(ran.stdout.strip().splitlines()[-1])
    assert result["failed"] == 2  # `atelier worker billing`: an unknown service, refused as a fresh process would
    assert result["answered"] in (200, 503)  # the gateway served (503 while no service runs)
    assert result["title"] == f"atelier gateway --port {port}"  # what ps shows: the role, not `atelier up`
    assert result["own_session"]  # a Ctrl-C in the terminal reaches `atelier up` only
    # SIGTERM: a clean stop (uvicorn raises the signal again once shut down, as in a fresh process)
    assert result["stopped"] == -signal.SIGTERM and "Application shutdown complete" in ran.stderr
    assert (tmp_path / "data" / "keys" / "gateway-anon.pem").exists()  # it ran with the environment it was given


def test_nothing_preloaded_starts_a_thread() -> None:
    """A thread running when `atelier up` forks would leave its locks held in the child."""
    import subprocess
    import sys

    probe = "import os; from atelier_platform.processes import preload; preload(); print(len(os.listdir('/proc/self/task')))"
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                         env={k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"})
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "1"


def test_uvicorn_never_rewrites_the_client_from_proxy_headers(monkeypatch, tmp_path: Path) -> None:
    """The gateway's `trusted_proxies` is the one mechanism: uvicorn's own (trusting 127.0.0.1 by
    default) would let a client next to the platform pick its address and scheme."""
    import uvicorn

    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.setenv("ATELIER_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(app, ["gateway"]).exit_code == 0
    assert runner.invoke(app, ["serve", "catalog"]).exit_code == 0
    assert len(calls) == 2 and all(call["proxy_headers"] is False for call in calls)


def test_the_gateway_keeps_idle_connections_longer_than_a_balancer_or_a_client_pool(monkeypatch, tmp_path: Path) -> None:
    """uvicorn's 5 s closed idle connections as clients (httpx's pool keeps them 5 s) reused them:
    requests failed unanswered under load. The gateway keeps them `keep_alive_seconds`."""
    import uvicorn

    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.setenv("ATELIER_DATA_DIR", str(tmp_path))
    assert CliRunner().invoke(app, ["gateway"]).exit_code == 0
    monkeypatch.setenv("ATELIER_GATEWAY_KEEP_ALIVE_SECONDS", "120")
    assert CliRunner().invoke(app, ["gateway"]).exit_code == 0
    assert [call["timeout_keep_alive"] for call in calls] == [75, 120]
