"""The Kubernetes manifests really start: their ConfigMap, the Secret an operator makes with
`atelier secrets` and the connection URLs, and the exact container commands, run here against
the real PostgreSQL and RabbitMQ — the migrate Job, an init container, a service API, its relay
and the gateway, each answering the probes the Deployment declares."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import psycopg
import pytest
import yaml
from typer.testing import CliRunner

from atelier_common.events.rabbitmq import consumer_queues
from atelier_common.settings import AtelierSettings
from atelier_gateway.settings import SERVICES
from atelier_platform.cli import app
from atelier_testing import poll_until

# The retry tiers of a platform started with the default settings (its queues are deleted after).
_RETRY_DEFAULTS = AtelierSettings.model_construct()

MANIFESTS = Path(__file__).resolve().parents[3] / "deploy" / "k8s" / "atelier.yaml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _docs() -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(MANIFESTS.read_text()) if d}


def _pod(docs: dict[tuple[str, str], dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = docs[(kind, name)]["spec"]["template"]["spec"]
    return spec


@pytest.fixture
def cluster_env(postgres_server_url: str, amqp_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """What every pod's envFrom gives it, with this machine's servers and names of this run's own."""
    run = uuid.uuid4().hex[:8]
    secret_lines = CliRunner().invoke(app, ["secrets"]).output.splitlines()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_") or k.startswith("ATELIER_TEST_")}
    env.update(_docs()[("ConfigMap", "atelier-config")]["data"])
    env.update(dict(line.split("=", 1) for line in secret_lines if line and not line.startswith("#")))
    env.update({
        "ATELIER_POSTGRES_SERVER_URL": postgres_server_url, "ATELIER_AMQP_URL": amqp_url,
        "ATELIER_S3_ACCESS_KEY_ID": "unused", "ATELIER_S3_SECRET_ACCESS_KEY": "unused",
        # this run's own databases and broker names; the pod's /data is an emptyDir
        "ATELIER_DATABASE_NAME_PREFIX": f"atelier_k8s_{run}_", "ATELIER_AMQP_EXCHANGE": f"atelier.events.k8s{run}",
        "ATELIER_AMQP_QUEUE_PREFIX": f"k8s{run}.", "ATELIER_DATA_DIR": str(tmp_path / "data"),
        "ATELIER_LOG_JSON": "false", "ATELIER_LOG_LEVEL": "WARNING",
    })
    yield env
    dsn = postgres_server_url.replace("postgresql+psycopg://", "postgresql://").rstrip("/") + "/postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        for (name,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (f"atelier_k8s_{run}_%",)).fetchall():
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def delete_queues() -> None:
        async with await aio_pika.connect(amqp_url) as conn:
            channel = await conn.channel()
            for consumer in (*SERVICES, "generation-worker", "identity-worker"):
                for name in consumer_queues(f"k8s{run}.", consumer, max_retries=_RETRY_DEFAULTS.consumer_max_retries,
                                            retry_delay_ms=_RETRY_DEFAULTS.consumer_retry_delay_ms):
                    await channel.queue_delete(name)
            await channel.exchange_delete(f"atelier.events.k8s{run}")

    with contextlib.suppress(Exception):
        asyncio.run(delete_queues())


def _atelier(args: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "atelier_platform.cli", *args], env=env, **kwargs)


def _with_port(args: list[str], port: int) -> list[str]:
    args = list(args)
    args[args.index("--port") + 1] = str(port)  # 8000 in the pod; a free port on this shared machine
    return args


async def _answers(url: str, status: int) -> bool:
    async with httpx.AsyncClient(timeout=5) as client:
        try:
            return (await client.get(url)).status_code == status
        except httpx.HTTPError:
            return False


async def _answers_while_running(processes: list[subprocess.Popen[bytes]], url: str) -> bool:
    """200 from `url`; a process that exited (a port taken meanwhile on this shared machine, a
    crash) fails at once with its exit code instead of waiting out the deadline."""
    exited = [(p.args, p.returncode) for p in processes if p.poll() is not None]
    assert not exited, f"exited before answering {url}: {exited}"
    return await _answers(url, 200)


def _plain_env(container: dict[str, Any]) -> dict[str, str]:
    """The container's own values; the connection URLs come from the Secret's keys (`valueFrom`),
    which `cluster_env` holds as the Secret would."""
    for entry in container["env"]:
        assert "value" in entry or entry["valueFrom"]["secretKeyRef"]["key"] in (
            "ATELIER_POSTGRES_SERVER_URL", "ATELIER_AMQP_URL", "ATELIER_REDIS_URL"), entry
    return {e["name"]: e["value"] for e in container["env"] if "value" in e}


async def test_the_job_the_init_containers_and_the_processes_start_with_the_manifests(
        cluster_env: dict[str, str]) -> None:
    docs = _docs()
    env = cluster_env
    (job,) = [d for (kind, _), d in docs.items() if kind == "Job"]
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    init = _pod(docs, "Deployment", "cart-api")["initContainers"][0]
    # An init container started before the job waits; once the job is done it lets the pod start.
    waiting = _atelier(init["args"], env)
    try:
        job_run = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "atelier_platform.cli", *migrate["args"]],
                                          env=env, capture_output=True, text=True, timeout=600)
        assert job_run.returncode == 0, job_run.stderr
        assert "broker:" in job_run.stdout  # the queues are declared too
        assert waiting.wait(timeout=120) == 0
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.wait()

    api_pod, relay_pod = _pod(docs, "Deployment", "cart-api"), _pod(docs, "Deployment", "cart-relay")
    gateway_pod = _pod(docs, "Deployment", "gateway")
    api_port, probe_port, gateway_port = _free_port(), _free_port(), _free_port()
    api, relay, gateway = api_pod["containers"][0], relay_pod["containers"][0], gateway_pod["containers"][0]
    relay_env = _plain_env(relay) | {"ATELIER_PROBE_PORT": str(probe_port)}
    processes = [
        _atelier(_with_port(api["args"], api_port), {**env, **_plain_env(api)}),
        _atelier(relay["args"], {**env, **relay_env}),
        _atelier(_with_port(gateway["args"], gateway_port), env),
    ]
    try:
        for container, port in ((api, api_port), (relay, probe_port), (gateway, gateway_port)):
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                path = container[probe]["httpGet"]["path"]
                await poll_until(lambda p=path, port=port: _answers_while_running(processes, f"http://127.0.0.1:{port}{p}"),
                                 timeout=300, interval=0.5, message=f"{container['name']} {probe} {path}")
        # The other services are not running: the platform's health says so, yet the gateway
        # stays ready — one degraded service does not take every gateway out of rotation.
        assert await _answers(f"http://127.0.0.1:{gateway_port}/api/health", 503)
        assert await _answers(f"http://127.0.0.1:{gateway_port}/ready", 200)
        assert all(p.poll() is None for p in processes)
        # Kubernetes stops a pod with SIGTERM: the relay stops as on Ctrl-C (its batch published,
        # its consumers' handlers finished), not killed by the signal.
        processes[1].terminate()
        assert processes[1].wait(60) == 0
    finally:
        for p in processes:
            p.terminate()
        for p in processes:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
