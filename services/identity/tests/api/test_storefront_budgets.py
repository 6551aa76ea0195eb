"""The gateway's request budgets in a storefront's `policies` (docs/limits.md): identity keeps
and announces them; a PATCH changes the fields it sends."""

from __future__ import annotations

import pytest

from .test_storefronts import URL, create, outbox_events


async def test_the_budgets_are_kept_patched_and_announced(api, staff) -> None:
    created = await create(api, staff, policies={"anonymous_requests_per_minute": 20})
    assert created["policies"]["anonymous_requests_per_minute"] == 20
    assert created["policies"]["customer_requests_per_minute"] is None
    patched = await api.client.patch(f"{URL}/b", headers=staff, json={"policies": {"customer_requests_per_minute": 100}})
    assert patched.status_code == 200, patched.text
    policies = patched.json()["policies"]
    assert (policies["anonymous_requests_per_minute"], policies["customer_requests_per_minute"]) == (20, 100)
    cleared = await api.client.patch(f"{URL}/b", headers=staff, json={"policies": {"anonymous_requests_per_minute": None}})
    assert cleared.json()["policies"]["anonymous_requests_per_minute"] is None
    events = await outbox_events(api)
    assert events[-1].data["storefront"]["policies"] == cleared.json()["policies"]


@pytest.mark.parametrize("policies", [{"anonymous_requests_per_minute": 0}, {"customer_requests_per_minute": -1},
                                      {"anonymous_requests_per_minute": "20"}, {"customer_requests_per_minute": 1.5}])
async def test_a_budget_is_a_positive_whole_number(api, staff, expect_error, policies) -> None:
    response = await api.client.post(URL, headers=staff, json={
        "slug": "b", "name": "B", "frontend_url": "https://b.example", "policies": policies})
    expect_error(response, 400, "VALIDATION_ERROR")
