"""A logged-out access token is refused by identity itself when reached without the gateway."""

from __future__ import annotations


async def test_a_logged_out_token_is_refused_by_the_service_called_directly(api, harness, auth_header,
                                                                           expect_error) -> None:
    session = await api.signed_in()
    other_device = (await api.login()).json()
    headers = auth_header(session["access"])
    assert (await api.client.get("/api/v1/users/me", headers=headers)).status_code == 200
    assert (await api.client.post("/api/v1/auth/logout", json={"refresh": session["refresh"]},
                                  headers=headers)).status_code == 204
    await harness.drain()  # identity.token_revoked, published by the relay after the commit
    expect_error(await api.client.get("/api/v1/users/me", headers=headers), 401, "INVALID_TOKEN")
    assert (await api.client.get("/api/v1/users/me",
                                 headers=auth_header(other_device["access"]))).status_code == 200
