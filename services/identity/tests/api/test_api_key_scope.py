"""API keys on identity's staff routes: a key limited to some storefronts sees only the accounts
signed up on them and is refused every route that is not per storefront; a scope-only key calls
only the routes its scopes name (docs/security.md, "API keys")."""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlmodel import col

from atelier_identity.models import User
from atelier_testing.staff import assert_api_key_limits

C = "/api/v1/staff/customers"
CUSTOMER = "/api/v1/staff/customers/{user_id}"
STOREFRONT_SCOPED = {("GET", C), ("GET", CUSTOMER), ("GET", f"{CUSTOMER}/sessions"),
                     *(("POST", f"{CUSTOMER}/{action}") for action in (
                         "suspend", "reactivate", "verify-email", "password-reset", "sign-out",
                         "verification-mail"))}
G, Z, S = "/api/v1/staff/customer-groups", "/api/v1/staff/shipping-zones", "/api/v1/storefronts"
W = "/api/v1/webhook-endpoints"
STOREFRONT_SCOPED |= {("GET", G), ("POST", G), *((m, f"{G}/{{group_id}}") for m in ("GET", "PATCH", "DELETE")),
                      ("GET", f"{G}/{{group_id}}/members"), ("POST", f"{G}/{{group_id}}/members"),
                      ("POST", f"{G}/{{group_id}}/members/remove"), ("DELETE", f"{G}/{{group_id}}/members/{{user_id}}"),
                      ("GET", Z), ("POST", Z), *((m, f"{Z}/{{zone_id}}") for m in ("GET", "PATCH", "DELETE")),
                      ("POST", f"{Z}/{{zone_id}}/methods"), ("PATCH", f"{Z}/{{zone_id}}/methods/{{method_id}}"),
                      ("DELETE", f"{Z}/{{zone_id}}/methods/{{method_id}}"),
                      ("GET", S), *((m, f"{S}/{{slug}}") for m in ("GET", "PATCH", "DELETE")),
                      ("GET", "/api/v1/staff/webhooks/events"), ("GET", W), ("POST", W),
                      *((m, f"{W}/{{endpoint_id}}") for m in ("GET", "PATCH", "DELETE")),
                      ("GET", f"{W}/{{endpoint_id}}/deliveries"), ("POST", "/api/v1/webhook-deliveries/{delivery_id}/replay")}
SCOPED_IN = {"customers:read": {("GET", C), ("GET", CUSTOMER), ("GET", f"{CUSTOMER}/sessions")}}


async def test_identity_staff_routes_by_api_key(api, test_keys) -> None:
    await assert_api_key_limits(api.h.app, api.client, test_keys, storefront_scoped=STOREFRONT_SCOPED,
                                scoped_in=SCOPED_IN)


async def _signed_up_on(api, harness, email: str, storefront: str) -> str:
    user_id = (await api.signed_in(email))["user"]["id"]
    async with harness.runtime.db.transaction() as session:
        await session.execute(update(User).where(col(User.id) == uuid.UUID(user_id)).values(signup_storefront=storefront))
    return user_id


async def test_a_key_finds_and_acts_on_the_customers_of_its_storefronts_only(api, harness, test_keys,
                                                                             expect_error) -> None:
    ada = await _signed_up_on(api, harness, "ada@example.com", "shop")
    mia = await _signed_up_on(api, harness, "mia@example.com", "marbelle")
    shop = test_keys.api_key_headers(["support"], ["shop"])
    listed = (await api.client.get(C, headers=shop)).json()
    assert [c["id"] for c in listed["results"]] == [ada] and listed["count"] == 1
    named = (await api.client.get(C, params={"id": [ada, mia]}, headers=shop)).json()
    assert [c["id"] for c in named["results"]] == [ada]
    assert (await api.client.get(f"{C}/{ada}", headers=shop)).status_code == 200
    for method, path in (("GET", ""), ("GET", "/sessions"), ("POST", "/sign-out"), ("POST", "/verify-email")):
        expect_error(await api.client.request(method, f"{C}/{mia}{path}", headers=shop), 404, "USER_NOT_FOUND")
    assert (await api.client.post(f"{C}/{ada}/sign-out", headers=shop)).status_code == 200
    # Every storefront (`*`) and a person's token: every account, as before.
    for every in (test_keys.api_key_headers(["support"], ["*"]), test_keys.staff_headers("support")):
        assert (await api.client.get(C, headers=every)).json()["count"] == 2
    # A read-only scope reads customers and writes nothing.
    reader = test_keys.api_key_headers([], ["shop"], scopes=["customers:read"])
    assert (await api.client.get(f"{C}/{ada}", headers=reader)).status_code == 200
    expect_error(await api.client.get(f"{C}/{mia}", headers=reader), 404, "USER_NOT_FOUND")
    expect_error(await api.client.post(f"{C}/{ada}/sign-out", headers=reader), 403, "PERMISSION_DENIED")
    expect_error(await api.client.get("/api/v1/staff/customer-groups", headers=reader), 403, "PERMISSION_DENIED")


async def test_a_key_keeps_only_the_groups_zones_and_settings_of_its_storefronts(api, harness, test_keys,
                                                                                expect_error) -> None:
    admin = test_keys.staff_headers()
    group = await api.client.post(G, json={"code": "vip", "name": "VIP"}, headers=admin)
    assert group.status_code == 201, group.text
    group_id = group.json()["id"]
    ada = await _signed_up_on(api, harness, "ada@example.com", "default")
    inside = test_keys.api_key_headers(["admin"], ["default"])
    outside = test_keys.api_key_headers(["admin"], ["outlet"])
    assert [g["id"] for g in (await api.client.get(G, headers=inside)).json()["results"]] == [group_id]
    assert (await api.client.get(G, headers=outside)).json()["results"] == []
    expect_error(await api.client.get(f"{G}/{group_id}", headers=outside), 404, "CUSTOMER_GROUP_NOT_FOUND")
    expect_error(await api.client.post(f"{G}/{group_id}/members", json={"customers": [ada]}, headers=outside),
                 404, "CUSTOMER_GROUP_NOT_FOUND")
    expect_error(await api.client.post(G, json={"code": "b2b", "name": "B2B"}, headers=outside), 404,
                 "STOREFRONT_NOT_FOUND")
    # A customer signed up elsewhere is no customer of the key's: not found, nothing assigned.
    mia = await _signed_up_on(api, harness, "mia@example.com", "outlet")
    expect_error(await api.client.post(f"{G}/{group_id}/members", json={"customers": [mia]}, headers=inside),
                 404, "CUSTOMERS_NOT_FOUND")
    assert (await api.client.get(f"{G}/{group_id}", headers=admin)).json()["members"] == 0
    # Storefront settings and shipping zones: only its own.
    assert [s["slug"] for s in (await api.client.get(S, headers=inside)).json()["results"]] == ["default"]
    assert (await api.client.get(S, headers=outside)).json()["results"] == []
    expect_error(await api.client.get(f"{S}/default", headers=outside), 404, "STOREFRONT_NOT_FOUND")
    expect_error(await api.client.patch(f"{S}/default", json={"name": "Mine"}, headers=outside), 404,
                 "STOREFRONT_NOT_FOUND")
    expect_error(await api.client.post(S, json={"slug": "b", "name": "B"}, headers=inside), 403, "PERMISSION_DENIED")
    assert (await api.client.get(Z, headers=outside)).json()["results"] == []
    expect_error(await api.client.post(Z, json={"name": "EU", "countries": ["DE"]}, headers=outside), 404,
                 "STOREFRONT_NOT_FOUND")
    # Not per storefront: the audit log, staff accounts, API keys, mail.
    for path in ("/api/v1/staff/audit", "/api/v1/staff/accounts", "/api/v1/staff/api-keys", "/api/v1/staff/mail"):
        expect_error(await api.client.get(path, headers=inside), 403, "PERMISSION_DENIED")
