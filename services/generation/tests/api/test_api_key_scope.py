"""API keys on generation's staff routes: jobs, books and credit balances are an account's, kept
with no storefront of their own, so a key limited to some storefronts is refused every one (403),
as is a scope-only key (docs/security.md, "API keys")."""

from __future__ import annotations

from atelier_testing import assert_error
from atelier_testing.staff import assert_api_key_limits


async def test_generation_staff_routes_by_api_key(api) -> None:
    await assert_api_key_limits(api.h.app, api.client, api.keys, storefront_scoped=set(), scoped_in={})


async def test_a_key_of_every_storefront_reads_jobs_as_its_roles_allow(api) -> None:
    every = api.keys.api_key_headers(["support"], ["*"])
    assert (await api.client.get("/api/v1/staff/jobs", headers=every)).status_code == 200
    assert_error(await api.client.get("/api/v1/staff/jobs", headers=api.keys.api_key_headers(["support"], ["default"])),
                 403, "PERMISSION_DENIED")
