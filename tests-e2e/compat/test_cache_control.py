"""A profile's answer says whether it may be kept, as the native answers it was built from do: a
business customer's prices are `private`, a user's own data `no-store`, and an answer built from
shared ones `no-cache` (a CDN purge could not reach a copy). Through a profile they once carried
no `Cache-Control` at all, a group's prices included."""

from __future__ import annotations

import pytest
from infra.journeys import customer_group, join_group, login, register_verified, staff

from atelier_testing.platform import Platform

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.modes("embedded", "distributed", why="the in-process upstream (embedded) and the HTTP one (distributed) carry requests differently"),
]

# Each profile's "current user" read (native `GET /api/v1/users/me`) and its product list.
USER_ROUTES = {"marbelle": "/api/v1/auth/user/", "shop": "/api/v1/auth/me/", "storybook": "/api/customer/user/",
               "figureforge": "/api/auth/user/", "reviv": "/api/auth/me/"}
PRODUCT_LISTS = {"marbelle": "/api/v1/products/", "shop": "/api/v1/products/"}


async def _business(api) -> dict[str, str]:
    """A member of the default storefront's `business` group (staff put it there): its token carries a group."""
    account = await register_verified(api, company_name="Stone Works Ltd")
    admin = await staff(api)
    await join_group(api, admin, await customer_group(api, admin, "business"), account["email"])
    return {"Authorization": f"Bearer {(await login(api, account['email']))['access']}"}


@pytest.mark.parametrize("profile", sorted(USER_ROUTES))
async def test_a_users_own_answer_is_never_kept(platform: Platform, api, seed_client, profile: str) -> None:
    auth = await _business(api)
    assert (await api.get("/api/v1/users/me", headers=auth)).headers["cache-control"] == "no-store"
    async with seed_client(profile) as seed:
        answer = await seed.get(USER_ROUTES[profile], headers=auth)
    assert answer.status_code == 200, answer.text
    assert answer.headers.get("cache-control") == "no-store"


@pytest.mark.parametrize("profile", sorted(PRODUCT_LISTS))
async def test_a_groups_prices_are_private_and_shared_ones_revalidated(platform: Platform, api, seed_client,
                                                                       profile: str) -> None:
    auth = await _business(api)
    native = await api.get("/api/v1/products", headers=auth)
    assert native.headers["cache-control"] == "private, no-cache"
    async with seed_client(profile) as seed:
        group = await seed.get(PRODUCT_LISTS[profile], headers=auth)
        anonymous = await seed.get(PRODUCT_LISTS[profile])
    assert group.status_code == anonymous.status_code == 200, (group.text, anonymous.text)
    assert group.headers.get("cache-control") == "private, no-cache"
    assert anonymous.headers.get("cache-control") == "no-cache"
