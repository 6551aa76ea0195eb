"""Price lists: staff keep a customer group's prices; a caller of the group reads them in the
catalog (and its internal lookup), everybody else the catalog's own prices, from the cache too."""

from __future__ import annotations

from typing import Any

import pytest

from atelier_common.auth import SERVICE_HEADER
from atelier_common.cache import PUBLIC_AUDIENCE, entry_key
from atelier_common.contracts.identity import CustomerGroupDeleted

from ..conftest import assert_error, customer_group

LISTS = "/api/v1/staff/price-lists"


@pytest.fixture
def service_headers(catalog_settings) -> dict[str, str]:
    return {SERVICE_HEADER: catalog_settings.service_token}


@pytest.fixture
def merchandiser(test_keys) -> dict[str, str]:
    return test_keys.staff_headers("merchandiser")


@pytest.fixture(autouse=True)
async def business_group(harness) -> None:
    """The default storefront's `business` group, as identity announces it."""
    await customer_group(harness)


async def _price_list(harness, headers: dict[str, str], prices: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    body = {"name": "Business", "storefront": "default", "currency": "USD", "customer_group": "business",
            "prices": prices, **fields}
    response = await harness.client.post(LISTS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


class TestCatalogReads:
    async def test_a_business_customer_reads_the_list_price_and_a_consumer_the_base_price(
            self, catalog, harness, merchandiser, test_keys) -> None:
        category = await catalog.category()
        product = await catalog.product(price="100.00", category_id=category["id"])
        other = await catalog.product(price="50.00")
        price_list = await _price_list(harness, merchandiser, [{"product_id": product["id"], "price": "80.00"}])
        business = test_keys.group_headers("business")
        in_category = (await harness.client.get(f"/api/v1/categories/{category['slug']}/products",
                                                headers=business)).json()
        assert [(p["price"], p["list_price"]) for p in in_category["results"]] == [("80.00", "100.00")]

        detail = (await harness.client.get(f"/api/v1/products/{product['id']}", headers=business)).json()
        assert (detail["price"], detail["list_price"]) == ("80.00", "100.00")
        assert detail["price_list"] == {"id": price_list["id"], "name": "Business"}
        page = (await harness.client.get("/api/v1/products?ordering=-price", headers=business)).json()
        assert [(p["price"], p["list_price"]) for p in page["results"]] == [("80.00", "100.00"), ("50.00", None)]
        search = (await harness.client.get(f"/api/v1/products?search={product['sku']}", headers=business)).json()
        assert search["results"][0]["price"] == "80.00"

        for headers in ({}, test_keys.user_headers(), test_keys.anon_headers(), test_keys.staff_headers()):
            seen = (await harness.client.get(f"/api/v1/products/{product['id']}", headers=headers)).json()
            assert (seen["price"], seen["list_price"], seen["price_list"]) == ("100.00", None, None)
        assert other["price"] == "50.00"

    async def test_each_audience_is_served_its_own_cached_answer(self, catalog, harness, merchandiser,
                                                                test_keys) -> None:
        product = await catalog.product(price="100.00")
        await _price_list(harness, merchandiser, [{"product_id": product["id"], "price": "80.00"}])
        path = f"/api/v1/products/{product['id']}"
        business, consumer = test_keys.group_headers(), test_keys.user_headers()
        for _ in range(2):  # the second round is answered from the cache
            first = await harness.client.get(path, headers=business)
            second = await harness.client.get(path, headers=consumer)
            third = await harness.client.get(path)
            assert first.json()["price"] == "80.00" and first.headers["cache-control"].startswith("private")
            assert second.json()["price"] == "100.00" and second.headers["cache-control"].startswith("public")
            assert third.json()["price"] == "100.00"
        store = harness.runtime.cache
        host = first.request.headers["host"].encode()
        assert await store.get(entry_key("http", host, path, b"", PUBLIC_AUDIENCE, b"")) is not None
        assert await store.get(entry_key("http", host, path, b"", "group:business@default", b"")) is not None

    async def test_a_list_change_reaches_the_cached_group_answer(self, catalog, harness, merchandiser,
                                                                test_keys) -> None:
        product = await catalog.product(price="100.00")
        price_list = await _price_list(harness, merchandiser, [{"product_id": product["id"], "price": "80.00"}])
        path, business = f"/api/v1/products/{product['id']}", test_keys.group_headers()
        assert (await harness.client.get(path, headers=business)).json()["price"] == "80.00"
        changed = await harness.client.patch(f"{LISTS}/{price_list['id']}", json={"is_active": False},
                                             headers=merchandiser)
        assert changed.status_code == 200, changed.text
        assert (await harness.client.get(path, headers=business)).json()["price"] == "100.00"

    async def test_variants_take_their_own_list_price_or_follow_the_products(self, catalog, harness, merchandiser,
                                                                            test_keys) -> None:
        product = await catalog.product(price="100.00")
        follows = (await harness.client.post(f"/api/v1/products/{product['id']}/variants",
                                             json={"name": "A", "sku": f"{product['sku']}-A"},
                                             headers=merchandiser)).json()
        own = (await harness.client.post(f"/api/v1/products/{product['id']}/variants",
                                         json={"name": "B", "sku": f"{product['sku']}-B", "price": "120.00"},
                                         headers=merchandiser)).json()
        listed = (await harness.client.post(f"/api/v1/products/{product['id']}/variants",
                                            json={"name": "C", "sku": f"{product['sku']}-C", "price": "130.00"},
                                            headers=merchandiser)).json()
        await _price_list(harness, merchandiser, [
            {"product_id": product["id"], "price": "90.00"},
            {"product_id": product["id"], "variant_id": listed["id"], "price": "110.00"}])
        detail = (await harness.client.get(f"/api/v1/products/{product['id']}",
                                           headers=test_keys.group_headers())).json()
        by_id = {v["id"]: (v["price"], v["list_price"]) for v in detail["variants"]}
        assert by_id == {follows["id"]: ("90.00", "100.00"), own["id"]: ("120.00", None),
                         listed["id"]: ("110.00", "130.00")}

    async def test_only_an_active_list_of_the_callers_storefront_and_the_products_currency_applies(
            self, catalog, harness, merchandiser, test_keys) -> None:
        product = await catalog.product(price="100.00")
        euro = await catalog.product(price="100.00", currency="EUR")
        await _price_list(harness, merchandiser, [{"product_id": product["id"], "price": "70.00"}], is_active=False)
        await _price_list(harness, merchandiser, [{"product_id": euro["id"], "price": "60.00"}], currency="EUR")
        await _price_list(harness, merchandiser, [{"product_id": product["id"], "price": "90.00"}])
        await _price_list(harness, merchandiser, [{"product_id": product["id"], "price": "85.00"}], name="Cheaper")
        business = test_keys.group_headers()
        detail = (await harness.client.get(f"/api/v1/products/{product['id']}", headers=business)).json()
        assert (detail["price"], detail["price_list"]["name"]) == ("85.00", "Cheaper")
        assert (await harness.client.get(f"/api/v1/products/{euro['id']}", headers=business)).json()["price"] == "60.00"


class TestInternalLookup:
    async def test_the_lookup_prices_for_the_group_it_names(self, catalog, harness, merchandiser, test_keys,
                                                            service_headers) -> None:
        product = await catalog.product(price="100.00")
        await _price_list(harness, merchandiser, [{"product_id": product["id"], "price": "80.00"}])
        plain = await harness.client.post("/internal/products/lookup", json={"ids": [product["id"]]},
                                          headers=service_headers)
        grouped = await harness.client.post("/internal/products/lookup", json={
            "ids": [product["id"]], "storefront": "default", "customer_group": "business"}, headers=service_headers)
        assert plain.json()["results"][0]["price"] == "100.00"
        assert grouped.json()["results"][0]["price"] == "80.00"


class TestStaffEdits:
    async def test_create_read_replace_prices_and_delete(self, catalog, harness, merchandiser) -> None:
        product = await catalog.product(price="100.00")
        created = await _price_list(harness, merchandiser, [{"product_id": product["id"], "price": "80.00"}])
        assert created["prices"] == [{"product_id": product["id"], "variant_id": None, "price": "80.00"}]
        listed = (await harness.client.get(LISTS, headers=merchandiser)).json()
        assert [r["id"] for r in listed["results"]] == [created["id"]]
        replaced = await harness.client.patch(f"{LISTS}/{created['id']}", headers={
            **merchandiser, "If-Match": created["version"]}, json={
            "prices": [{"product_id": product["id"], "price": "75.50"}], "name": "Trade"})
        assert replaced.status_code == 200, replaced.text
        assert (replaced.json()["name"], replaced.json()["prices"][0]["price"]) == ("Trade", "75.50")
        assert replaced.json()["version"] != created["version"]
        stale = await harness.client.patch(f"{LISTS}/{created['id']}", json={
            "is_active": False, "expected_version": created["version"]}, headers=merchandiser)
        assert_error(stale, 409, "STALE_VERSION")
        assert stale.json()["error"]["details"]["current"]["name"] == "Trade"
        deleted = await harness.client.delete(f"{LISTS}/{created['id']}", headers=merchandiser)
        assert deleted.status_code == 204
        assert_error(await harness.client.get(f"{LISTS}/{created['id']}", headers=merchandiser), 404, "NOT_FOUND")

    async def test_a_list_without_a_storefront_prices_the_requests(self, catalog, harness, merchandiser) -> None:
        product = await catalog.product(price="100.00")
        body = {"name": "Business", "currency": "USD", "customer_group": "business",
                "prices": [{"product_id": product["id"], "price": "80.00"}]}
        response = await harness.client.post(LISTS, json=body, headers=merchandiser)
        assert response.status_code == 201, response.text
        assert response.json()["storefront"] == "default"

    async def test_every_write_is_audited(self, catalog, harness, merchandiser) -> None:
        product = await catalog.product(price="100.00")
        await harness.drain()
        harness.bus.published.clear()
        created = await _price_list(harness, merchandiser, [{"product_id": product["id"], "price": "80.00"}])
        await harness.client.patch(f"{LISTS}/{created['id']}", json={"is_active": False}, headers=merchandiser)
        await harness.client.delete(f"{LISTS}/{created['id']}", headers=merchandiser)
        await harness.drain()
        actions = [e.data for e in harness.published("staff.action_recorded")]
        assert [a["action"] for a in actions] == ["price_list.create", "price_list.update", "price_list.delete"]
        assert actions[1]["before"]["is_active"] is True and actions[1]["after"]["is_active"] is False

    @pytest.mark.parametrize(("fields", "where"), [
        ({"customer_group": "vip"}, "customer_group"),
        ({"customer_group": "Not A Code"}, "customer_group"),
        ({"storefront": "nowhere"}, "storefront"),
        ({"currency": "usd1"}, "currency"),
    ])
    async def test_a_bad_list_is_refused_and_nothing_is_written(self, harness, merchandiser, fields,
                                                                where) -> None:
        body = {"name": "B", "storefront": "default", "currency": "USD", "customer_group": "business", **fields}
        response = await harness.client.post(LISTS, json=body, headers=merchandiser)
        assert response.status_code == 400, response.text
        assert where in str(response.json()["error"]["details"])
        assert (await harness.client.get(LISTS, headers=merchandiser)).json()["count"] == 0

    async def test_bad_prices_are_refused(self, catalog, harness, merchandiser) -> None:
        product = await catalog.product(price="100.00")
        euro = await catalog.product(price="100.00", currency="EUR")
        pack = await catalog.product(price="5.00", kind="credit_pack", attributes={"credits": 5})
        other = await catalog.product(price="10.00")
        variant = (await harness.client.post(f"/api/v1/products/{other['id']}/variants",
                                             json={"name": "X", "sku": f"{other['sku']}-X"},
                                             headers=merchandiser)).json()
        for prices in ([{"product_id": product["id"], "price": "1.00"}] * 2,
                       [{"product_id": euro["id"], "price": "1.00"}],
                       [{"product_id": pack["id"], "price": "1.00"}],
                       [{"product_id": product["id"], "variant_id": variant["id"], "price": "1.00"}],
                       [{"product_id": "00000000-0000-4000-8000-000000000000", "price": "1.00"}],
                       [{"product_id": product["id"], "price": "-1.00"}]):
            response = await harness.client.post(LISTS, json={
                "name": "B", "storefront": "default", "currency": "USD", "customer_group": "business",
                "prices": prices}, headers=merchandiser)
            assert_error(response, 400, "VALIDATION_ERROR")
        assert (await harness.client.get(LISTS, headers=merchandiser)).json()["count"] == 0


class TestAnyGroup:
    """A list names any group identity made on its storefront, and no other."""

    async def test_a_new_group_gets_its_own_prices_once_catalog_heard_of_it(
            self, catalog, harness, merchandiser, test_keys) -> None:
        product = await catalog.product(price="100.00")
        body = {"name": "Wholesale", "storefront": "default", "currency": "USD", "customer_group": "wholesale",
                "prices": [{"product_id": product["id"], "price": "70.00"}]}
        refused = await harness.client.post(LISTS, json=body, headers=merchandiser)
        assert_error(refused, 400, "VALIDATION_ERROR")
        assert "no customer group 'wholesale'" in str(refused.json()["error"]["details"])
        await customer_group(harness, "wholesale")
        assert (await harness.client.post(LISTS, json=body, headers=merchandiser)).status_code == 201
        await _price_list(harness, merchandiser, [{"product_id": product["id"], "price": "80.00"}])
        path = f"/api/v1/products/{product['id']}"
        wholesale = (await harness.client.get(path, headers=test_keys.group_headers("wholesale"))).json()
        assert (wholesale["price"], wholesale["price_list"]["name"]) == ("70.00", "Wholesale")
        business = (await harness.client.get(path, headers=test_keys.group_headers("business"))).json()
        assert business["price"] == "80.00"
        # The group of another storefront's token is nobody's here.
        elsewhere = test_keys.group_headers("wholesale", storefront="marbelle")
        assert (await harness.client.get(path, headers=elsewhere)).json()["price"] == "100.00"

    async def test_a_deleted_group_takes_no_new_list_and_an_old_event_does_not_bring_it_back(
            self, catalog, harness, merchandiser) -> None:
        await customer_group(harness, "wholesale", revision=5)
        await harness.deliver(CustomerGroupDeleted(storefront="default", code="wholesale", revision=6),
                              producer="identity")
        await customer_group(harness, "wholesale", revision=4)  # late, older
        body = {"name": "W", "storefront": "default", "currency": "USD", "customer_group": "wholesale"}
        assert_error(await harness.client.post(LISTS, json=body, headers=merchandiser), 400, "VALIDATION_ERROR")
        await customer_group(harness, "wholesale", revision=7)  # made again
        assert (await harness.client.post(LISTS, json=body, headers=merchandiser)).status_code == 201
