"""Statements per step of a guest checkout: the busiest paths stay on a few statements each.

Counted on the engine, without the outbox relay's (it runs in this process after each commit)
and without BEGIN/COMMIT (the driver's). `SHOW_STATEMENTS=1 pytest -s` prints them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from atelier_common.contracts.identity import AnonymousClaimed
from atelier_common.settings import DEV_SECRET
from atelier_payments.domain import sign_simple_webhook

pytestmark = pytest.mark.databases("sqlite", "postgres", why="statement counts differ by dialect")

RELAY = ("SELECT outbox.", "UPDATE outbox SET sent_at")
# PostgreSQL, SQLite (no data-modifying WITH; NOTIFY only on PostgreSQL).
MOST = {"checkout": (4, 5), "webhook": (5, 7), "replay": (1, 1), "pay": (1, 1), "claim": (2, 3)}


@contextmanager
def counted(api: Any, name: str) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if not statement.startswith(RELAY):
            statements.append(statement.split("\n")[0][:120])

    engine = api.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
    if os.environ.get("SHOW_STATEMENTS"):
        print(f"\n{name}: {len(statements)}", *statements, sep="\n    ")
    most = MOST[name][1 if api.db.is_sqlite else 0]
    assert len(statements) <= most, statements


class TestStatementsOfAGuestCheckout:
    async def test_checkout_webhook_pay_and_claim(self, api) -> None:
        anon_id, headers = api.anon()
        order = api.orders.add(anon_id)
        with counted(api, "checkout"):
            response = await api.client.post(
                "/api/v1/payments/checkout", headers={**headers, "Idempotency-Key": "k1"},
                json={"order_id": order["id"], "success_url": "http://shop.test/ok", "cancel_url": "http://shop.test/no"})
        assert response.status_code == 200, response.text
        session_id = response.json()["session_id"]
        body = json.dumps({"order_id": order["id"], "status": "paid", "transaction_id": session_id,
                           "event_id": f"local_{session_id}"}).encode()
        signed = {"X-Signature": sign_simple_webhook(body, DEV_SECRET)}
        with counted(api, "webhook"):
            answer = await api.client.post("/api/v1/payments/webhooks/local", content=body, headers=signed)
        assert answer.json()["status"] == "processed"
        with counted(api, "replay"):
            answer = await api.client.post("/api/v1/payments/webhooks/local", content=body, headers=signed)
        assert answer.json()["status"] == "duplicate"
        with counted(api, "pay"):  # already complete: the session is read, nothing is sent
            assert (await api.client.post(f"/api/dev/checkout/{session_id}/pay")).status_code == 303
        user_id, _ = api.user()
        with counted(api, "claim"):
            await api.h.deliver(AnonymousClaimed(anon_id=anon_id, user_id=user_id))
        [payment] = await api.payments(order["id"])
        assert (payment.status, payment.owner_id, payment.pays_order) == ("succeeded", user_id, True)
        assert [e.owner_id for e in await api.ledger()] == [user_id]
        assert len(await api.outbox("order.paid")) == 1
