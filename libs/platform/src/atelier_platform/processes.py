"""`atelier up`: the distributed topology as child processes on one machine.

One process per service API (or `api_processes` of them, each on its own port, which the gateway
spreads requests over), per outbox relay, per consumer group and per housekeeping loop (or one per
service with --no-split), plus the gateway; all against existing PostgreSQL and RabbitMQ servers.
A child that exits is started again, like a container orchestrator would (a child that keeps
failing stops everything). Ctrl-C (or SIGTERM) stops every child cleanly.

On Linux the children are forked from this process after it has imported every service once
(`preload`): a fresh interpreter spends seconds importing FastAPI, SQLAlchemy, pydantic and a
service's models, and two dozen of them on a small machine took minutes to start. Each forked child
runs the same `atelier serve|worker|gateway` command a fresh one would, under its own process
title and session.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import json
import math
import os
import signal
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import psycopg

from atelier_common.db import pool_for_roles
from atelier_common.fast.protocol import UVICORN_MODULES
from atelier_common.keys import SigningKey
from atelier_common.settings import libpq_conninfo
from atelier_gateway.settings import SERVICES, WORKER_SERVICES
from atelier_platform.preflight import broker_problem, postgres_problem

# The embedded mode's development defaults (`embedded.service_settings`), as the environment of
# the distributed processes: /api/dev/mailbox, /api/dev/checkout and /api/dev/subscriptions
# answer, catalog seeds the demo data and identity the five seed storefronts at start
# (idempotent, safe from several processes).
DEV_SETTINGS = {"ATELIER_DEV_ENDPOINTS": "true", "ATELIER_OUTBOUND_WEBHOOKS_ALLOW_PRIVATE_URLS": "true",
                "ATELIER_CATALOG_SEED_DEMO_DATA": "true",
                "ATELIER_IDENTITY_SEED_DEMO_STOREFRONTS": "true"}


# How every child (and the migration) is started: `atelier <command>` in this Python.
CLI = (sys.executable, "-m", "atelier_platform.cli")
# The `atelier` command's entry: runs one command line (its arguments, without the program name).
RunCli = Callable[[list[str]], object]

# What the children import, once, before they are forked (`preload`); what is not here a child
# imports itself, as a fresh process would.
PRELOADED = (*(f"atelier_{service}.app" for service in SERVICES), "atelier_gateway.app", "atelier_common.service",
             "atelier_platform.gateway", "atelier_platform.cli", "atelier_common.fast.protocol", *UVICORN_MODULES)


def preload() -> None:
    """Import what every child runs, here, so that forked children start without ~3 s of imports
    each; then freeze the objects so the children's garbage collector does not copy their pages."""
    # No other thread may run here when a child is forked: the child would get its locks in
    # whatever state they were, without the thread. OpenBLAS (numpy and OpenCV, for generation)
    # starts a pool at import unless told to use one thread.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    for module in PRELOADED:
        importlib.import_module(module)
    gc.freeze()


class Forked:
    """A child forked from this process, with the part of `subprocess.Popen` that `Topology` uses."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0)
            time.sleep(0.05)
        return code

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def fork(command: list[str], env: dict[str, str], run_cli: RunCli) -> Forked:
    """Run `command` (`CLI` and its arguments) in a child forked from this process, where `run_cli`
    (the `atelier` command's entry, handed in by the CLI itself) runs the arguments."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return Forked(pid)
    _become(command[len(CLI):], env, run_cli)


def _become(args: list[str], env: dict[str, str], run_cli: RunCli) -> NoReturn:
    """In a forked child: be `atelier <args>` as a fresh process would, then exit, never returning
    into the parent's code."""
    from setproctitle import setproctitle

    code = 1
    try:
        os.setsid()  # as start_new_session: a Ctrl-C in the terminal reaches the parent only
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        sys.argv = ["atelier", *args]
        # What ps and /proc/<pid>/cmdline show: the role. Before the environment changes, which
        # setproctitle needs intact to find the memory it rewrites.
        setproctitle(" ".join(sys.argv))
        os.environ.clear()
        os.environ.update(env)
        run_cli(args)
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:  # reported; the child exits and `atelier up` starts it again
        traceback.print_exc()
    finally:
        # What an interpreter does at exit (flush the telemetry exporters, the logs), then leave.
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def cpu_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def default_gateway_workers() -> int:
    """`atelier up`'s gateway processes: half the cores, at least one, for the services behind it
    run on the same cores. Measured on 2 cores (a proxied cheap route, `wrk -c32`, seven runs
    each): with two gateway processes the route ran at a median 0.74 of calling the service
    directly, with one at 0.89 (docs/benchmarks.md). A gateway on a machine of its own
    (`atelier gateway --workers 0`) takes every core."""
    return max(1, cpu_cores() // 2)


def default_api_processes() -> int:
    """`atelier up`'s API processes per service: two from four cores on, so that a process that
    dies leaves a sibling serving its service (the gateway sends the requests it refused there); one
    on a smaller machine, where six more processes cost more memory and start time than they are
    worth to a developer. Production wants two at least (docs/operations.md)."""
    return 2 if cpu_cores() >= 4 else 1


def redis_only_degraded(health: bytes) -> str | None:
    """Redis's error when it alone makes `/api/health` degraded: the platform serves without it."""
    try:
        report = json.loads(health)
        redis = report["gateway"].get("redis", "ok")
        serving = report["gateway"]["broker"] == "ok" and all(
            s["status"] == "healthy" for s in report["services"].values())
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return str(redis) if serving and redis != "ok" else None


@dataclass(frozen=True)
class ServerConnections:
    """What a PostgreSQL server allows, keeps for superusers and has in use by client backends."""

    allowed: int
    reserved: int
    in_use: int

    @classmethod
    def read(cls, url: str) -> ServerConnections:
        with psycopg.connect(libpq_conninfo(url, dbname="postgres"), connect_timeout=5) as conn:
            row = conn.execute("SHOW max_connections").fetchone()
            reserved_row = conn.execute("SHOW superuser_reserved_connections").fetchone()
            # Client backends only (not the server's own workers), and not this check's connection.
            used_row = conn.execute("SELECT count(*) FROM pg_stat_activity "
                                    "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()").fetchone()
        return cls(allowed=int(row[0]) if row else 100, reserved=int(reserved_row[0]) if reserved_row else 3,
                   in_use=int(used_row[0]) if used_row else 0)

    def refuses(self, needed: int, *, count_in_use: bool = True) -> str | None:
        """Why `needed` connections do not fit this server (above 80 % of max_connections, or, with
        `count_in_use`, more than stay free), else None."""
        advice = "raise max_connections, lower ATELIER_DB_POOL_SIZE / ATELIER_DB_MAX_OVERFLOW or --workers, " \
                 "or put PgBouncer in front"
        if needed > 0.8 * self.allowed:
            return (f"this topology may hold {needed} PostgreSQL connections, more than 80 % of the server's "
                    f"max_connections={self.allowed}: {advice}")
        free = self.allowed - self.reserved - self.in_use
        if count_in_use and needed > free:
            return (f"this topology may hold {needed} PostgreSQL connections, but only {free} of the server's "
                    f"max_connections={self.allowed} are free ({self.in_use} in use by other clients, "
                    f"{self.reserved} kept for superusers): close them, {advice}")
        return None


@dataclass
class Topology:
    postgres: str
    amqp: str
    host: str = "127.0.0.1"
    port: int = 8000
    base_port: int = 8101
    split: bool = True
    data_dir: Path = Path(".atelier")
    extra_env: dict[str, str] = field(default_factory=dict)
    # Uvicorn worker processes per service API (default 1): scaling one service out on this machine.
    api_workers: dict[str, int] = field(default_factory=dict)
    # API processes per service, each on its own port (`api_urls`): the gateway spreads requests
    # over them and sends one a process refused to a sibling, so one that dies is not an outage.
    api_processes: int = 1
    # Gateway processes sharing its port (`atelier up`: `default_gateway_workers()` unless told otherwise).
    gateway_workers: int = 1
    # Fork the children from this process after importing every service once (`atelier up` on
    # Linux; this process must have no other thread then); else each child is a fresh interpreter.
    preload: bool = False
    # What a forked child runs its arguments with (`atelier_platform.cli.run`); required with `preload`.
    run_cli: RunCli | None = None
    children: list[tuple[str, subprocess.Popen[bytes] | Forked]] = field(default_factory=list)
    max_restarts_per_minute: int = 5
    # A child that fails slowly (each run lasting a while) trips this wider limit instead.
    max_restarts_per_window: int = 10
    restart_window_seconds: float = 600.0
    # When set, the relay, consumer, worker and housekeeping processes serve /health, /ready and /metrics on
    # consecutive ports from here (ATELIER_PROBE_PORT), in the order of `commands()`.
    probe_base_port: int = 0
    # `atelier up --dev`: what `atelier dev` turns on, the demo catalog, the dev mailbox and the
    # dev checkout pages (`DEV_SETTINGS`); variables set explicitly still win.
    dev: bool = False

    def api_urls(self) -> dict[str, list[str]]:
        """Each service's API processes' base URLs: the first on `base_port` + its index, the next
        ones a block of `len(SERVICES)` ports further each (the first ones stay where they were)."""
        return {s: [f"http://{self.host}:{self.base_port + k * len(SERVICES) + i}" for k in range(self.api_processes)]
                for i, s in enumerate(SERVICES)}

    def service_urls(self) -> dict[str, str]:
        """Each service's first API process (what a benchmark calls directly)."""
        return {s: urls[0] for s, urls in self.api_urls().items()}

    def ports_used(self) -> int:
        """How many ports from `base_port` on the API processes take."""
        return self.api_processes * len(SERVICES)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "ATELIER_BUS": "rabbitmq",
            "ATELIER_POSTGRES_SERVER_URL": self.postgres,
            "ATELIER_AMQP_URL": self.amqp,
            "ATELIER_SERVICE_URLS": json.dumps({s: urls[0] if len(urls) == 1 else urls
                                                for s, urls in self.api_urls().items()}),
            "ATELIER_JWKS_URL": f"http://{self.host}:{self.port}/.well-known/jwks.json",
            "ATELIER_AUTO_MIGRATE": "false",
            "ATELIER_DATA_DIR": str(self.data_dir.resolve()),
        })
        if self.dev:
            for name, value in DEV_SETTINGS.items():
                env.setdefault(name, value)
        env.setdefault("ATELIER_PUBLIC_BASE_URL", f"http://{'localhost' if self.host == '127.0.0.1' else self.host}:{self.port}")
        env.update(self.extra_env)
        return env

    def commands(self) -> list[tuple[str, list[str], dict[str, str]]]:
        cli = list(CLI)
        out: list[tuple[str, list[str], dict[str, str]]] = []
        urls = self.api_urls()
        for service in SERVICES:
            roles = f"ATELIER_{service.upper()}_ROLES"
            serves = [[*cli, "serve", service, "--host", self.host, "--port", url.rsplit(":", 1)[1],
                       "--workers", str(self.api_workers.get(service, 1))] for url in urls[service]]
            serve, more = serves[0], serves[1:]
            if self.split:
                out.append((f"{service}-api", serve, {roles: '["api"]'}))
                out += [(f"{service}-api-{k}", command, {roles: '["api"]'}) for k, command in enumerate(more, 2)]
                out.append((f"{service}-relay", [*cli, "worker", service, "--role", "relay"], {}))
                out.append((f"{service}-consumer", [*cli, "worker", service, "--role", "consumer"], {}))
                if service in WORKER_SERVICES:
                    out.append((f"{service}-worker", [*cli, "worker", service, "--role", "worker"], {}))
                # Every service has sweeps (its published outbox rows and old inbox rows at least).
                out.append((f"{service}-housekeeping", [*cli, "worker", service, "--role", "housekeeping"], {}))
            else:
                out.append((service, serve, {}))
                # The relay, consumers and housekeeping run in the first: the others serve the API only.
                out += [(f"{service}-{k}", command, {roles: '["api"]'}) for k, command in enumerate(more, 2)]
        out.append(("gateway", [*cli, "gateway", "--host", self.host, "--port", str(self.port),
                                "--workers", str(self.gateway_workers)], {}))
        if self.probe_base_port:
            workers = [(name, extra) for name, command, extra in out if "worker" in command]
            for offset, (_, extra) in enumerate(workers):
                extra.update({"ATELIER_PROBE_PORT": str(self.probe_base_port + offset),
                              "ATELIER_PROBE_HOST": self.host})
        return out

    def connections(self) -> dict[str, int]:
        """The most PostgreSQL connections each child can hold at once (`db.pool_for_roles`; the
        gateway holds none), by the name `commands()` gives it."""
        env = self.env()
        size = int(env["ATELIER_DB_POOL_SIZE"]) if env.get("ATELIER_DB_POOL_SIZE") else None
        overflow = int(env["ATELIER_DB_MAX_OVERFLOW"]) if env.get("ATELIER_DB_MAX_OVERFLOW") else None
        out = {}
        for name, _command, _extra in self.commands():
            if name == "gateway":
                out[name] = 0
                continue
            service, _, role = name.partition("-")
            role = role.rstrip("-0123456789")  # orders-api-2: an API process; orders-2: one too (--no-split)
            if not role and name != service:
                role = "api"
            roles = [role] if role else ["api", "relay", "consumer", "worker", "housekeeping"]
            workers = self.api_workers.get(service, 1) if role in ("api", "") else 1
            out[name] = workers * sum(pool_for_roles(roles, size, overflow))
        return out

    def connections_needed(self) -> int:
        """The most PostgreSQL connections the children can hold at once."""
        return sum(self.connections().values())

    def plan(self) -> str:
        """`atelier up --plan`: the children this topology starts, each with its command and the
        PostgreSQL connections it may hold, and their sum against the 80 % rule of `run`."""
        connections = self.connections()
        rows = [(name, " ".join(["atelier", *command[len(CLI):]]), str(connections[name]))
                for name, command, _extra in self.commands()]
        widths = [max(len(row[i]) for row in [("process", "command", "PostgreSQL"), *rows]) for i in range(2)]
        lines = [f"atelier up starts {len(rows)} processes ({'split' if self.split else '--no-split'}; "
                 f"{self.api_processes} API process{'es' if self.api_processes > 1 else ''} per service"
                 f"{'' if self.api_processes > 1 else ' (production: 2 at least, --api-processes 2)'}; "
                 f"the gateway runs {self.gateway_workers} worker process{'es' if self.gateway_workers > 1 else ''}):",
                 f"  {'process':<{widths[0]}}  {'command':<{widths[1]}}  PostgreSQL"]
        lines += [f"  {name:<{widths[0]}}  {command:<{widths[1]}}  {count:>10}" for name, command, count in rows]
        needed = self.connections_needed()
        lines.append(f"PostgreSQL connections: at most {needed} (each process's pool: ATELIER_DB_POOL_SIZE + "
                     "ATELIER_DB_MAX_OVERFLOW, by its roles unless set)")
        lines.append(f"atelier up refuses a topology above 80 % of the server's max_connections: this one needs "
                     f"max_connections >= {math.ceil(needed / 0.8)}")
        return "\n".join(lines)

    def check_connection_budget(self, *, count_in_use: bool = True) -> str | None:
        """A clear message when the topology could exhaust the server's connections, else None.

        `count_in_use`: the connections other clients already hold on that server (and those kept
        for superusers) are not this topology's to take, so they count against it too."""
        return ServerConnections.read(self.postgres).refuses(self.connections_needed(), count_in_use=count_in_use)

    def prepare(self) -> None:
        """Migrate every database and create the signing keys once, before any child starts (and,
        meanwhile, preload what the children run)."""
        env = self.env()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        SigningKey.load(None, self.data_dir / "keys" / "identity.pem")
        SigningKey.load(None, self.data_dir / "keys" / "gateway-anon.pem")
        migrate = subprocess.Popen([*CLI, "migrate"], env=env)
        try:
            if self.preload:
                preload()
        finally:
            returncode = migrate.wait()
        if returncode:
            raise subprocess.CalledProcessError(returncode, migrate.args)

    def start(self) -> None:
        env = self.env()
        self._launch = {name: (command, {**env, **extra}) for name, command, extra in self.commands()}
        for name in self._launch:
            self.children.append((name, self._spawn(name)))

    def _spawn(self, name: str) -> subprocess.Popen[bytes] | Forked:
        command, env = self._launch[name]
        if self.preload:
            assert self.run_cli is not None, "preload forks children: hand in the CLI's entry (run_cli)"
            return fork(command, env, self.run_cli)
        return subprocess.Popen(command, env=env, start_new_session=True)

    def restart_exited(self, restarts: dict[str, list[float]]) -> str | None:
        """Start again every child that exited; return the name of one that keeps failing."""
        now = time.monotonic()
        for index, (name, proc) in enumerate(self.children):
            if proc.poll() is None:
                continue
            recent = [t for t in restarts.get(name, []) if now - t < self.restart_window_seconds] + [now]
            restarts[name] = recent
            if self.too_many_restarts(recent, now):
                return name
            print(f"{name} exited with {proc.returncode}; starting it again", file=sys.stderr, flush=True)
            self.children[index] = (name, self._spawn(name))
        return None

    def too_many_restarts(self, times: list[float], now: float) -> bool:
        """Restarts at `times`: too many in the last minute, or in the wider window (slow failures)."""
        in_minute = sum(1 for t in times if now - t < 60)
        in_window = sum(1 for t in times if now - t < self.restart_window_seconds)
        return in_minute > self.max_restarts_per_minute or in_window > self.max_restarts_per_window

    def unreachable(self) -> str | None:
        """One line naming the server that does not answer or let us in and what to do, or None."""
        if server := postgres_problem(self.postgres):
            if server.answered:  # it answered and refused: what to correct is the URL
                return f"{server}; correct --postgres"
            return (f"{server}; start it (e.g. `pg_ctlcluster <version> main start`, or "
                    f"`docker compose -f deploy/compose.yaml up -d postgres`) or pass --postgres")
        if problem := broker_problem(self.amqp):
            return (f"{problem}; start it (e.g. `rabbitmq-server -detached`, or `docker compose -f "
                    f"deploy/compose.yaml up -d rabbitmq`) or pass --amqp")
        return None

    def wait_ready(self, timeout: float = 120.0) -> bool:
        deadline = time.monotonic() + timeout
        url = f"http://{self.host}:{self.port}/api/health"
        while time.monotonic() < deadline:
            if any(p.poll() is not None for _, p in self.children):
                return False
            try:
                with urllib.request.urlopen(url, timeout=3) as response:
                    if response.status == 200:
                        return True
            except urllib.error.HTTPError as exc:
                if exc.code == 503 and (redis := redis_only_degraded(exc.read())):
                    print(f"atelier up: serving without Redis ({redis}): no shared cache, rate limits per "
                          "process, until it answers (docs/redis.md)", file=sys.stderr, flush=True)
                    return True
            except OSError:
                pass
            time.sleep(0.5)
        return False

    def stop(self, timeout: float = 15.0) -> None:
        for _, proc in self.children:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for _, proc in self.children:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.children.clear()

    def run(self) -> int:
        if self.dev and self.env().get("ATELIER_ENVIRONMENT") == "production":
            print("atelier up: --dev turns on the dev endpoints, never in production (ATELIER_ENVIRONMENT)",
                  file=sys.stderr, flush=True)
            return 2
        # Before anything is created: one clear line, not a traceback, when a server is missing.
        # --dev (a developer's server, shared with whatever else runs there): the connections
        # others hold come and go, so too few free is a warning, not a refusal.
        if problem := self.unreachable() or self.check_connection_budget(count_in_use=not self.dev):
            print(f"atelier up: {problem}", file=sys.stderr, flush=True)
            return 2
        if self.dev and (warning := self.check_connection_budget()):
            print(f"atelier up: warning: {warning}", file=sys.stderr, flush=True)
        self.prepare()
        stopping = False

        def on_signal(signum: int, _frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        self.start()
        try:
            if self.wait_ready():
                print(f"Atelier (distributed) on http://{self.host}:{self.port} — Ctrl-C stops everything", flush=True)
            else:
                print("the platform did not become healthy; see the logs above", file=sys.stderr, flush=True)
            restarts: dict[str, list[float]] = {}
            while not stopping:
                if failing := self.restart_exited(restarts):
                    print(f"atelier up: {failing} keeps exiting; stopping everything", file=sys.stderr, flush=True)
                    return 1
                time.sleep(0.5)
        finally:
            self.stop()
        return 0
