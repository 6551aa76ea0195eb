"""Customer groups: admins keep a storefront's groups, support puts customers in them (one by one
or in bulk, all or nothing), and the access token for that storefront carries the group (`grp`,
`grp_sf`) from the next refresh; every write is announced and audited."""

from __future__ import annotations

import asyncio
from typing import Any

import jwt
import pytest
from sqlmodel import col, select

from atelier_common.outbox import OutboxMessage
from atelier_testing.tokens import TestKeys

from .test_storefronts import create

URL = "/api/v1/staff/customer-groups"


async def outbox_events(api, type_: str) -> list[OutboxMessage]:
    async with api.h.runtime.db.read_only() as session:
        stmt = select(OutboxMessage).where(col(OutboxMessage.type) == type_)
        return sorted((await session.exec(stmt)).all(), key=lambda message: message.occurred_at)


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


async def refreshed(api, refresh: str, storefront: str | None = None) -> dict[str, Any]:
    headers = {"x-atelier-storefront": storefront} if storefront else None
    response = await api.client.post("/api/v1/auth/refresh", json={"refresh": refresh}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def admin(test_keys: TestKeys) -> dict[str, str]:
    return test_keys.staff_headers()


@pytest.fixture
def support(test_keys: TestKeys) -> dict[str, str]:
    return test_keys.staff_headers("support")


async def new_group(api, admin: dict[str, str], code: str = "wholesale", **fields: Any) -> dict[str, Any]:
    response = await api.client.post(URL, json={"code": code, "name": code.title(), **fields}, headers=admin)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


class TestGroups:
    async def test_an_admin_creates_renames_and_lists_a_storefronts_groups(self, api, admin, test_keys) -> None:
        group = await new_group(api, admin)
        assert (group["storefront"], group["code"], group["name"], group["members"]) == (
            "default", "wholesale", "Wholesale", 0)
        renamed = await api.client.patch(f"{URL}/{group['id']}", json={"name": "Trade"}, headers=admin)
        assert renamed.status_code == 200 and renamed.json()["name"] == "Trade"
        await create(api, admin, "b")
        await new_group(api, admin, storefront="b")  # the same code on another storefront is another group
        merchandiser = test_keys.staff_headers("merchandiser")
        listed = (await api.client.get(URL, params={"storefront": "default"}, headers=merchandiser)).json()
        assert [(g["code"], g["name"]) for g in listed["results"]] == [("wholesale", "Trade")]
        events = await outbox_events(api, "customer_group.changed")
        assert [(e.data["storefront"], e.data["name"]) for e in events] == [
            ("default", "Wholesale"), ("default", "Trade"), ("b", "Wholesale")]
        assert events[1].data["revision"] > events[0].data["revision"]

    async def test_a_code_is_once_per_storefront_and_well_formed(self, api, admin, expect_error) -> None:
        await new_group(api, admin)
        expect_error(await api.client.post(URL, json={"code": "wholesale", "name": "Again"}, headers=admin),
                     409, "CUSTOMER_GROUP_EXISTS")
        for code in ("Wholesale", "whole sale", "", "x" * 33):
            expect_error(await api.client.post(URL, json={"code": code, "name": "W"}, headers=admin),
                         400, "VALIDATION_ERROR")
        expect_error(await api.client.post(URL, json={"code": "vip", "name": "VIP", "storefront": "nowhere"},
                                           headers=admin), 400, "UNKNOWN_STOREFRONT")

    async def test_support_may_not_create_a_group(self, api, support, expect_error) -> None:
        expect_error(await api.client.post(URL, json={"code": "vip", "name": "VIP"}, headers=support),
                     403, "PERMISSION_DENIED")


class TestMembership:
    async def test_an_assigned_customer_carries_the_group_on_its_storefront_only(self, api, admin, support) -> None:
        session = await api.signed_in("ada@example.com")
        await create(api, admin, "b")
        group = await new_group(api, admin)
        added = await api.client.post(f"{URL}/{group['id']}/members", json={"customers": ["ADA@example.com"]},
                                      headers=support)
        assert added.status_code == 200, added.text
        assert added.json() == {"changed": [{"id": session["user"]["id"], "email": "ada@example.com",
                                             "previous_group": None}], "unchanged": []}
        # The access tokens signed before the change are refused (their group is the old one)...
        [revoked] = await outbox_events(api, "identity.token_revoked")
        assert revoked.data["user_id"] == session["user"]["id"] and revoked.data["all_before"]
        # ...and the next refresh carries the group, for the storefront the token is for.
        rotated = await refreshed(api, session["refresh"])
        assert (claims(rotated["access"])["grp"], claims(rotated["access"])["grp_sf"]) == ("wholesale", "default")
        elsewhere = await refreshed(api, rotated["refresh"], storefront="b")
        assert "grp" not in claims(elsewhere["access"])
        members = (await api.client.get(f"{URL}/{group['id']}/members", headers=support)).json()
        assert [m["email"] for m in members["results"]] == ["ada@example.com"]
        [event] = await outbox_events(api, "customer_group.members_changed")
        assert event.data == {"storefront": "default", "code": "wholesale", "added": [session["user"]["id"]],
                              "removed": []}

    async def test_bulk_is_all_or_nothing_and_names_what_no_account_has(self, api, admin, support,
                                                                         expect_error) -> None:
        ada, bob = (await api.signed_in("ada@example.com"))["user"], (await api.signed_in("bob@example.com"))["user"]
        group = await new_group(api, admin)
        url = f"{URL}/{group['id']}/members"
        details = expect_error(await api.client.post(url, json={"customers": [
            "ada@example.com", "nobody@example.com", "00000000-0000-0000-0000-000000000001"]}, headers=support),
            404, "CUSTOMERS_NOT_FOUND")
        assert details == {"not_found": ["00000000-0000-0000-0000-000000000001", "nobody@example.com"]}
        assert (await api.client.get(f"{URL}/{group['id']}", headers=support)).json()["members"] == 0
        await api.client.post(url, json={"customers": ["ada@example.com"]}, headers=support)
        both = await api.client.post(url, json={"customers": [bob["id"], "ada@example.com", "bob@example.com"]},
                                     headers=support)
        assert both.status_code == 200, both.text
        assert [m["email"] for m in both.json()["changed"]] == ["bob@example.com"]
        assert [m["id"] for m in both.json()["unchanged"]] == [ada["id"]]
        assert (await api.client.get(f"{URL}/{group['id']}", headers=support)).json()["members"] == 2

    async def test_joining_another_group_of_the_storefront_leaves_the_first(self, api, admin, support) -> None:
        session = await api.signed_in("ada@example.com")
        first, second = await new_group(api, admin, "wholesale"), await new_group(api, admin, "trade")
        await api.client.post(f"{URL}/{first['id']}/members", json={"customers": ["ada@example.com"]}, headers=support)
        moved = await api.client.post(f"{URL}/{second['id']}/members", json={"customers": ["ada@example.com"]},
                                      headers=support)
        assert moved.json()["changed"][0]["previous_group"] == "wholesale"
        counts = {g["code"]: g["members"] for g in (await api.client.get(URL, headers=support)).json()["results"]}
        assert counts == {"trade": 1, "wholesale": 0}
        assert claims((await refreshed(api, session["refresh"]))["access"])["grp"] == "trade"

    async def test_removed_customers_pay_public_prices_from_their_next_token(self, api, admin, support) -> None:
        session = await api.signed_in("ada@example.com")
        group = await new_group(api, admin)
        await api.client.post(f"{URL}/{group['id']}/members", json={"customers": ["ada@example.com"]}, headers=support)
        removed = await api.client.delete(f"{URL}/{group['id']}/members/{session['user']['id']}", headers=support)
        assert removed.status_code == 200 and [m["email"] for m in removed.json()["changed"]] == ["ada@example.com"]
        again = await api.client.post(f"{URL}/{group['id']}/members/remove", json={"customers": ["ada@example.com"]},
                                      headers=support)
        assert again.json() == {"changed": [], "unchanged": [
            {"id": session["user"]["id"], "email": "ada@example.com", "previous_group": None}]}
        assert "grp" not in claims((await refreshed(api, session["refresh"]))["access"])

    async def test_staff_accounts_join_no_group(self, api, admin, support, test_keys, expect_error) -> None:
        await api.signed_in("mia@example.com")
        await api.client.post("/api/v1/staff/accounts", json={"email": "mia@example.com", "roles": ["support"]},
                              headers=admin)
        group = await new_group(api, admin)
        expect_error(await api.client.post(f"{URL}/{group['id']}/members", json={"customers": ["mia@example.com"]},
                                           headers=support), 400, "VALIDATION_ERROR")

    async def test_deleting_a_group_drops_its_members_and_is_audited(self, api, admin, support) -> None:
        session = await api.signed_in("ada@example.com")
        group = await new_group(api, admin)
        await api.client.post(f"{URL}/{group['id']}/members", json={"customers": ["ada@example.com"]}, headers=support)
        assert (await api.client.delete(f"{URL}/{group['id']}", headers=admin)).status_code == 204
        assert (await api.client.get(f"{URL}/{group['id']}", headers=support)).status_code == 404
        assert "grp" not in claims((await refreshed(api, session["refresh"]))["access"])
        [deleted] = await outbox_events(api, "customer_group.deleted")
        assert (deleted.data["storefront"], deleted.data["code"]) == ("default", "wholesale")
        await api.h.drain()
        audit = (await api.client.get("/api/v1/staff/audit", params={"target_type": "customer_group"},
                                      headers=admin)).json()["results"]
        assert sorted(row["action"] for row in audit) == [
            "customer_group.assign", "customer_group.create", "customer_group.delete"]
        [assigned] = [row for row in audit if row["action"] == "customer_group.assign"]
        assert assigned["after"]["customers"] == [session["user"]["id"]]


@pytest.mark.databases("sqlite", "postgres", why="parallel transactions against the database's locks")
class TestParallelChanges:
    async def test_one_customer_put_in_four_groups_at_once_ends_in_one(self, api, admin, support) -> None:
        """Each change takes its turn: every one answers 200, each later one moving the customer
        out of the group the one before put it in; a membership is never made twice (no 500)."""
        await api.signed_in("ada@example.com")
        groups = [await new_group(api, admin, code) for code in ("wholesale", "trade", "retail", "press")]
        answers = await asyncio.gather(*(api.client.post(f"{URL}/{group['id']}/members",
                                                         json={"customers": ["ada@example.com"]}, headers=support)
                                         for group in groups))
        assert [answer.status_code for answer in answers] == [200] * 4, [answer.text for answer in answers]
        counts = {g["code"]: g["members"] for g in (await api.client.get(URL, headers=support)).json()["results"]}
        assert sorted(counts.values()) == [0, 0, 0, 1]
        previous = [answer.json()["changed"][0]["previous_group"] for answer in answers]
        assert previous.count(None) == 1  # the first to take its turn; the others each left one group
        [last] = [code for code, members in counts.items() if members]
        assert last not in previous
