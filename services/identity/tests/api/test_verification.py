"""POST /api/v1/auth/verify-email and /api/v1/auth/resend-verification."""

from __future__ import annotations


class TestVerifyEmail:
    async def test_register_verify_login_and_read_the_profile(self, api, auth_header) -> None:
        registered = (await api.register()).json()["user"]
        token = await api.mailed_token("ada@example.com")
        verified = await api.client.post("/api/v1/auth/verify-email", json={"token": token})
        assert verified.status_code == 200, verified.text
        assert verified.json()["user"]["is_verified"] is True
        login = await api.login()
        assert login.status_code == 200, login.text
        me = await api.client.get("/api/v1/users/me", headers=auth_header(login.json()["access"]))
        assert me.status_code == 200
        assert me.json()["id"] == registered["id"] and me.json()["is_verified"] is True

    async def test_a_token_works_once(self, api, expect_error) -> None:
        await api.register()
        token = await api.mailed_token("ada@example.com")
        assert (await api.client.post("/api/v1/auth/verify-email", json={"token": token})).status_code == 200
        expect_error(await api.client.post("/api/v1/auth/verify-email", json={"token": token}), 400, "INVALID_TOKEN")

    async def test_an_unknown_token_is_400(self, api, expect_error) -> None:
        expect_error(await api.client.post("/api/v1/auth/verify-email", json={"token": "nope"}), 400, "INVALID_TOKEN")

    async def test_an_expired_token_is_400_and_leaves_the_account_unverified(self, start_identity,
                                                                             expect_error) -> None:
        async with start_identity(email_verification_ttl_hours=0) as api:
            await api.register()
            token = await api.mailed_token("ada@example.com")
            expect_error(await api.client.post("/api/v1/auth/verify-email", json={"token": token}), 400,
                         "INVALID_TOKEN")
            expect_error(await api.login(), 403, "EMAIL_NOT_VERIFIED")

    async def test_a_missing_token_is_a_validation_error(self, api, expect_error) -> None:
        expect_error(await api.client.post("/api/v1/auth/verify-email", json={}), 400, "VALIDATION_ERROR")


class TestResendVerification:
    async def test_an_unverified_account_gets_a_new_link(self, api) -> None:
        await api.register()
        first = await api.mailed_token("ada@example.com")
        response = await api.client.post("/api/v1/auth/resend-verification", json={"email": "ADA@example.com"})
        assert response.status_code == 200
        second = await api.mailed_token("ada@example.com", count=2)
        assert second != first
        assert (await api.client.post("/api/v1/auth/verify-email", json={"token": second})).status_code == 200

    async def test_verifying_spends_the_other_links_too(self, api, expect_error) -> None:
        await api.register()
        first = await api.mailed_token("ada@example.com")
        await api.client.post("/api/v1/auth/resend-verification", json={"email": "ada@example.com"})
        second = await api.mailed_token("ada@example.com", count=2)
        assert (await api.client.post("/api/v1/auth/verify-email", json={"token": second})).status_code == 200
        expect_error(await api.client.post("/api/v1/auth/verify-email", json={"token": first}), 400, "INVALID_TOKEN")

    async def test_the_answer_is_the_same_whether_or_not_the_account_exists(self, api) -> None:
        await api.verified_user("ada@example.com")
        answers = [await api.client.post("/api/v1/auth/resend-verification", json={"email": email})
                   for email in ("ada@example.com", "nobody@example.com")]
        assert [a.status_code for a in answers] == [200, 200]
        assert answers[0].json() == answers[1].json()
        # The verified account gets nothing new; the unknown address gets nothing at all.
        assert len(await api.mailbox_after_delivery("ada@example.com")) == 1
        assert await api.mailbox_after_delivery("nobody@example.com") == []

    async def test_requests_are_rate_limited_per_address(self, api, expect_error) -> None:
        for _ in range(3):
            response = await api.client.post("/api/v1/auth/resend-verification", json={"email": "x@example.com"})
            assert response.status_code == 200
        limited = await api.client.post("/api/v1/auth/resend-verification", json={"email": "x@example.com"})
        expect_error(limited, 429, "RATE_LIMITED")
        assert int(limited.headers["retry-after"]) >= 1
        other = await api.client.post("/api/v1/auth/resend-verification", json={"email": "y@example.com"})
        assert other.status_code == 200

    async def test_requests_from_elsewhere_never_keep_the_owner_from_the_link(self, api, expect_error) -> None:
        """Counted per (account, client address) (docs/security.md): the owner's budget is their own."""
        async def resend(address: str):
            return await api.client.post("/api/v1/auth/resend-verification", json={"email": "ada@example.com"},
                                         headers={"X-Forwarded-For": address})

        assert (await api.register()).status_code == 201
        for _ in range(3):
            assert (await resend("203.0.113.7")).status_code == 200
        expect_error(await resend("203.0.113.7"), 429, "RATE_LIMITED")
        assert (await resend("198.51.100.1")).status_code == 200
        verified = await api.client.post("/api/v1/auth/verify-email", json={
            "token": await api.mailed_token("ada@example.com", 5)})
        assert verified.status_code == 200, verified.text

