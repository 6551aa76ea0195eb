"""Every catalog staff operation is the merchandiser's (and the admin's): other staff roles get 403."""

from __future__ import annotations

from atelier_testing.staff import assert_staff_roles

MERCHANDISER = {"merchandiser"}
P = "/api/v1/products/{product_ref}"
V, IMG = f"{P}/variants", f"{P}/images"
# Whose texts a translation is: a product's, a variant's, a category's.
TRANSLATED = (P, f"{V}/{{variant_id}}", "/api/v1/categories/{category_ref}")
EXPECTED = {
    **{("POST", path): MERCHANDISER for path in ("/api/v1/products", f"{P}/stock", V, IMG, f"{IMG}/upload",
                                                 "/api/v1/categories", "/api/v1/products/import")},
    ("GET", "/api/v1/products/export.csv"): MERCHANDISER,
    ("GET", "/api/v1/products/low-stock"): MERCHANDISER,
    ("GET", "/api/v1/products/translations.csv"): MERCHANDISER,
    ("POST", "/api/v1/products/translations/import"): MERCHANDISER,
    **{("GET", f"{path}/translations"): MERCHANDISER for path in TRANSLATED},
    **{(method, f"{path}/translations/{{locale}}"): MERCHANDISER for method in ("PUT", "DELETE") for path in TRANSLATED},
    **{(method, "/api/v1/staff/price-lists"): MERCHANDISER for method in ("GET", "POST")},
    **{(method, "/api/v1/staff/price-lists/{price_list_id}"): MERCHANDISER for method in ("GET", "PATCH", "DELETE")},
    **{(method, "/api/v1/staff/locations"): MERCHANDISER for method in ("GET", "POST")},
    **{(method, "/api/v1/staff/locations/{location_id}"): MERCHANDISER for method in ("GET", "PATCH", "DELETE")},
    ("GET", "/api/v1/staff/locations/stock/{product_ref}"): MERCHANDISER,
    ("POST", "/api/v1/staff/stock-transfers"): MERCHANDISER,
    **{(method, path): MERCHANDISER for method in ("PUT", "PATCH", "DELETE")
       for path in (P, f"{V}/{{variant_id}}", f"{IMG}/{{image_id}}", "/api/v1/categories/{category_ref}")},
}


async def test_catalog_staff_operations_by_role(harness, test_keys) -> None:
    await assert_staff_roles(harness.app, harness.client, test_keys, EXPECTED)


async def test_a_support_staffer_changes_no_price(catalog, harness, test_keys) -> None:
    product = await catalog.product(price="10.00")
    response = await harness.client.patch(f"/api/v1/products/{product['id']}", json={"price": "1.00"},
                                          headers=test_keys.staff_headers("support"))
    assert response.status_code == 403
    again = await harness.client.get(f"/api/v1/products/{product['id']}")
    assert again.json()["price"] == product["price"]


async def test_a_price_change_and_a_stock_adjustment_write_their_audit_rows(catalog, harness, test_keys) -> None:
    product = await catalog.product(price="10.00", stock_quantity=5)
    await harness.drain()
    harness.bus.published.clear()
    merchandiser = test_keys.staff_headers("merchandiser")
    changed = await harness.client.patch(f"/api/v1/products/{product['id']}", json={"price": "12.50"},
                                         headers=merchandiser)
    assert changed.status_code == 200, changed.text
    adjusted = await harness.client.post(f"/api/v1/products/{product['id']}/stock",
                                         json={"delta": -2, "reason": "broken in storage"}, headers=merchandiser)
    assert adjusted.status_code == 200, adjusted.text
    await harness.drain()
    price, stock = [e.data for e in harness.published("staff.action_recorded")]
    assert (price["action"], price["target_id"], price["actor_roles"]) == ("product.update", product["id"],
                                                                           ["merchandiser"])
    assert price["before"] == {"price": "10.00"} and price["after"] == {"price": "12.50"}
    assert (stock["action"], stock["reason"]) == ("stock.adjust", "broken in storage")
    assert stock["before"] == {"stock_quantity": 5}
    assert stock["after"] == {"stock_quantity": 3, "delta": -2, "location_id": "00000000-0000-4000-8000-00000000d0c1"}
