"""`atelier dev` stops on SIGTERM whatever its Redis does: gone while the platform listened
to it, or accepting connections and never answering. Redis is reached through a link the test
cuts or blackholes (`RedisLink`); the platform runs in a child process, as a user starts it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import coredis
import pytest

from atelier_testing.platform import delete_redis_keys, free_port, wait_healthy
from atelier_testing.tcpproxy import RedisLink

STOPPED_WITHIN_SECONDS = 60  # it takes about one; generous for a busy machine


@pytest.fixture
def redis_link(redis_url: str) -> Iterator[RedisLink]:
    link = RedisLink(redis_url)
    try:
        yield link
    finally:
        link.close()


def _subscribers(redis_url: str, channel: str) -> int:
    async def count() -> int:
        client = coredis.Redis.from_url(redis_url)
        try:
            return int((await client.pubsub_numsub(channel)).get(channel.encode(), 0))
        finally:
            client.connection_pool.disconnect()

    return asyncio.run(count())


def _until(check: Callable[[], bool], message: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{message} not reached within {timeout}s"
        time.sleep(0.1)


@pytest.mark.parametrize("outage", ["gone while listened to", "never answering"])
def test_dev_stops_on_sigterm_while_redis_is_out(tmp_path: Path, redis_url: str, redis_link: RedisLink,
                                                 outage: str) -> None:
    prefix = f"atelier-shutdown-{uuid.uuid4().hex[:8]}:"
    channel = f"{prefix}bumps"  # the gateway's subscription (`cache.InvalidationFeed`)
    if outage == "never answering":
        redis_link.blackhole()
    port, log = free_port(), tmp_path / "dev.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_") or k.startswith("ATELIER_TEST_")}
    env.update({"ATELIER_REDIS_URL": redis_link.url, "ATELIER_REDIS_KEY_PREFIX": prefix, "ATELIER_LOG_JSON": "false"})
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "atelier_platform.cli", "dev", "--port", str(port),
                                 "--data-dir", str(tmp_path / "data")], env=env, stdout=out, stderr=out)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, 120, redis_out=outage == "never answering")
        if outage == "gone while listened to":
            _until(lambda: _subscribers(redis_url, channel) > 0, "the gateway listens to Redis")
            redis_link.refuse()
            _until(lambda: _subscribers(redis_url, channel) == 0, "Redis saw the link go")
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOPPED_WITHIN_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {STOPPED_WITHIN_SECONDS}s after SIGTERM:\n{log.read_text()[-3000:]}")
        assert "Application shutdown complete" in log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        delete_redis_keys(redis_url, prefix)
