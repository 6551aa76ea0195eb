"""What every benchmark that starts its own `atelier up` does around it, said once: the run's
databases, queues and exchange are named after it (two runs never meet), the staff account it signs
in as is bootstrapped, and all of it is stopped and dropped when the run ends, well or not.

    run = Run.new()
    topology = run.topology(postgres, amqp, split=False, env={...})
    with run.cleanup(postgres, amqp, topology):
        topology.prepare()
        topology.start()
        ...
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from atelier_testing.platform import STAFF_EMAIL, STAFF_PASSWORD, delete_queues, drop_databases, free_port_block

if TYPE_CHECKING:
    from atelier_platform.processes import Topology


@dataclass(frozen=True)
class Run:
    """One benchmark run: its name (`bench1a2b3c4d`), the gateway's port (the services' follow it)
    and its data directory."""

    name: str
    port: int
    data_dir: Path

    @classmethod
    def new(cls, kind: str = "bench", *, ports: int = 7, name: str | None = None) -> Run:
        """A fresh run (`name`: a kept one's, to reuse its databases)."""
        return cls(name or f"{kind}{uuid.uuid4().hex[:8]}", free_port_block(ports),
                   Path(tempfile.mkdtemp(prefix=f"atelier-{kind}-")))

    @property
    def prefix(self) -> str:
        """The run's databases' names start with it."""
        return f"atelier_{self.name}_"

    @property
    def queues(self) -> str:
        return f"{self.name}."

    @property
    def exchange(self) -> str:
        return f"atelier.events.{self.name}"

    @property
    def url(self) -> str:
        """The gateway."""
        return f"http://127.0.0.1:{self.port}"

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of every process of the run, with the benchmark's own `extra`."""
        return {"ATELIER_DATABASE_NAME_PREFIX": self.prefix, "ATELIER_AMQP_EXCHANGE": self.exchange,
                "ATELIER_AMQP_QUEUE_PREFIX": self.queues, "ATELIER_BOOTSTRAP_STAFF_EMAIL": STAFF_EMAIL,
                "ATELIER_BOOTSTRAP_STAFF_PASSWORD": STAFF_PASSWORD, "ATELIER_LOG_LEVEL": "WARNING", **(extra or {})}

    def topology(self, postgres: str, amqp: str, *, split: bool, env: Mapping[str, str] | None = None,
                 **options: Any) -> Topology:
        """`atelier up` of the run (not started); `options`: more of `Topology`'s (`api_workers`)."""
        from atelier_platform.processes import Topology  # the platform's imports, only once it runs

        return Topology(postgres=postgres, amqp=amqp, port=self.port, base_port=self.port + 1, split=split,
                        data_dir=self.data_dir, extra_env=self.env(env), **options)

    @contextmanager
    def cleanup(self, postgres: str, amqp: str, topology: Topology, *, keep: bool = False) -> Iterator[None]:
        """Stops `topology` when the block ends, then drops the run's databases (unless `keep`),
        queues, exchange and data directory."""
        try:
            yield
        finally:
            topology.stop()
            if not keep:
                drop_databases(postgres, self.prefix)
            delete_queues(amqp, self.queues, self.exchange)
            shutil.rmtree(self.data_dir, ignore_errors=True)


def staff_token(client: httpx.Client) -> str:
    """The bootstrapped staff member's access token."""
    response = client.post("/api/v1/auth/login", json={"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
    return str(response.json()["access"])
