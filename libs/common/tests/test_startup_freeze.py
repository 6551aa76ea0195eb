"""What start-up built is left out of garbage collection while the app runs, and handed back when it
stops (`service.startup_objects_frozen`): a process that starts apps again and again (a test worker,
the embedded mode) must not keep every stopped app."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from atelier_common.service import ServiceSpec, build_app, startup_objects_frozen
from atelier_common.settings import ServiceSettings
from atelier_testing import RecordingBus, ServiceHarness, TestKeys


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_what_was_frozen_is_collected_once_thawed() -> None:
    before = gc.get_freeze_count()
    alive = _Cycle()
    gone = weakref.ref(alive)
    with startup_objects_frozen():
        assert gc.get_freeze_count() > before
        del alive
        gc.collect()
        assert gone() is not None  # frozen: no collection sees it
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert gone() is None


async def test_a_stopped_app_is_collected(test_keys: TestKeys, tmp_path: Path) -> None:
    settings = ServiceSettings(environment="test", data_dir=tmp_path, jwks_json=test_keys.jwks_json,
                               jwt_issuer=test_keys.issuer, jwt_audience=test_keys.audience,
                               database_url=f"sqlite+aiosqlite:///{tmp_path}/demo.db", log_json=False)
    bus = RecordingBus()
    app = build_app(ServiceSpec(name="demo", routers=[]), settings, bus=bus, roles=frozenset({"api"}))
    async with ServiceHarness(app, bus) as h:
        assert (await h.client.get("/health")).status_code == 200
        assert gc.get_freeze_count() > 0  # the running app is left out of collections
        runtime = weakref.ref(h.runtime)
    del app, h
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert runtime() is None
