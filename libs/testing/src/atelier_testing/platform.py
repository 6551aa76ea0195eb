"""Start the whole platform as a user would — `atelier dev` or `atelier up` — for black-box tests
and the benchmarks, and clean up after it (`drop_databases`, `delete_queues`, `delete_redis_keys`).

The one module of the test kit that names the platform and the gateway: it starts the `atelier`
command as a process, and reads the service list and how a Redis-only degraded health reads."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika

from atelier_common.events.rabbitmq import consumer_queues
from atelier_common.settings import AtelierSettings, amqp_urls, libpq_conninfo

# The retry tiers of a platform started with the default settings (its queues are deleted after).
_RETRY_DEFAULTS = AtelierSettings.model_construct()

STAFF_EMAIL = "staff@example.com"
STAFF_PASSWORD = "staff-password-1"
# The distributed mode's gateway runs in this many processes on one port (test_gateway_workers.py).
GATEWAY_WORKERS = 2
# How long a platform may take to answer its health check: a deadline, not a wait. An idle 2-core
# machine starts the embedded platform in ~7 s and the distributed one in ~14 s; at a load average
# of ~17 the embedded one took more than 90 s.
HEALTHY_WITHIN_SECONDS = 300
# The fast paths (`atelier_common.fast`) per mode: the embedded mode runs every journey with them
# all off (the plain library paths: uvicorn's h11, SQLAlchemy's execution, httpx), the distributed
# one with them all on, as deployed. `ATELIER_TEST_FAST_PATHS_EMBEDDED` / `…_DISTRIBUTED` change it
# (`none` in both: the whole suite on the plain paths).
FAST_PATHS = {"embedded": "none", "distributed": "all"}


def fast_paths(mode: str) -> str:
    return os.environ.get(f"ATELIER_TEST_FAST_PATHS_{mode.upper()}", FAST_PATHS[mode])


@dataclass
class Platform:
    mode: str
    url: str
    data_dir: Path
    pid: int = 0
    database_prefix: str = ""
    amqp_exchange: str = ""
    queue_prefix: str = ""
    # Whether the gateway answers public reads from the shared cache (the distributed mode needs Redis).
    caches: bool = True
    # The PostgreSQL server of the distributed mode's databases (`database_prefix` on it).
    postgres_server_url: str = ""

    def cli_env(self) -> dict[str, str]:
        """The environment an operator's `atelier` command (keys, backup, restore) needs to reach
        this platform's data: its data directory and, distributed, its databases."""
        return cli_env(self.data_dir, self.postgres_server_url, self.database_prefix)

    async def atelier(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `atelier ARGS` against this platform's data, as an operator would, without blocking
        the event loop (the tests keep a load running meanwhile)."""
        return await run_atelier(self.cli_env(), *args, check=check)

    def children(self) -> dict[str, int]:
        """The platform's child processes (distributed mode) by role, e.g. "orders consumer"."""
        out: dict[str, int] = {}
        for child in subprocess.run(["pgrep", "-P", str(self.pid)], capture_output=True, text=True).stdout.split():
            try:
                # `atelier up` names a forked child by its command (setproctitle): one string, spaces between
                argv = Path(f"/proc/{child}/cmdline").read_bytes().decode().replace("\0", " ").split()
            except OSError:
                continue
            if "serve" in argv:
                out[f"{argv[argv.index('serve') + 1]} api"] = int(child)
            elif "worker" in argv:
                out[f"{argv[argv.index('worker') + 1]} {argv[argv.index('--role') + 1]}"] = int(child)
            elif "gateway" in argv:
                out["gateway"] = int(child)
        return out

    def api_processes(self, service: str) -> dict[int, int]:
        """The pids of `service`'s API processes (distributed mode) by the port each listens on."""
        out: dict[int, int] = {}
        for child in subprocess.run(["pgrep", "-P", str(self.pid)], capture_output=True, text=True).stdout.split():
            try:
                argv = Path(f"/proc/{child}/cmdline").read_bytes().decode().replace("\0", " ").split()
            except OSError:
                continue
            if "serve" in argv and argv[argv.index("serve") + 1] == service and "--port" in argv:
                out[int(argv[argv.index("--port") + 1])] = int(child)
        return out


def cli_env(data_dir: Path, postgres_server_url: str = "", database_prefix: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_") or k.startswith("ATELIER_TEST_")}
    env.update({"ATELIER_DATA_DIR": str(data_dir), "ATELIER_ENVIRONMENT": "test", "ATELIER_LOG_JSON": "false",
                "ATELIER_LOG_LEVEL": "WARNING"})
    if postgres_server_url:
        env.update({"ATELIER_POSTGRES_SERVER_URL": postgres_server_url, "ATELIER_DATABASE_NAME_PREFIX": database_prefix})
    return env


async def run_atelier(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    import asyncio

    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "atelier_platform.cli", *args, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    result = subprocess.CompletedProcess(["atelier", *args], proc.returncode or 0, out.decode(), err.decode())
    if check and result.returncode:
        raise AssertionError(f"atelier {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result


def free_port() -> int:
    """A port for a process the test starts, from below the ephemeral range (`free_port_block`)."""
    return free_port_block(1)


def _ephemeral_ports() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port_block(size: int) -> int:
    """`size` consecutive ports free now, below the ephemeral range: a block taken from it (as
    binding port 0 gives) could meet an outbound connection's local port before the platform binds
    it (a relay whose probe port a pooled connection held failed to start on every retry; an
    `atelier dev` could lose its port so in the seconds it spends starting).
    Each pytest-xdist worker picks from its own share of that range: two workers' platforms
    starting at once (the distributed lanes) never pick overlapping blocks."""
    low, _ = _ephemeral_ports()
    start, end = _worker_share(10_000, max(10_001 + size, low - size))
    for _ in range(200):
        base = random.randrange(start, max(start + 1, end - size))
        ok = True
        for port in range(base, base + size):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free block of ports")


def _worker_share(low: int, high: int) -> tuple[int, int]:
    """This pytest-xdist worker's share of [low, high) (all of it outside xdist)."""
    worker, count = os.environ.get("PYTEST_XDIST_WORKER", ""), os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    if not worker.startswith("gw") or not count.isdigit() or int(count) < 2:
        return low, high
    width = (high - low) // int(count)
    index = int(worker[2:]) % int(count)
    return low + index * width, low + (index + 1) * width


# The suite's many visitors mostly come from 127.0.0.1, its sign-ins too (the browser tests' pages
# and the staff steps), and the one bootstrap staff account makes the whole suite's staff calls:
# more than a deployment's limits allow one address or one caller in a run. A platform started with
# `deployed_limits=True` keeps the defaults (tests-e2e/platform/test_shared_address.py). The demo
# storefronts' own budgets (shop's 20 a minute per guest) are scaled up, still counted.
SUITE_LIMITS = {
    "ATELIER_GATEWAY_RATE_LIMIT_PER_IP": "1000000/minute",
    "ATELIER_GATEWAY_RATE_LIMIT_CREDENTIALS_PER_IP": "1000000/hour",
    "ATELIER_GATEWAY_RATE_LIMIT_DEFAULT": "1000000/hour",
    "ATELIER_GATEWAY_STOREFRONT_BUDGET_SCALE": "1000",
    "ATELIER_GENERATION_ANONYMOUS_FREE_JOBS_PER_IP": "1000000/hour",
    # The demo storefronts without their products' per-address limits (shop: 3 sign-ups an hour).
    "ATELIER_IDENTITY_DEMO_STOREFRONT_LIMITS": "false",
}


def _common_env(data_dir: Path, extra_env: dict[str, str] | None = None, *, mode: str,
                deployed_limits: bool = False) -> dict[str, str]:
    # The dev endpoints (mailbox, checkout pages) and the demo catalog are not set here: `atelier
    # dev` has them, and the distributed mode gets them from `atelier up --dev`, as a user would.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_") or k.startswith("ATELIER_TEST_")}
    env.update({
        "ATELIER_DATA_DIR": str(data_dir),
        "ATELIER_BOOTSTRAP_STAFF_EMAIL": STAFF_EMAIL,
        "ATELIER_BOOTSTRAP_STAFF_PASSWORD": STAFF_PASSWORD,
        "ATELIER_ENVIRONMENT": "test",
        "ATELIER_LOG_JSON": "false",
        "ATELIER_LOG_LEVEL": "WARNING",
        # cheap password hashing keeps the suite fast; production uses the library's defaults
        "ATELIER_IDENTITY_PASSWORD_HASH_TIME_COST": "1",
        "ATELIER_IDENTITY_PASSWORD_HASH_MEMORY_COST_KIB": "1024",
        # every process writes its spans to <data_dir>/traces/<service>-<pid>.jsonl (test_tracing.py)
        "ATELIER_OTEL_EXPORTER": "file",
        "ATELIER_OTEL_FILE_DIR": str(data_dir / "traces"),
        **({} if deployed_limits else SUITE_LIMITS),
        # Invalidation must be what makes a change visible, never an entry's expiry.
        "ATELIER_CACHE_TTL_SECONDS": "300",
        # Outbound webhooks (tests-e2e/webhooks): the test's receiver on 127.0.0.1 is allowed by name
        # while other private addresses are refused (the production rule); retries shrunk to seconds,
        # looked for twice a second (each look is a query: a platform's idle CPU, paid by every test).
        "ATELIER_OUTBOUND_WEBHOOKS_ALLOW_PRIVATE_URLS": "false",
        "ATELIER_OUTBOUND_WEBHOOKS_ALLOWED_HOSTS": '["127.0.0.1"]',
        "ATELIER_OUTBOUND_WEBHOOKS_RETRY_SCHEDULE_SECONDS": "[0.5, 0.5]",
        "ATELIER_OUTBOUND_WEBHOOKS_POLL_SECONDS": "0.5",
    })
    env["ATELIER_FAST_PATHS"] = fast_paths(mode)
    # settings of the session's local fakes (e.g. the OpenID provider), the same in every mode
    env.update(extra_env or {})
    return env


def _public(env: dict[str, str], url: str) -> dict[str, str]:
    env["ATELIER_PUBLIC_BASE_URL"] = url
    return env


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float, *, redis_out: bool = False) -> None:
    """`redis_out`: a platform degraded only by its Redis being out is serving, as `atelier up` says."""
    from atelier_platform.processes import redis_only_degraded

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the platform exited with {proc.returncode} before becoming healthy")
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=3) as r:
                if r.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            if redis_out and exc.code == 503 and redis_only_degraded(exc.read()):
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the platform at {url} was not healthy within {timeout}s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the platform as an operator would (SIGTERM, 30 s), then kill whatever of its process
    group is left: a platform that never became healthy must not live on beside the next one."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


@contextlib.contextmanager
def embedded(tmp: Path, extra_env: dict[str, str] | None = None, *, redis_out: bool = False,
             data_dir: Path | None = None, deployed_limits: bool = False) -> Iterator[Platform]:
    """`data_dir`: start on this directory (a restored backup), else a new one under `tmp`;
    `deployed_limits`: the rate limits a deployment gets, not the suite's (`SUITE_LIMITS`)."""
    port = free_port()
    data_dir = data_dir or tmp / "embedded"
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "atelier_platform.cli", "dev", "--port", str(port),
                             "--data-dir", str(data_dir)], env=_public(_common_env(data_dir, extra_env, mode="embedded", deployed_limits=deployed_limits), url),
                            start_new_session=True)
    try:
        wait_healthy(url, proc, HEALTHY_WITHIN_SECONDS, redis_out=redis_out)
        yield Platform("embedded", url, data_dir, proc.pid)
    finally:
        _stop(proc)


@dataclass
class DevStart:
    """An `atelier dev` started as `make dev` starts it (`make_dev`)."""

    url: str
    data_dir: Path
    stdout: Path  # what it printed: the banner, the development staff account's password
    log: Path  # its log lines (stderr)

    def printed(self) -> str:
        return self.stdout.read_text()


@contextlib.contextmanager
def make_dev(home: Path, extra_env: dict[str, str] | None = None) -> Iterator[DevStart]:
    """`atelier dev` with nothing configured (no ATELIER_ variable but `extra_env`) on a free port,
    its data under `home/data`; yields once it printed its banner, which it does when it serves."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")} | (extra_env or {})
    started = DevStart(f"http://localhost:{port}", home / "data", home / f"stdout-{port}.txt", home / f"log-{port}.jsonl")
    with started.stdout.open("wb") as stdout, started.log.open("wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "atelier_platform.cli", "dev", "--port", str(port),
                                 "--data-dir", str(started.data_dir)], env=env, cwd=home, stdout=stdout, stderr=stderr,
                                 start_new_session=True)
    try:
        deadline = time.monotonic() + HEALTHY_WITHIN_SECONDS
        while "walkthroughs:" not in started.printed():  # the banner's last line
            if proc.poll() is not None:
                raise RuntimeError(f"atelier dev exited with {proc.returncode}: {started.log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"atelier dev printed no banner within {HEALTHY_WITHIN_SECONDS}s")
            time.sleep(0.3)
        yield started
    finally:
        _stop(proc)


@contextlib.contextmanager
def distributed(tmp: Path, postgres_server_url: str, amqp_url: str,
                extra_env: dict[str, str] | None = None, *, split: bool = True,
                redis_out: bool = False, database_prefix: str | None = None,
                data_dir: Path | None = None, deployed_limits: bool = False,
                api_processes: int = 1) -> Iterator[Platform]:
    """`atelier up`; `split=False`: one process per service (`--no-split`), 7 processes instead of
    26, which start in a fraction of the time (each pays some seconds of imports on a slow machine).
    `api_processes`: `--api-processes` (each service's API processes; the extra ones on the six
    ports after the first six, `Topology.api_urls`)."""
    run = uuid.uuid4().hex[:8]
    # `database_prefix`: databases made beforehand (a restored backup); dropped after like the others.
    prefix = database_prefix or f"atelier_e2e_{run}_"
    # gateway, six APIs (per API process); then the probes of 19 relay/consumer/worker/housekeeping processes
    apis = 6 * api_processes
    port = free_port_block(1 + apis + 19)
    data_dir = data_dir or tmp / "distributed"
    env = _common_env(data_dir, extra_env, mode="distributed", deployed_limits=deployed_limits)
    if not split:
        # A platform a test starts beside the session's: with every role in each process, the
        # default pools would hold 7 × 11 connections, past PostgreSQL's max_connections of 100
        # with the session's platform up ("too many clients", answered 503).
        env.setdefault("ATELIER_DB_POOL_SIZE", "1")
        env.setdefault("ATELIER_DB_MAX_OVERFLOW", "2")
    env.update({
        "ATELIER_DATABASE_NAME_PREFIX": prefix,
        "ATELIER_AMQP_EXCHANGE": f"atelier.events.e2e{run}",
        "ATELIER_AMQP_QUEUE_PREFIX": f"e2e{run}.",
        # A first housekeeping pass soon after start (its probe test looks for it), then hourly.
        "ATELIER_HOUSEKEEPING_START_DELAY_SECONDS": "1",
    })
    redis = os.environ.get("ATELIER_TEST_REDIS_URL")
    if redis:  # the shared cache of the distributed mode; only the cache, so rate limits stay per run
        env.update({"ATELIER_CACHE_URL": env.get("ATELIER_CACHE_URL", redis), "ATELIER_CACHE_PREFIX": f"e2e{run}:",
                    "ATELIER_REDIS_KEY_PREFIX": f"e2e{run}:"})
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "atelier_platform.cli", "up", "--postgres", postgres_server_url,
                             "--amqp", amqp_url, "--port", str(port), "--base-port", str(port + 1),
                             "--data-dir", str(data_dir), "--probe-base-port", str(port + 1 + apis), "--dev",
                             "--gateway-workers", str(GATEWAY_WORKERS), "--api-processes", str(api_processes),
                             *([] if split else ["--no-split"])],
                            env=_public(env, url), start_new_session=True)
    try:
        wait_healthy(url, proc, HEALTHY_WITHIN_SECONDS, redis_out=redis_out)
        yield Platform("distributed", url, data_dir, proc.pid, database_prefix=prefix,
                       amqp_exchange=f"atelier.events.e2e{run}", queue_prefix=f"e2e{run}.", caches=bool(redis),
                       postgres_server_url=postgres_server_url)
    finally:
        _stop(proc)
        drop_databases(postgres_server_url, prefix)
        delete_queues(amqp_url, f"e2e{run}.", f"atelier.events.e2e{run}")
        if redis:
            delete_redis_keys(redis, f"e2e{run}:")


def drop_databases(server_url: str, prefix: str) -> None:
    import psycopg

    with psycopg.connect(libpq_conninfo(server_url, dbname="postgres"), autocommit=True) as conn:
        names = [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (prefix + "%",))]
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _clean_up(run: Callable[[], Coroutine[Any, Any, None]], *, within: float = 60) -> None:
    """Run a best-effort clean-up coroutine to its end, whether or not the caller is inside an event
    loop (a platform stopped by an async test or fixture): there `asyncio.run` refuses, so it runs
    in a thread of its own. A server that does not answer leaves its leftovers, bounded by `within`."""
    import asyncio

    def to_end() -> None:
        with contextlib.suppress(Exception):
            asyncio.run(asyncio.wait_for(run(), within))

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        to_end()
        return
    thread = threading.Thread(target=to_end, name="atelier-clean-up")
    thread.start()
    thread.join()


def delete_redis_keys(redis_url: str, prefix: str) -> None:
    import coredis

    async def run() -> None:
        client = coredis.Redis.from_url(redis_url)
        keys: list[str | bytes] = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(keys)

    _clean_up(run)


def delete_queues(amqp_url: str, prefix: str, exchange: str) -> None:
    from atelier_gateway.settings import SERVICES

    async def run() -> None:
        conn = None
        for url in amqp_urls(amqp_url):  # a cluster's nodes: the first that answers
            with contextlib.suppress(Exception):
                conn = await aio_pika.connect(url)
                break
        if conn is None:
            return
        async with conn:
            channel = await conn.channel()
            for service in (*SERVICES, "generation-worker", "identity-worker"):
                for name in consumer_queues(prefix, service, max_retries=_RETRY_DEFAULTS.consumer_max_retries,
                                            retry_delay_ms=_RETRY_DEFAULTS.consumer_retry_delay_ms):
                    await channel.queue_delete(name)
            await channel.exchange_delete(exchange)

    # Bounded: a quorum queue whose member node is down can take long to delete (a cluster test).
    _clean_up(run)
