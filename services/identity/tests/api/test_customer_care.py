"""What support does to a customer's account: suspend, reactivate, verify, reset, sign out,
mail resend; each idempotent, audited, and refused when the form is stale. An account with a staff
role is the admin's alone."""

from __future__ import annotations

from typing import Any

URL = "/api/v1/staff/customers"


async def _audit(api, test_keys, action: str) -> list[dict[str, Any]]:
    await api.h.drain()
    response = await api.client.get("/api/v1/staff/audit", params={"action": action},
                                    headers=test_keys.staff_headers())
    assert response.status_code == 200, response.text
    return response.json()["results"]


class TestSuspend:
    async def test_a_suspended_customer_cannot_sign_in_or_refresh_until_reactivated(self, api, test_keys,
                                                                                    expect_error) -> None:
        session = await api.signed_in("ada@example.com")
        user_id = session["user"]["id"]
        admin = test_keys.staff_headers()
        response = await api.client.post(f"{URL}/{user_id}/suspend", json={"reason": "chargeback fraud"},
                                         headers=admin)
        assert response.status_code == 200, response.text
        assert (response.json()["is_active"], response.json()["active_sessions"]) == (False, 0)
        expect_error(await api.login("ada@example.com"), 403, "ACCOUNT_DISABLED")
        expect_error(await api.client.post("/api/v1/auth/refresh", json={"refresh": session["refresh"]}), 403,
                     "ACCOUNT_DISABLED")
        # Again: the same account, no second audit row.
        again = await api.client.post(f"{URL}/{user_id}/suspend", headers=admin)
        assert again.status_code == 200 and again.json()["version"] == response.json()["version"]
        [row] = await _audit(api, test_keys, "customer.suspend")
        assert (row["target"], row["reason"], row["before"], row["after"]) == (
            user_id, "chargeback fraud", {"is_active": True}, {"is_active": False})

        # Reactivating undoes the admin's suspension: the admin's too, support is refused.
        expect_error(await api.client.post(f"{URL}/{user_id}/reactivate", headers=test_keys.staff_headers("support")),
                     403, "PERMISSION_DENIED")
        expect_error(await api.login("ada@example.com"), 403, "ACCOUNT_DISABLED")
        back = await api.client.post(f"{URL}/{user_id}/reactivate", headers=admin)
        assert back.status_code == 200 and back.json()["is_active"] is True
        assert (await api.login("ada@example.com")).status_code == 200
        assert len(await _audit(api, test_keys, "customer.reactivate")) == 1

    async def test_support_cannot_suspend_and_nothing_changes(self, api, test_keys) -> None:
        user_id = (await api.signed_in("ada@example.com"))["user"]["id"]
        response = await api.client.post(f"{URL}/{user_id}/suspend", headers=test_keys.staff_headers("support"))
        assert response.status_code == 403
        assert (await api.login("ada@example.com")).status_code == 200

    async def test_a_stale_form_is_refused_with_the_current_state(self, api, test_keys, expect_error) -> None:
        user_id = (await api.signed_in("ada@example.com"))["user"]["id"]
        admin = test_keys.staff_headers()
        read = (await api.client.get(f"{URL}/{user_id}", headers=admin)).json()
        # Someone else suspends meanwhile…
        await api.client.post(f"{URL}/{user_id}/suspend", json={"expected_version": read["version"]}, headers=admin)
        # …so the form read before that is stale, in the body or as If-Match.
        details = expect_error(await api.client.post(f"{URL}/{user_id}/reactivate",
                                                     json={"expected_version": read["version"]}, headers=admin),
                               409, "STALE_VERSION")
        assert details["current"]["is_active"] is False and details["version"] != read["version"]
        expect_error(await api.client.post(f"{URL}/{user_id}/reactivate", headers={**admin, "If-Match": f'"{read["version"]}"'}),
                     409, "STALE_VERSION")
        fresh = await api.client.post(f"{URL}/{user_id}/reactivate", headers={**admin, "If-Match": details["version"]})
        assert fresh.status_code == 200 and fresh.json()["is_active"] is True

    async def test_an_unknown_customer_is_404(self, api, test_keys, expect_error) -> None:
        expect_error(await api.client.post(f"{URL}/00000000-0000-0000-0000-000000000001/suspend",
                                           headers=test_keys.staff_headers()), 404, "USER_NOT_FOUND")


class TestVerifyResetSignOut:
    async def test_support_verifies_an_address_once(self, api, test_keys) -> None:
        registered = await api.register("bea@example.com")
        user_id = registered.json()["user"]["id"]
        support = test_keys.staff_headers("support")
        response = await api.client.post(f"{URL}/{user_id}/verify-email", headers=support)
        assert response.status_code == 200 and response.json()["email_verified_at"] is not None
        assert (await api.login("bea@example.com")).status_code == 200
        assert (await api.client.post(f"{URL}/{user_id}/verify-email", headers=support)).status_code == 200
        assert len(await _audit(api, test_keys, "customer.verify_email")) == 1

    async def test_a_reset_mail_from_support_lets_the_customer_choose_a_password(self, api, test_keys) -> None:
        user_id = (await api.signed_in("ada@example.com"))["user"]["id"]
        before = await api.mail_count("ada@example.com")
        response = await api.client.post(f"{URL}/{user_id}/password-reset", headers=test_keys.staff_headers("support"))
        assert response.status_code == 200, response.text
        token = await api.mailed_token("ada@example.com", before + 1)
        confirmed = await api.client.post("/api/v1/auth/password-reset/confirm",
                                          json={"token": token, "new_password": "a brand new secret",
                                                "new_password_confirm": "a brand new secret"})
        assert confirmed.status_code == 200, confirmed.text
        assert (await api.login("ada@example.com", "a brand new secret")).status_code == 200
        assert len(await _audit(api, test_keys, "customer.password_reset")) == 1

    async def test_no_reset_mail_for_a_suspended_account(self, api, test_keys, expect_error) -> None:
        user_id = (await api.signed_in("ada@example.com"))["user"]["id"]
        await api.client.post(f"{URL}/{user_id}/suspend", headers=test_keys.staff_headers())
        before = await api.mail_count("ada@example.com")
        expect_error(await api.client.post(f"{URL}/{user_id}/password-reset", headers=test_keys.staff_headers("support")),
                     409, "ACCOUNT_SUSPENDED")
        assert await api.mail_count("ada@example.com") == before

    async def test_a_retried_reset_with_its_key_mails_once(self, api, test_keys) -> None:
        user_id = (await api.signed_in("ada@example.com"))["user"]["id"]
        before = await api.mail_count("ada@example.com")
        headers = {**test_keys.staff_headers("support"), "Idempotency-Key": "reset-1"}
        for _ in range(2):
            assert (await api.client.post(f"{URL}/{user_id}/password-reset", headers=headers)).status_code == 200
        assert await api.mail_count("ada@example.com") == before + 1

    async def test_sign_out_ends_every_session_and_again_is_a_no_op(self, api, test_keys) -> None:
        first = await api.signed_in("ada@example.com")
        second = (await api.login("ada@example.com")).json()
        support = test_keys.staff_headers("support")
        detail = (await api.client.get(f"{URL}/{first['user']['id']}", headers=support)).json()
        assert detail["active_sessions"] == 2
        response = await api.client.post(f"{URL}/{first['user']['id']}/sign-out", headers=support)
        assert response.status_code == 200 and response.json()["active_sessions"] == 0
        for session in (first, second):
            refreshed = await api.client.post("/api/v1/auth/refresh", json={"refresh": session["refresh"]})
            assert refreshed.status_code == 401
        await api.client.post(f"{URL}/{first['user']['id']}/sign-out", headers=support)
        [row] = await _audit(api, test_keys, "customer.sign_out")
        assert row["before"] == {"active_sessions": 2}
        # The access tokens are denied too: the revocation event went out.
        await api.h.drain()
        assert any(e.data.get("all_before") for e in api.h.published("identity.token_revoked"))


class TestVerificationMail:
    async def test_support_mails_a_new_link_that_verifies_the_address(self, api, test_keys, expect_error) -> None:
        user_id = (await api.register("bea@example.com")).json()["user"]["id"]
        await api.wait_for_mail("bea@example.com")
        support = test_keys.staff_headers("support")
        response = await api.client.post(f"{URL}/{user_id}/verification-mail", json={"reason": "lost the first"},
                                         headers=support)
        assert response.status_code == 200, response.text
        assert response.json()["email_verified_at"] is None
        token = await api.mailed_token("bea@example.com", 2)
        verified = await api.client.post("/api/v1/auth/verify-email", json={"token": token})
        assert verified.status_code == 200, verified.text
        [row] = await _audit(api, test_keys, "customer.verification_mail")
        assert (row["target"], row["reason"], row["after"]) == (user_id, "lost the first",
                                                                {"mailed_to": "bea@example.com"})
        # Verified now: another would prove nothing, and mails nothing.
        expect_error(await api.client.post(f"{URL}/{user_id}/verification-mail", headers=support),
                     409, "EMAIL_ALREADY_VERIFIED")
        assert await api.mail_count("bea@example.com") == 2

    async def test_a_retried_request_with_its_key_mails_once(self, api, test_keys) -> None:
        user_id = (await api.register("bea@example.com")).json()["user"]["id"]
        headers = {**test_keys.staff_headers("support"), "Idempotency-Key": "verify-1"}
        for _ in range(2):
            response = await api.client.post(f"{URL}/{user_id}/verification-mail", headers=headers)
            assert response.status_code == 200, response.text
        assert await api.mail_count("bea@example.com") == 2  # the registration's and one more

    async def test_none_for_a_suspended_account_or_a_stale_form(self, api, test_keys, expect_error) -> None:
        user_id = (await api.register("bea@example.com")).json()["user"]["id"]
        support = test_keys.staff_headers("support")
        read = (await api.client.get(f"{URL}/{user_id}", headers=support)).json()
        await api.client.post(f"{URL}/{user_id}/suspend", headers=test_keys.staff_headers())
        before = await api.mail_count("bea@example.com")
        expect_error(await api.client.post(f"{URL}/{user_id}/verification-mail",
                                           json={"expected_version": read["version"]}, headers=support),
                     409, "STALE_VERSION")
        expect_error(await api.client.post(f"{URL}/{user_id}/verification-mail", headers=support),
                     409, "ACCOUNT_SUSPENDED")
        assert await api.mail_count("bea@example.com") == before
        expect_error(await api.client.post(f"{URL}/00000000-0000-0000-0000-000000000001/verification-mail",
                                           headers=support), 404, "USER_NOT_FOUND")


class TestSessions:
    async def test_support_lists_the_live_sessions_newest_first_and_sign_out_ends_them(self, api,
                                                                                       test_keys) -> None:
        first = await api.signed_in("ada@example.com")
        user_id = first["user"]["id"]
        second = (await api.login("ada@example.com")).json()
        # The first session refreshes: still one session, begun at its sign-in, used just now.
        rotated = await api.client.post("/api/v1/auth/refresh", json={"refresh": first["refresh"]})
        assert rotated.status_code == 200, rotated.text
        support = test_keys.staff_headers("support")
        response = await api.client.get(f"{URL}/{user_id}/sessions", headers=support)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["count"] == 2 and len(body["results"]) == 2
        newest, older = body["results"]
        assert newest["created_at"] < newest["last_used_at"]  # the refreshed one
        assert older["created_at"] == older["last_used_at"]
        assert {s["storefront"] for s in body["results"]} == {"default"}
        assert newest["expires_at"] > newest["last_used_at"]
        assert len({newest["id"], older["id"]}) == 2
        paged = (await api.client.get(f"{URL}/{user_id}/sessions", params={"limit": 1}, headers=support)).json()
        assert [s["id"] for s in paged["results"]] == [newest["id"]] and paged["next"]

        await api.client.post(f"{URL}/{user_id}/sign-out", headers=support)
        after = (await api.client.get(f"{URL}/{user_id}/sessions", headers=support)).json()
        assert (after["count"], after["results"]) == (0, [])
        assert (await api.client.post("/api/v1/auth/refresh", json={"refresh": second["refresh"]})).status_code == 401

    async def test_an_unknown_customer_is_404_and_a_merchandiser_is_refused(self, api, test_keys,
                                                                            expect_error) -> None:
        expect_error(await api.client.get(f"{URL}/00000000-0000-0000-0000-000000000001/sessions",
                                          headers=test_keys.staff_headers("support")), 404, "USER_NOT_FOUND")
        user_id = (await api.signed_in("ada@example.com"))["user"]["id"]
        expect_error(await api.client.get(f"{URL}/{user_id}/sessions", headers=test_keys.staff_headers("merchandiser")),
                     403, "PERMISSION_DENIED")


class TestStaffAccounts:
    """Support acts on customers; on an account holding any staff role only an admin does."""

    async def test_support_cannot_sign_out_reset_or_verify_a_staffer_an_admin_can(self, api, test_keys,
                                                                                   expect_error) -> None:
        admin = test_keys.staff_headers()
        for email, roles in (("boss@example.com", ["admin"]), ("sue@example.com", ["support"])):
            await api.verified_user(email)
            made = await api.client.post("/api/v1/staff/accounts", json={"email": email, "roles": roles},
                                         headers=admin)
            assert made.status_code == 200, made.text
        boss = await api.login("boss@example.com")
        assert boss.status_code == 200, boss.text
        boss_id = boss.json()["user"]["id"]
        support = test_keys.staff_headers("support")
        before = (await api.client.get(f"{URL}/{boss_id}", headers=support)).json()  # reading is fine
        assert before["active_sessions"] == 1 and before["staff_roles"] == ["admin"]

        for action in ("sign-out", "password-reset", "verify-email", "reactivate", "suspend"):
            expect_error(await api.client.post(f"{URL}/{boss_id}/{action}", headers=support), 403,
                         "PERMISSION_DENIED")
        after = (await api.client.get(f"{URL}/{boss_id}", headers=support)).json()
        assert (after["active_sessions"], after["version"]) == (1, before["version"])
        assert (await api.client.post("/api/v1/auth/refresh", json={"refresh": boss.json()["refresh"]})).status_code == 200
        # Another support staffer is a staff account too.
        sue_id = (await api.client.get(URL, params={"q": "sue@"}, headers=support)).json()["results"][0]["id"]
        expect_error(await api.client.post(f"{URL}/{sue_id}/sign-out", headers=support), 403, "PERMISSION_DENIED")
        for action in ("sign_out", "password_reset", "verify_email"):
            assert await _audit(api, test_keys, f"customer.{action}") == []

        signed_out = await api.client.post(f"{URL}/{boss_id}/sign-out", headers=admin)
        assert signed_out.status_code == 200 and signed_out.json()["active_sessions"] == 0


class TestMail:
    async def test_support_lists_a_customers_mail_without_bodies_and_resends_one(self, api, test_keys,
                                                                                 expect_error) -> None:
        await api.signed_in("ada@example.com")
        await api.wait_for_mail("ada@example.com")
        support = test_keys.staff_headers("support")
        listed = await api.client.get("/api/v1/staff/mail", params={"to": "ADA@example.com"}, headers=support)
        assert listed.status_code == 200, listed.text
        [mail] = listed.json()["results"]
        assert mail["kind"] == "verify_email" and "text" not in mail and "html" not in mail
        resent = await api.client.post(f"/api/v1/staff/mail/{mail['id']}/resend", json={"reason": "lost it"},
                                       headers=support)
        assert resent.status_code == 201, resent.text
        assert resent.json()["id"] != mail["id"] and resent.json()["subject"] == mail["subject"]
        mails = await api.wait_for_mail("ada@example.com", 2)
        assert mails[0]["text"] == mails[1]["text"]
        [row] = await _audit(api, test_keys, "mail.resend")
        assert (row["target"], row["reason"], row["after"]["resent_as"]) == (mail["id"], "lost it",
                                                                            resent.json()["id"])
        assert (await api.client.get("/api/v1/staff/mail", headers=support)).json()["count"] == 2
        expect_error(await api.client.post("/api/v1/staff/mail/00000000-0000-0000-0000-000000000001/resend",
                                           headers=support), 404, "MAIL_NOT_FOUND")

    async def test_a_merchandiser_neither_reads_nor_resends_mail(self, api, test_keys) -> None:
        response = await api.client.get("/api/v1/staff/mail", headers=test_keys.staff_headers("merchandiser"))
        assert response.status_code == 403
