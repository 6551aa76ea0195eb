"""The staff API over dead letters, on the in-memory bus of the embedded mode (the RabbitMQ side:
libs/common/tests/infra/test_rabbitmq.py::TestDeadLetters, and tests-e2e/platform/test_dead_letters.py)."""

from __future__ import annotations

import uuid

from atelier_common.contracts.identity import UserDeleted
from atelier_common.events import Envelope
from atelier_testing import assert_error

API = "/api/v1/staff/dead-letters"


async def _poison(gateway, broken: dict[str, bool], applied: list[str]) -> list[Envelope]:
    """Two events the `catalog` consumer fails on while `broken`; both end as dead letters."""
    gateway.bus.max_retries, gateway.bus.retry_delay = 1, 0.001

    async def handler(env: Envelope) -> None:
        if broken["on"]:
            raise RuntimeError("catalog handler bug")
        applied.append(str(env.id))

    gateway.bus.subscribe("catalog", [UserDeleted.type], handler)
    events = [Envelope.wrap(UserDeleted(user_id=uuid.uuid4()), producer="identity") for _ in range(2)]
    await gateway.bus.publish(events)
    await gateway.bus.drain()
    return events


async def test_staff_lists_shows_replays_and_drops(gateway) -> None:
    broken, applied = {"on": True}, []
    first, second = await _poison(gateway, broken, applied)
    staff = gateway.keys.staff_headers()

    overview = await gateway.client.get(API, headers=staff)
    assert overview.status_code == 200, overview.text
    assert {"consumer": "catalog", "count": 2} in overview.json()["consumers"]

    listed = await gateway.client.get(f"{API}/catalog/", headers=staff)
    assert listed.status_code == 200
    results = listed.json()["results"]
    assert [r["id"] for r in results] == [str(first.id), str(second.id)]
    assert results[0]["type"] == UserDeleted.type and "catalog handler bug" in results[0]["error"]

    shown = await gateway.client.get(f"{API}/catalog/{first.id}", headers=staff)
    assert shown.status_code == 200
    assert shown.json()["envelope"]["data"] == first.data

    broken["on"] = False
    replayed = await gateway.client.post(f"{API}/catalog/replay", json={"ids": [str(first.id)]}, headers=staff)
    assert replayed.json() == {"replayed": 1}
    await gateway.bus.drain()
    assert applied == [str(first.id)]

    dropped = await gateway.client.post(f"{API}/catalog/drop", json={"all": True}, headers=staff)
    assert dropped.json() == {"dropped": 1}
    assert (await gateway.client.get(f"{API}/catalog", headers=staff)).json()["results"] == []
    assert applied == [str(first.id)]  # the dropped one never ran
    assert_error(await gateway.client.get(f"{API}/catalog/{second.id}", headers=staff), 404, "NOT_FOUND")


async def test_only_staff_and_only_known_consumers(gateway) -> None:
    customer = gateway.keys.user_headers()
    assert_error(await gateway.client.get(API), 401, "AUTHENTICATION_REQUIRED")
    assert_error(await gateway.client.get(API, headers=customer), 403, "PERMISSION_DENIED")
    assert_error(await gateway.client.post(f"{API}/catalog/replay", json={"all": True}, headers=customer),
                 403, "PERMISSION_DENIED")
    staff = gateway.keys.staff_headers()
    assert_error(await gateway.client.get(f"{API}/nobody", headers=staff), 404, "NOT_FOUND")
    assert_error(await gateway.client.get(f"{API}/catalog/not-a-uuid", headers=staff), 400, "VALIDATION_ERROR")


async def test_a_selection_is_ids_or_all_never_both_or_neither(gateway) -> None:
    broken, applied = {"on": True}, []
    await _poison(gateway, broken, applied)
    staff = gateway.keys.staff_headers()
    for body in ({}, {"ids": []}, {"ids": [str(uuid.uuid4())], "all": True}, {"ids": ["nope"]}, {"all": "x"}):
        assert_error(await gateway.client.post(f"{API}/catalog/drop", json=body, headers=staff), 400,
                     "VALIDATION_ERROR")
    assert len(gateway.bus.dead_letters) == 2  # nothing changed
    assert (await gateway.client.post(f"{API}/catalog/drop", json={"ids": [str(uuid.uuid4())]},
                                      headers=staff)).json() == {"dropped": 0}


async def test_a_replay_and_a_drop_are_audited_and_support_may_not(gateway) -> None:
    broken, applied = {"on": True}, []
    first, _ = await _poison(gateway, broken, applied)
    recorded: list[Envelope] = []

    async def audit_log(env: Envelope) -> None:
        recorded.append(env)

    gateway.bus.subscribe("identity", ["staff.action_recorded"], audit_log)
    assert_error(await gateway.client.post(f"{API}/catalog/replay", json={"all": True},
                                           headers=gateway.keys.staff_headers("support")), 403, "PERMISSION_DENIED")
    broken["on"] = False
    admin = gateway.keys.staff_headers()
    assert (await gateway.client.post(f"{API}/catalog/replay", json={"ids": [str(first.id)]}, headers=admin)
            ).json() == {"replayed": 1}
    # The first path still answers.
    assert (await gateway.client.post("/api/v1/ops/dead-letters/catalog/drop", json={"all": True}, headers=admin)
            ).json() == {"dropped": 1}
    await gateway.bus.drain()
    rows = [(e.data["action"], e.data["target_id"], e.data["after"]) for e in recorded]
    assert rows == [("dead_letters.replay", "catalog", {"ids": [str(first.id)], "count": 1}),
                    ("dead_letters.drop", "catalog", {"all": True, "count": 1})]
    assert all(e.producer == "gateway" and e.data["service"] == "gateway" for e in recorded)
