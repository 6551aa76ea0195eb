"""Identity's staff operations by role (#36): storefronts are the admin's alone."""

from __future__ import annotations

from atelier_testing.staff import assert_staff_roles

ADMIN: set[str] = set()  # no role but admin is let through
EXPECTED = {("GET", "/api/v1/storefronts"): ADMIN, ("POST", "/api/v1/storefronts"): ADMIN,
            ("GET", "/api/v1/storefronts/{slug}"): ADMIN, ("PATCH", "/api/v1/storefronts/{slug}"): ADMIN,
            ("DELETE", "/api/v1/storefronts/{slug}"): ADMIN, ("GET", "/api/v1/staff/audit"): ADMIN}


async def test_identity_staff_operations_by_role(api, test_keys) -> None:
    await assert_staff_roles(api.h.app, api.client, test_keys, EXPECTED)


async def test_a_merchandiser_creates_no_storefront(api, test_keys) -> None:
    body = {"slug": "b", "name": "B", "origins": ["https://b.example"], "frontend_url": "https://b.example",
            "currency": "EUR"}
    response = await api.client.post("/api/v1/storefronts", json=body, headers=test_keys.staff_headers("merchandiser"))
    assert response.status_code == 403
    listed = await api.client.get("/api/v1/storefronts", headers=test_keys.staff_headers())
    assert [s["slug"] for s in listed.json()["results"]] == ["default"]
