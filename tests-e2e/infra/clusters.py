"""A RabbitMQ cluster of three nodes and a PostgreSQL primary with a synchronous streaming standby,
started on this machine for the failover test (tests-e2e/platform/test_failover.py).

Each runs from the distribution's own binaries on free ports, with its data under one temporary
directory, and is torn down when its context ends, whatever happened: no server of the machine's
(the shared PostgreSQL on 5432, RabbitMQ on 5672) is touched. The RabbitMQ nodes get their own
names and Erlang cookie (registered with the machine's epmd, which is left running). PostgreSQL
refuses to run as root: as root, its commands run as the `postgres` user.

Missing binaries skip the test with the reason, or fail it under ATELIER_REQUIRE_INFRA=1.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from atelier_testing.infra import REQUIRE_ENV, infra_required
from atelier_testing.platform import free_port_block

STARTED_WITHIN_SECONDS = 120  # a deadline, never a wait: a node starts in ~6 s on an idle machine


def _missing(what: str) -> None:
    reason = f"the failover test needs {what} on this machine"
    if infra_required():
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _poll(check: Callable[[], bool], what: str, timeout: float = STARTED_WITHIN_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} not within {timeout} s")


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """A directory the `postgres` user can reach (pytest's own are its owner's only)."""
    root = Path(tempfile.mkdtemp(prefix="atelier-failover-"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


# ------------------------------------------------------------------------------------------ RabbitMQ


def _rabbitmq_bin() -> Path:
    # Debian's /usr/sbin/rabbitmq-server switches to the rabbitmq user when run as root; the
    # scripts it wraps run as whoever starts them, with the environment below.
    for folder in ("/usr/lib/rabbitmq/bin", "/usr/local/lib/rabbitmq/bin"):
        if Path(folder, "rabbitmq-server").exists():
            return Path(folder)
    found = shutil.which("rabbitmq-server")
    if found is None:
        _missing("rabbitmq-server (the RabbitMQ server)")
    return Path(found).resolve().parent  # type: ignore[arg-type]  # _missing never returns


@dataclass
class RabbitNode:
    name: str
    port: int
    dist_port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"


@dataclass
class RabbitCluster:
    """Three nodes clustered at their first start (classic peer discovery: the second and third
    join the first), quorum queues replicated over all three."""

    root: Path
    size: int = 3
    nodes: list[RabbitNode] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.bin = _rabbitmq_bin()
        self.root.mkdir()
        self.home = self.root / "home"  # the Erlang cookie of these nodes and of their CLI
        self.home.mkdir()
        cookie = self.home / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(20).upper())
        cookie.chmod(0o400)
        run = uuid.uuid4().hex[:8]
        base = free_port_block(2 * self.size)
        self.nodes = [RabbitNode(f"atelier{run}n{i + 1}@localhost", base + i, base + self.size + i)
                      for i in range(self.size)]
        (self.root / "plugins").write_text("[].")  # no plugin: faster starts
        (self.root / "env.conf").write_text("")  # not the machine's rabbitmq-env.conf

    @property
    def amqp_url(self) -> str:
        """ATELIER_AMQP_URL for the cluster: every node, in order."""
        return ",".join(node.url for node in self.nodes)

    def _env(self, node: RabbitNode) -> dict[str, str]:
        folder = self.root / node.name.split("@")[0]
        return {**os.environ, "HOME": str(self.home), "RABBITMQ_NODENAME": node.name,
                "RABBITMQ_DIST_PORT": str(node.dist_port), "RABBITMQ_MNESIA_BASE": str(folder / "mnesia"),
                "RABBITMQ_LOG_BASE": str(folder / "log"), "RABBITMQ_PID_FILE": str(folder / "pid"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.root / "plugins"),
                "RABBITMQ_CONF_ENV_FILE": str(self.root / "env.conf"),
                "RABBITMQ_CONFIG_FILE": str(folder / "rabbitmq.conf"),
                "RABBITMQ_ADVANCED_CONFIG_FILE": str(folder / "advanced.config"),
                "ERL_EPMD_ADDRESS": "127.0.0.1",
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}"}

    def ctl(self, node: RabbitNode, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.bin / "rabbitmqctl"), "-n", node.name, *args], env=self._env(node),
                              capture_output=True, text=True, timeout=timeout)

    def _start(self, node: RabbitNode, peer: RabbitNode | None) -> None:
        folder = self.root / node.name.split("@")[0]
        if not folder.exists():
            folder.mkdir()
            config = [f"listeners.tcp.1 = 127.0.0.1:{node.port}"]
            if peer is not None:
                config += ["cluster_formation.peer_discovery_backend = classic_config",
                           f"cluster_formation.classic_config.nodes.1 = {peer.name}"]
            (folder / "rabbitmq.conf").write_text("\n".join(config) + "\n")
        with (folder / "out.log").open("ab") as out:
            node.proc = subprocess.Popen([str(self.bin / "rabbitmq-server")], env=self._env(node), stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    def _await(self, node: RabbitNode) -> None:
        def started() -> bool:
            assert node.proc is not None
            if node.proc.poll() is not None:
                log = (self.root / node.name.split("@")[0] / "out.log").read_text()[-2000:]
                raise RuntimeError(f"RabbitMQ node {node.name} exited: {log}")
            # Fails at once while the node is not registered yet, then waits for its boot.
            return self.ctl(node, "await_startup", "--timeout", "30").returncode == 0

        _poll(started, f"RabbitMQ node {node.name} started")

    def start(self) -> RabbitCluster:
        first, *others = self.nodes
        self._start(first, None)
        self._await(first)
        for node in others:
            self._start(node, first)
        for node in others:
            self._await(node)
        self._await_clustered()
        return self

    def alive(self) -> list[RabbitNode]:
        return [node for node in self.nodes if node.proc is not None and node.proc.poll() is None]

    def leaders(self, prefix: str) -> dict[str, str]:
        """The node leading each queue whose name starts with `prefix`, asked of a live node."""
        listed = self.ctl(self.alive()[-1], "list_queues", "name", "leader", "--formatter", "json")
        if listed.returncode:
            raise RuntimeError(f"rabbitmqctl list_queues: {listed.stderr}")
        return {q["name"]: q["leader"] for q in json.loads(listed.stdout) if q["name"].startswith(prefix)}

    def kill(self, name: str) -> RabbitNode:
        """The node dies at once (SIGKILL): no goodbye to its clients or its peers."""
        node = next(n for n in self.nodes if n.name == name)
        assert node.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(node.proc.pid, signal.SIGKILL)
        node.proc.wait(30)
        return node

    def restart(self, name: str) -> None:
        """A node killed before starts again on its data and rejoins the cluster; its quorum queue
        replicas catch up with their leaders."""
        node = next(n for n in self.nodes if n.name == name)
        self._start(node, None)
        self._await(node)
        self._await_clustered()

    def _await_clustered(self) -> None:
        def clustered() -> bool:
            status = self.ctl(self.alive()[0], "cluster_status", "--formatter", "json")
            return status.returncode == 0 and len(json.loads(status.stdout)["running_nodes"]) == self.size

        _poll(clustered, f"{self.size} RabbitMQ nodes clustered")

    def stop(self) -> None:
        for node in self.nodes:
            if node.proc is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(node.proc.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    node.proc.wait(30)


@contextlib.contextmanager
def rabbitmq_cluster(root: Path) -> Iterator[RabbitCluster]:
    cluster = RabbitCluster(root / "rabbitmq")
    try:
        yield cluster.start()
    finally:
        cluster.stop()


# ---------------------------------------------------------------------------------------- PostgreSQL


def _postgres_bin() -> Path:
    # Debian's clusters: /usr/lib/postgresql/<major>/bin, the newest first.
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True,
                     key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0)
    for folder in folders:
        if all(Path(folder, tool).exists() for tool in ("initdb", "pg_ctl", "pg_basebackup")):
            return Path(folder)
    found_tool = shutil.which("pg_basebackup")
    if found_tool is None or not shutil.which("initdb"):
        _missing("the PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup)")
    return Path(found_tool).resolve().parent  # type: ignore[arg-type]  # _missing never returns


@dataclass
class PostgresPair:
    """A primary and a standby made from it with pg_basebackup, streaming, synchronous: a commit is
    acknowledged once the standby has it, so a promotion loses nothing acknowledged."""

    root: Path
    primary_port: int = 0
    standby_port: int = 0

    def __post_init__(self) -> None:
        self.bin = _postgres_bin()
        self.root.mkdir()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.root, "postgres")
        base = free_port_block(2)
        self.primary_port, self.standby_port = base, base + 1
        self.primary, self.standby = self.root / "primary", self.root / "standby"

    @property
    def server_url(self) -> str:
        """ATELIER_POSTGRES_SERVER_URL as an operator writes it for a primary with a standby: both
        hosts, and only a writable one will do."""
        return (f"postgresql://postgres@127.0.0.1:{self.primary_port},127.0.0.1:{self.standby_port}"
                "/?target_session_attrs=read-write")

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self.as_postgres, *args], capture_output=True, text=True, timeout=120)
        if result.returncode:
            raise RuntimeError(f"{' '.join(args[:2])}: {result.stderr.strip()[-2000:]}")

    def _pg_ctl(self, data: Path, *args: str) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(data.with_suffix(".log")), *args)

    def start(self) -> PostgresPair:
        self._run(str(self.bin / "initdb"), "-D", str(self.primary), "-U", "postgres", "--auth=trust", "-N")
        with (self.primary / "postgresql.conf").open("a") as conf:
            # fsync off: the test kills servers, never the machine, so the OS keeps what they wrote.
            conf.write(f"listen_addresses = '127.0.0.1'\nport = {self.primary_port}\n"
                       f"unix_socket_directories = '{self.root}'\nmax_connections = 100\n"
                       "shared_buffers = 32MB\nfsync = off\nwal_level = replica\nmax_wal_senders = 4\n"
                       "synchronous_standby_names = 'standby'\nsynchronous_commit = on\n")
        with (self.primary / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        self._pg_ctl(self.primary, "-w", "start")
        self._run(str(self.bin / "pg_basebackup"), "-D", str(self.standby), "-R", "-X", "stream",
                  "-d", f"host=127.0.0.1 port={self.primary_port} user=postgres application_name=standby")
        with (self.standby / "postgresql.conf").open("a") as conf:
            # Once promoted it has no standby of its own: its commits must not wait for one.
            conf.write(f"port = {self.standby_port}\nsynchronous_standby_names = ''\n")
        self._pg_ctl(self.standby, "-w", "start")

        def synchronous() -> bool:
            with psycopg.connect(f"host=127.0.0.1 port={self.primary_port} user=postgres dbname=postgres") as conn:
                row = conn.execute("SELECT sync_state FROM pg_stat_replication").fetchone()
            return row is not None and row[0] == "sync"

        _poll(synchronous, "the standby streaming synchronously")
        return self

    def crash_primary(self) -> None:
        """The primary goes down as in a crash (`immediate`: no checkpoint, clients cut off)."""
        self._pg_ctl(self.primary, "-m", "immediate", "-w", "stop")

    def promote(self) -> None:
        """What the operator (or the HA manager) does: the standby becomes the writable primary."""
        self._pg_ctl(self.standby, "-w", "promote")

    def stop(self) -> None:
        for data in (self.primary, self.standby):
            if (data / "postmaster.pid").exists():
                with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                    self._pg_ctl(data, "-m", "immediate", "-w", "stop")


@contextlib.contextmanager
def postgres_pair(root: Path) -> Iterator[PostgresPair]:
    pair = PostgresPair(root / "postgres")
    try:
        yield pair.start()
    finally:
        pair.stop()
