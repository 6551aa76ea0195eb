"""The embedded mode runs each service's housekeeping as a background loop, and every service's
sweeps run on its SQLite database."""

from __future__ import annotations

from pathlib import Path

from atelier_gateway.settings import SERVICES, GatewaySettings
from atelier_gateway.upstream import AsgiUpstream
from atelier_platform import embedded


async def test_every_service_runs_its_housekeeping_in_the_embedded_process(tmp_path: Path) -> None:
    gateway, _ = embedded.build(tmp_path, gateway_settings=GatewaySettings(environment="dev", data_dir=tmp_path))
    async with gateway.router.lifespan_context(gateway):
        upstream = gateway.state.gateway.proxy.upstream
        assert isinstance(upstream, AsgiUpstream)
        for service in SERVICES:
            runtime = upstream.apps[service].state.runtime
            keeper = runtime.housekeeper
            assert keeper is not None and keeper._loop.running, service
            names = [sweep.name for sweep in keeper.sweeps]
            assert names[:2] == ["outbox_sent", "inbox"] and len(names) > 2, (service, names)
            report = await keeper.run_once()
            assert not report.failed and set(report.removed) == set(names), (service, report)
