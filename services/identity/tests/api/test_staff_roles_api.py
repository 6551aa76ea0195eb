"""Identity's staff operations by role: storefronts are the admin's alone."""

from __future__ import annotations

import jwt

from atelier_testing.staff import assert_staff_roles

ADMIN: set[str] = set()  # no role but admin is let through
EXPECTED = {("GET", "/api/v1/storefronts"): ADMIN, ("POST", "/api/v1/storefronts"): ADMIN,
            ("GET", "/api/v1/storefronts/{slug}"): ADMIN, ("PATCH", "/api/v1/storefronts/{slug}"): ADMIN,
            ("DELETE", "/api/v1/storefronts/{slug}"): ADMIN, ("GET", "/api/v1/staff/audit"): ADMIN,
            ("GET", "/api/v1/staff/accounts"): ADMIN, ("POST", "/api/v1/staff/accounts"): ADMIN,
            # API keys for machine callers: the admin's alone.
            ("GET", "/api/v1/staff/api-keys"): ADMIN, ("POST", "/api/v1/staff/api-keys"): ADMIN,
            ("GET", "/api/v1/staff/api-keys/{key_id}"): ADMIN, ("POST", "/api/v1/staff/api-keys/{key_id}/rotate"): ADMIN,
            ("POST", "/api/v1/staff/api-keys/{key_id}/revoke"): ADMIN,
            ("GET", "/api/v1/staff/customers"): {"support", "finance"}, ("GET", "/api/v1/staff/customers/{user_id}"): {"support"},
            ("POST", "/api/v1/staff/customers/{user_id}/suspend"): ADMIN,
            # Reactivating undoes a suspension, which is the admin's.
            ("POST", "/api/v1/staff/customers/{user_id}/reactivate"): ADMIN,
            ("POST", "/api/v1/staff/customers/{user_id}/verify-email"): {"support"},
            ("POST", "/api/v1/staff/customers/{user_id}/password-reset"): {"support"},
            ("POST", "/api/v1/staff/customers/{user_id}/sign-out"): {"support"},
            ("POST", "/api/v1/staff/customers/{user_id}/verification-mail"): {"support"},
            ("GET", "/api/v1/staff/customers/{user_id}/sessions"): {"support"},
            ("GET", "/api/v1/staff/mail"): {"support"}, ("POST", "/api/v1/staff/mail/{mail_id}/resend"): {"support"},
            # Outbound webhooks: the admin's (and an API key's own endpoints, whatever its roles).
            ("GET", "/api/v1/webhook-endpoints"): ADMIN, ("POST", "/api/v1/webhook-endpoints"): ADMIN,
            ("GET", "/api/v1/webhook-endpoints/{endpoint_id}"): ADMIN,
            ("PATCH", "/api/v1/webhook-endpoints/{endpoint_id}"): ADMIN,
            ("DELETE", "/api/v1/webhook-endpoints/{endpoint_id}"): ADMIN,
            ("GET", "/api/v1/webhook-endpoints/{endpoint_id}/deliveries"): ADMIN,
            ("POST", "/api/v1/webhook-deliveries/{delivery_id}/replay"): ADMIN,
            ("GET", "/api/v1/staff/webhooks/events"): ADMIN,
            # Shipping zones and methods: the merchandiser's (and the admin's).
            **{(method, f"/api/v1/staff/shipping-zones{path}"): {"merchandiser"} for method, path in (
                ("GET", ""), ("POST", ""), ("GET", "/{zone_id}"), ("PATCH", "/{zone_id}"), ("DELETE", "/{zone_id}"),
                ("POST", "/{zone_id}/methods"), ("PATCH", "/{zone_id}/methods/{method_id}"),
                ("DELETE", "/{zone_id}/methods/{method_id}"))},
            # Customer groups: the admin keeps them, support puts customers in them, merchandisers
            # read them (price lists name their codes).
            **{(method, f"/api/v1/staff/customer-groups{path}"): roles for method, path, roles in (
                ("GET", "", {"support", "merchandiser"}), ("POST", "", ADMIN),
                ("GET", "/{group_id}", {"support", "merchandiser"}), ("PATCH", "/{group_id}", ADMIN),
                ("DELETE", "/{group_id}", ADMIN), ("GET", "/{group_id}/members", {"support", "merchandiser"}),
                ("POST", "/{group_id}/members", {"support"}), ("POST", "/{group_id}/members/remove", {"support"}),
                ("DELETE", "/{group_id}/members/{user_id}", {"support"}))}}


async def test_identity_staff_operations_by_role(api, test_keys) -> None:
    await assert_staff_roles(api.h.app, api.client, test_keys, EXPECTED)


async def test_a_merchandiser_creates_no_storefront(api, test_keys) -> None:
    body = {"slug": "b", "name": "B", "origins": ["https://b.example"], "frontend_url": "https://b.example",
            "currency": "EUR"}
    response = await api.client.post("/api/v1/storefronts", json=body, headers=test_keys.staff_headers("merchandiser"))
    assert response.status_code == 403
    listed = await api.client.get("/api/v1/storefronts", headers=test_keys.staff_headers())
    assert [s["slug"] for s in listed.json()["results"]] == ["default"]


class TestStaffAccounts:
    URL = "/api/v1/staff/accounts"

    async def test_an_admin_makes_a_customer_a_merchandiser_whose_next_token_says_so(self, api, test_keys) -> None:
        session = await api.signed_in("mia@example.com")
        admin = test_keys.staff_headers()
        response = await api.client.post(self.URL, json={"email": "Mia@example.com", "roles": ["merchandiser"]},
                                         headers=admin)
        assert response.status_code == 200, response.text
        assert response.json() == {"id": session["user"]["id"], "email": "mia@example.com", "roles": ["merchandiser"]}
        # The old session ended: the roles live in tokens, so the next sign-in carries them.
        assert (await api.client.post("/api/v1/auth/refresh", json={"refresh": session["refresh"]})).status_code == 401
        claims = jwt.decode((await api.login("mia@example.com", api.password)).json()["access"],
                            options={"verify_signature": False})
        assert claims["roles"] == ["customer", "staff", "merchandiser"]
        listed = (await api.client.get(self.URL, headers=admin)).json()
        assert [(a["email"], a["roles"]) for a in listed["results"]] == [("mia@example.com", ["merchandiser"])]
        await api.h.drain()
        [row] = (await api.client.get("/api/v1/staff/audit", headers=admin)).json()["results"]
        assert (row["action"], row["before"], row["after"]) == ("staff.roles_change", {"roles": []},
                                                                {"roles": ["merchandiser"]})

    async def test_unknown_roles_and_accounts_are_refused(self, api, test_keys) -> None:
        await api.signed_in("mia@example.com")
        admin = test_keys.staff_headers()
        bad = await api.client.post(self.URL, json={"email": "mia@example.com", "roles": ["owner"]}, headers=admin)
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "VALIDATION_ERROR"
        missing = await api.client.post(self.URL, json={"email": "x@example.com", "roles": ["support"]}, headers=admin)
        assert missing.status_code == 404
        assert (await api.client.get(self.URL, headers=admin)).json()["count"] == 0


class TestCustomerSearch:
    URL = "/api/v1/staff/customers"

    async def test_support_finds_customers_by_email_or_name_in_any_case(self, api, test_keys) -> None:
        ada = await api.signed_in("ada@example.com")
        await api.signed_in("grace_h@example.com")
        support = test_keys.staff_headers("support")

        async def found(q: str) -> list[str]:
            response = await api.client.get(self.URL, params={"q": q}, headers=support)
            assert response.status_code == 200, response.text
            return sorted(c["email"] for c in response.json()["results"])

        assert await found("ADA@") == ["ada@example.com"]
        assert await found("example.com") == ["ada@example.com", "grace_h@example.com"]
        assert await found("_h") == ["grace_h@example.com"]  # `_` is a character, not a wildcard
        assert await found("%") == []
        detail = await api.client.get(f"{self.URL}/{ada['user']['id']}", headers=support)
        assert detail.status_code == 200 and detail.json()["email"] == "ada@example.com"
        assert "password_hash" not in detail.json()

    async def test_support_names_many_ids_at_once_and_the_next_link_keeps_them(self, api, test_keys,
                                                                               expect_error) -> None:
        ids = {email: (await api.signed_in(email))["user"]["id"] for email in
               ("ada@example.com", "grace@example.com", "mary@example.com")}
        support = test_keys.staff_headers("support")
        wanted = [ids["ada@example.com"], ids["mary@example.com"], "00000000-0000-0000-0000-000000000001"]
        response = await api.client.get(self.URL, params={"id": wanted}, headers=support)
        assert response.status_code == 200, response.text
        assert sorted((c["id"], c["email"]) for c in response.json()["results"]) == sorted(
            (ids[e], e) for e in ("ada@example.com", "mary@example.com"))
        first = (await api.client.get(self.URL, params={"id": wanted, "limit": 1}, headers=support)).json()
        assert first["count"] == 2 and first["next"].count("id=") == 3
        following = (await api.client.get(first["next"], headers=support)).json()
        assert {first["results"][0]["email"], following["results"][0]["email"]} == {"ada@example.com",
                                                                                   "mary@example.com"}
        expect_error(await api.client.get(self.URL, params={"id": ["not-an-id"]}, headers=support),
                     400, "VALIDATION_ERROR")
        expect_error(await api.client.get(self.URL, params={"id": [ids["ada@example.com"]] * 101}, headers=support),
                     400, "VALIDATION_ERROR")

    async def test_a_merchandiser_cannot_look_customers_up(self, api, test_keys) -> None:
        response = await api.client.get(self.URL, headers=test_keys.staff_headers("merchandiser"))
        assert response.status_code == 403
