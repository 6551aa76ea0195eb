"""Gift cards: staff issue, read and deactivate them; their holder reads a code's balance, and wrong
codes are counted like wrong discount codes (unknown, expired and deactivated answer alike)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlmodel import select

from atelier_payments.models import GiftCard
from atelier_testing.storefronts import add_storefront, make_storefront, on_storefront

from ..conftest import assert_error

STAFF = "/api/v1/staff/gift-cards"
BALANCE = "/api/v1/payments/gift-cards/balance"


async def issue(api, amount: str = "50.00", *, headers: dict[str, str] | None = None, **extra: Any) -> httpx.Response:
    return await api.client.post(STAFF, json={"amount": amount, **extra},
                                 headers=api.keys.staff_headers("support") if headers is None else headers)


async def issued_code(api, amount: str = "50.00", **extra: Any) -> tuple[str, str]:
    """(the new card's id, its whole code)."""
    response = await issue(api, amount, **extra)
    assert response.status_code == 201, response.text
    return response.json()["id"], response.json()["code"]


async def balance(api, code: str, headers: dict[str, str] | None = None,
                  address: str = "203.0.113.7") -> httpx.Response:
    headers = {**(headers if headers is not None else api.anon()[1]), "X-Forwarded-For": address}
    return await api.client.post(BALANCE, json={"code": code}, headers=headers)


class TestIssue:
    async def test_the_code_is_shown_once_and_the_card_is_named_by_its_last_four_after(self, api) -> None:
        response = await issue(api, "50.00", note="late delivery", recipient_email="ada@example.com")
        assert response.status_code == 201, response.text
        body = response.json()
        code = body["code"]
        assert len(code.replace("-", "")) == 16 and body["last4"] == code[-4:]
        assert (body["balance"], body["initial_balance"], body["currency"], body["is_active"]) == (
            "50.00", "50.00", "USD", True)
        # No expiry named: the default validity (365 days).
        expires = datetime.fromisoformat(body["expires_at"])
        assert timedelta(days=364) < expires - datetime.now(UTC) <= timedelta(days=365)
        read = await api.client.get(f"{STAFF}/{body['id']}", headers=api.keys.staff_headers("support"))
        assert read.status_code == 200, read.text
        assert "code" not in read.json() and read.json()["last4"] == code[-4:]
        assert [(t["kind"], t["amount"]) for t in read.json()["transactions"]] == [("issued", "50.00")]
        async with api.db.read_only() as s:
            card = (await s.exec(select(GiftCard))).one()
        # Only its digest is stored.
        assert code.replace("-", "") not in card.code_digest and len(card.code_digest) == 64
        listed = await api.client.get(STAFF, params={"last4": code[-4:]}, headers=api.keys.staff_headers("support"))
        assert [c["id"] for c in listed.json()["results"]] == [body["id"]]

    async def test_issue_is_audited_and_announced_without_the_code(self, api) -> None:
        card_id, code = await issued_code(api, "20.00")
        await api.h.drain()
        [row] = [e.data for e in api.h.published("staff.action_recorded")]
        assert (row["action"], row["target_id"], row["after"]["initial_balance"]) == (
            "gift_card.issue", card_id, "20.00")
        [event] = await api.outbox("gift_card.issued")
        assert event["gift_card_id"] == card_id and event["last4"] == code[-4:]
        assert code not in str(row) and code not in str(event)

    async def test_bad_amounts_are_refused(self, api) -> None:
        for amount in ("0", "-5.00", "1.001"):
            assert_error(await issue(api, amount), 400, "VALIDATION_ERROR")
        assert_error(await issue(api, "5.00", storefront="nowhere"), 400, "UNKNOWN_STOREFRONT")

    async def test_a_merchandiser_may_not_issue(self, api) -> None:
        assert (await issue(api, headers=api.keys.staff_headers("merchandiser"))).status_code == 403


class TestDeactivate:
    async def test_a_deactivated_card_answers_like_an_unknown_code_until_reactivated(self, api) -> None:
        card_id, code = await issued_code(api)
        assert (await balance(api, code)).json()["balance"] == "50.00"
        headers = api.keys.staff_headers("support")
        off = await api.client.post(f"{STAFF}/{card_id}/deactivate", json={"reason": "lost"}, headers=headers)
        assert off.status_code == 200 and off.json()["is_active"] is False
        again = await api.client.post(f"{STAFF}/{card_id}/deactivate", headers=headers)
        assert again.status_code == 200
        unknown = assert_error(await balance(api, "ABCD-EFGH-JKMN-PQRS"), 400, "GIFT_CARD_INVALID")
        inactive = assert_error(await balance(api, code), 400, "GIFT_CARD_INVALID")
        assert inactive == unknown
        assert (await api.client.post(f"{STAFF}/{card_id}/reactivate", headers=headers)).json()["is_active"]
        assert (await balance(api, code.lower().replace("-", ""))).json()["balance"] == "50.00"
        await api.h.drain()
        # One audit row per change, none for the repeated deactivation.
        assert [e.data["action"] for e in api.h.published("staff.action_recorded")] == [
            "gift_card.issue", "gift_card.deactivate", "gift_card.reactivate"]
        assert [e["change"] for e in await api.outbox("gift_card.changed")] == ["deactivated", "reactivated"]

    async def test_an_unknown_card_is_not_found(self, api) -> None:
        missing = await api.client.post(f"{STAFF}/{uuid.uuid4()}/deactivate", headers=api.keys.staff_headers())
        assert_error(missing, 404, "NOT_FOUND")


class TestBalance:
    async def test_expired_answers_like_unknown(self, api) -> None:
        _, code = await issued_code(api, expires_at=(datetime.now(UTC) - timedelta(minutes=1)).isoformat())
        assert_error(await balance(api, code), 400, "GIFT_CARD_INVALID")

    async def test_a_card_is_its_storefronts_alone(self, api) -> None:
        add_storefront(api.h.app, make_storefront("b"))
        response = await issue(api, "30.00", storefront="b")
        assert response.json()["currency"] == "EUR"  # the storefront's own
        code = response.json()["code"]
        assert (await balance(api, code, {**api.anon()[1], **on_storefront("b")})).json()["balance"] == "30.00"
        assert_error(await balance(api, code), 400, "GIFT_CARD_INVALID")

    async def test_wrong_codes_are_limited_per_caller_and_a_real_code_then_waits_too(self, start_payments) -> None:
        async with start_payments(gift_card_failures_per_caller="3/15 minutes") as api:
            _, code = await issued_code(api)
            _, headers = api.anon()
            for _ in range(3):
                assert_error(await balance(api, "WRNG-WRNG-WRNG-WRNG", headers), 400, "GIFT_CARD_INVALID")
            limited = assert_error(await balance(api, code, headers), 429, "RATE_LIMITED")
            assert limited["details"]["limit"] == "gift_card_failures_per_caller"
            # Another caller is not held back by this one's guesses.
            assert (await balance(api, code)).status_code == 200

    async def test_an_address_minting_callers_is_limited_yet_its_real_codes_pass(self, start_payments) -> None:
        async with start_payments(gift_card_failures_per_ip="2/15 minutes") as api:
            _, code = await issued_code(api)
            for _ in range(2):
                assert_error(await balance(api, "WRNG-WRNG-WRNG-WRNG", address="198.51.100.1"), 400,
                             "GIFT_CARD_INVALID")
            assert_error(await balance(api, "WRNG-WRNG-WRNG-WRNG", address="198.51.100.1"), 429, "RATE_LIMITED")
            assert (await balance(api, code, address="198.51.100.1")).status_code == 200
