"""Products as CSV: the staff export, and the import by SKU with its dry run and per-row report;
the console's filters of the product list (status, low or no stock)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from atelier_catalog.service import transfer
from atelier_testing import assert_error


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def as_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


async def upload(client: Any, staff: dict[str, str], data: bytes, *, dry_run: bool) -> Any:
    return await client.post("/api/v1/products/import", headers=staff, params={"dry_run": str(dry_run).lower()},
                             files={"file": ("products.csv", data, "text/csv")})


async def test_export_edit_dry_run_then_apply_is_idempotent_on_sku(harness, catalog, staff) -> None:
    client = harness.client
    prints = await catalog.category(name="Prints")
    fox = await catalog.product(name="Fox print", sku="CSV-FOX", price="20.00", stock_quantity=4,
                                category_id=prints["id"])
    owl = await catalog.product(name="Owl print", sku="CSV-OWL", price="30.00")

    exported = await client.get("/api/v1/products/export.csv", headers=staff)
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    rows = rows_of(exported.text)
    assert list(rows[0]) == list(transfer.COLUMNS)
    by_sku = {row["sku"]: row for row in rows}
    assert by_sku["CSV-FOX"]["category"] == "prints" and by_sku["CSV-FOX"]["price"] == "20.00"

    by_sku["CSV-FOX"].update(price="22.50", stock_quantity="6")
    by_sku["CSV-OWL"]["name"] = "Barn owl print"
    assert by_sku["CSV-OWL"]["tax_class"] == "standard"
    new = {**by_sku["CSV-OWL"], "sku": "CSV-HARE", "name": "Hare print", "slug": "", "price": "15.00",
           "tax_class": "reduced"}
    bad = {**by_sku["CSV-OWL"], "sku": "CSV-BAD", "name": "Bad", "slug": "", "price": "cheap"}
    unknown = {**by_sku["CSV-OWL"], "sku": "CSV-NOCAT", "name": "Lost", "slug": "", "category": "nowhere"}
    untaxable = {**by_sku["CSV-OWL"], "sku": "CSV-TAX", "name": "Taxed", "slug": "", "tax_class": "luxury"}
    file = as_csv([*by_sku.values(), new, bad, unknown, untaxable])

    dry = await upload(client, staff, file, dry_run=True)
    assert dry.status_code == 200, dry.text
    report = dry.json()
    statuses = {row["sku"]: row["status"] for row in report["rows"]}
    assert statuses["CSV-FOX"] == statuses["CSV-OWL"] == "updated" and statuses["CSV-HARE"] == "created"
    assert statuses["CSV-BAD"] == statuses["CSV-NOCAT"] == statuses["CSV-TAX"] == "error"
    messages = {row["sku"]: row["message"] for row in report["rows"]}
    assert messages["CSV-BAD"].startswith("price") and "nowhere" in messages["CSV-NOCAT"]
    assert messages["CSV-TAX"].startswith("tax_class")
    assert report["dry_run"] is True and report["counts"]["created"] == 1 and report["counts"]["error"] == 3
    # Nothing written.
    assert (await client.get(f"/api/v1/products/{fox['id']}")).json()["price"] == "20.00"
    assert (await client.get("/api/v1/products/csv-hare", headers=staff)).status_code == 404

    applied = await upload(client, staff, file, dry_run=False)
    assert applied.status_code == 200, applied.text
    assert {r["sku"]: r["status"] for r in applied.json()["rows"]} == statuses
    fox_now = (await client.get(f"/api/v1/products/{fox['id']}")).json()
    assert fox_now["price"] == "22.50" and fox_now["stock_quantity"] == 6
    assert (await client.get(f"/api/v1/products/{owl['id']}")).json()["name"] == "Barn owl print"
    hare = (await client.get("/api/v1/products", params={"search": "CSV-HARE"})).json()["results"]
    assert [(p["sku"], p["tax_class"]) for p in hare] == [("CSV-HARE", "reduced")]

    again = (await upload(client, staff, file, dry_run=False)).json()
    assert {r["status"] for r in again["rows"] if r["sku"] not in ("CSV-BAD", "CSV-NOCAT", "CSV-TAX")} == {"unchanged"}


async def test_variants_and_images_are_rows_of_their_product_both_ways(harness, catalog, staff) -> None:
    client = harness.client
    fox = await catalog.product(name="Fox poster", sku="CSV-VFOX", price="20.00")
    for name, price in (("A3", None), ("A2", "35.00")):
        made = await client.post(f"/api/v1/products/{fox['id']}/variants", headers=staff, json={
            "name": name, "sku": f"CSV-VFOX-{name}", "price": price, "stock_quantity": 3})
        assert made.status_code == 201, made.text
    for n in (1, 2, 3):
        made = await client.post(f"/api/v1/products/{fox['id']}/images", headers=staff, json={
            "url": f"https://cdn.example/fox-{n}.jpg", "alt_text": f"Fox {n}", "display_order": n})
        assert made.status_code == 201, made.text

    rows = [row for row in rows_of((await client.get("/api/v1/products/export.csv", headers=staff)).text)
            if row["sku"] == "CSV-VFOX"]
    # Shopify's layout: a row per variant (and per image beyond them), the product's own columns on the first only.
    assert [(r["name"], r["price"], r["variant_sku"], r["variant_name"], r["variant_price"], r["variant_stock_quantity"],
             r["variant_is_active"], r["image_url"], r["image_alt_text"]) for r in rows] == [
        ("Fox poster", "20.00", "CSV-VFOX-A3", "A3", "", "3", "true", "https://cdn.example/fox-1.jpg", "Fox 1"),
        ("", "", "CSV-VFOX-A2", "A2", "35.00", "3", "true", "https://cdn.example/fox-2.jpg", "Fox 2"),
        ("", "", "", "", "", "", "", "https://cdn.example/fox-3.jpg", "Fox 3")]
    everything = rows_of((await client.get("/api/v1/products/export.csv", headers=staff)).text)
    again = (await upload(client, staff, as_csv(everything), dry_run=False)).json()
    assert again["counts"]["unchanged"] == len(everything) and again["counts"]["error"] == 0

    rows[1].update(variant_price="", variant_stock_quantity="5", variant_name="A2 large")
    rows[2].update(variant_sku="CSV-VFOX-A1", variant_name="A1", variant_price="50.00", variant_stock_quantity="1",
                   image_alt_text="Fox three")
    rows.append({**rows[2], "variant_sku": "", "variant_name": "", "variant_price": "", "variant_stock_quantity": "",
                 "variant_is_active": "", "image_url": "https://cdn.example/fox-4.jpg", "image_alt_text": "Fox 4"})
    rows.append({**rows[3], "name": "Not here", "image_url": "", "image_alt_text": ""})
    report = (await upload(client, staff, as_csv(rows), dry_run=False)).json()
    assert [r["status"] for r in report["rows"]] == ["unchanged", "updated", "created", "created", "error"]
    assert "first row (line 2)" in report["rows"][4]["message"]
    now = (await client.get(f"/api/v1/products/{fox['id']}", headers=staff)).json()
    assert [(v["sku"], v["name"], v["price"], v["stock_quantity"]) for v in now["variants"]] == [
        ("CSV-VFOX-A3", "A3", "20.00", 3), ("CSV-VFOX-A2", "A2 large", "20.00", 5), ("CSV-VFOX-A1", "A1", "50.00", 1)]
    assert [(i["url"].rsplit("/", 1)[1], i["alt_text"]) for i in now["images"]] == [
        ("fox-1.jpg", "Fox 1"), ("fox-2.jpg", "Fox 2"), ("fox-3.jpg", "Fox three"), ("fox-4.jpg", "Fox 4")]
    assert now["name"] == "Fox poster"


async def test_a_row_refused_by_the_apis_rules_leaves_nothing_and_the_others_apply(harness, catalog, staff) -> None:
    await catalog.product(name="Taken", sku="CSV-TAKEN", price="5.00")
    file = (b"sku,name,price,slug\r\nCSV-ONE,One,5.00,one-of-a-kind\r\n"
            b"CSV-TWO,Two,6.00,one-of-a-kind\r\nCSV-THREE,Three,7.00,\r\n")
    report = (await upload(harness.client, staff, file, dry_run=False)).json()
    assert [(r["sku"], r["status"]) for r in report["rows"]] == [
        ("CSV-ONE", "created"), ("CSV-TWO", "error"), ("CSV-THREE", "created")]
    assert report["rows"][1]["message"].startswith("SLUG_EXISTS")


@pytest.mark.parametrize(("data", "code", "status"), [
    (b"", "INVALID_CSV", 400),
    (b"name,price\r\nA,1\r\n", "INVALID_CSV", 400),
    (b"sku,colour\r\nA,red\r\n", "INVALID_CSV", 400),
    (b"sku,sku\r\nA,B\r\n", "INVALID_CSV", 400),
    (b"\xff\xfe\x00s", "INVALID_CSV", 400),
    (b"sku,name\r\n\"A,unterminated\r\n", "INVALID_CSV", 400),
    (b"sku,name\r\nA\x00,x\r\n", "INVALID_CSV", 400),
])
async def test_a_file_that_is_no_product_csv_is_a_clear_400(harness, staff, data, code, status) -> None:
    assert_error(await upload(harness.client, staff, data, dry_run=True), status, code)


async def test_a_file_too_large_is_413_and_the_routes_are_staff_only(harness, staff, monkeypatch) -> None:
    monkeypatch.setattr(transfer, "MAX_CSV_BYTES", 100)
    assert_error(await upload(harness.client, staff, b"sku\r\n" + b"A\r\n" * 60, dry_run=True), 413, "FILE_TOO_LARGE")
    assert_error(await harness.client.get("/api/v1/products/export.csv"), 401, "AUTHENTICATION_REQUIRED")
    assert_error(await harness.client.post("/api/v1/products/import", files={"file": ("a.csv", b"sku\r\n")}),
                 401, "AUTHENTICATION_REQUIRED")
    assert_error(await harness.client.post("/api/v1/products/import", headers=staff), 400, "VALIDATION_ERROR")


async def test_staff_filter_the_list_by_status_and_stock(harness, catalog, staff) -> None:
    client = harness.client
    await catalog.product(name="Plenty", sku="FLT-PLENTY", stock_quantity=50)
    await catalog.product(name="Few", sku="FLT-FEW", stock_quantity=2)
    await catalog.product(name="None", sku="FLT-NONE", stock_quantity=0)
    gone = await catalog.product(name="Gone", sku="FLT-GONE", stock_quantity=9)
    await catalog.deactivate_product(gone["id"])

    async def skus(**params: str) -> set[str]:
        page = (await client.get("/api/v1/products", headers=staff,
                                 params={"search": "FLT", "include_inactive": "true", **params})).json()
        return {p["sku"] for p in page["results"]}

    assert await skus(status="inactive") == {"FLT-GONE"}
    assert await skus(status="active") == {"FLT-PLENTY", "FLT-FEW", "FLT-NONE"}
    assert await skus(stock="low") == {"FLT-FEW"}
    assert await skus(stock="out") == {"FLT-NONE"}
    assert_error(await client.get("/api/v1/products", params={"stock": "some"}), 400, "VALIDATION_ERROR")
