"""The console's screenshots in docs/console/*.png, made by hand when its pages change:

    uv run python docs/console/screenshots.py

It starts `atelier dev` on a fresh data directory (removed after), makes a little data through the
API — a storefront, a month of paid orders on two storefronts (placed now, then moved back day by
day in orders' database, for the dashboard's charts), an order left unpaid — signs in as the
development staff account (an admin) in headless Chromium (Debian's `chromium`) and saves
every page its navigation lists, plus an order, a customer, a product and a storefront, at
1280x800 (PNG of 128 colours). Nothing leaves the machine. `--only dashboard orders` saves just those.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tests-e2e"))  # the journeys' steps (infra/), not copied here

from infra.console import sign_in, visit  # noqa: E402
from infra.journeys import ADDRESS, customer, pay_order, poll, staff  # noqa: E402

from atelier_testing.browser import chromium, offline_context  # noqa: E402
from atelier_testing.platform import STAFF_EMAIL, STAFF_PASSWORD, embedded  # noqa: E402

VIEWPORT = {"width": 1280, "height": 800}
STOREFRONT = {"slug": "north", "name": "Atelier North", "origins": ["http://localhost:3200"],
              "frontend_url": "http://localhost:3200", "mail_from": "Atelier North <no-reply@north.example>",
              "currency": "USD", "tax": {"rate": "0.10", "inclusive": False}, "sells": ["physical"]}


async def placed(api: httpx.AsyncClient, auth: dict[str, str], storefront: str, quantity: int,
                 address: str) -> dict[str, Any]:
    """An order of one demo product sold on `storefront`, placed from the cart there."""
    on = {**auth, "X-Atelier-Storefront": storefront}
    listed = (await api.get("/api/v1/products", headers={"X-Atelier-Storefront": storefront},
                            params={"kind": "physical", "in_stock": "true", "limit": 50})).json()["results"]
    product = next(p for p in listed if not p["variants"] and p["stock_quantity"] >= quantity)
    added = await api.post("/api/v1/cart/items", headers=on, json={"product_id": product["id"], "quantity": quantity})
    assert added.status_code == 201, added.text
    order = await api.post("/api/v1/orders", headers=on, json={"shipping_address_id": address})
    assert order.status_code == 201, order.text
    return order.json()


async def address_of(api: httpx.AsyncClient, auth: dict[str, str]) -> str:
    made = await api.post("/api/v1/addresses", headers=auth, json=ADDRESS)
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def paid(api: httpx.AsyncClient, auth: dict[str, str], order: dict[str, Any]) -> None:
    async def awaiting() -> bool:
        return (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()["status"] == "awaiting_payment"

    await poll(awaiting, timeout=30, message="the order awaiting payment")
    await pay_order(api, auth, order)


def moved_back(data_dir: Path, order_id: str, days: int) -> None:
    """Move an order and its history `days` back, in the orders database of `atelier dev`: the API
    places orders now, and a month of them is what the dashboard's charts are for. (Payments' own
    records stay; no picture shows them for these orders.)"""
    def earlier(value: str) -> str:
        return (datetime.fromisoformat(value) - timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S.%f")

    key = uuid.UUID(order_id).hex  # SQLite keeps a UUID as 32 hex digits
    with sqlite3.connect(data_dir / "orders.db") as db:
        for table, id_column, columns in (("customer_order", "id", ("created_at", "updated_at", "paid_at")),
                                          ("order_status_history", "order_id", ("created_at",)),
                                          ("order_payment_record", "order_id", ("occurred_at",))):
            for row in db.execute(f"SELECT rowid, {', '.join(columns)} FROM {table} WHERE {id_column} = ?",
                                  (key,)).fetchall():
                values = [earlier(v) if v else v for v in row[1:]]
                db.execute(f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in columns)} WHERE rowid = ?",
                           (*values, row[0]))
        number = db.execute("SELECT order_number, created_at FROM customer_order WHERE id = ?", (key,)).fetchone()
        db.execute("UPDATE customer_order SET order_number = ? WHERE id = ?",  # ORD-<the day placed>-…
                   (f"ORD-{number[1][:10].replace('-', '')}-{number[0].rsplit('-', 1)[1]}", key))


# The month of paid orders behind the charts: (storefront, days back, quantity) each.
MONTH = [("default", 27, 1), ("shop", 25, 2), ("default", 22, 1), ("default", 18, 3), ("shop", 15, 1),
         ("default", 12, 2), ("shop", 9, 1), ("default", 6, 1), ("shop", 4, 2), ("default", 2, 1)]


async def some_data(api: httpx.AsyncClient, data_dir: Path) -> dict[str, str]:
    """What the pages show, and the addresses of the detail pages."""
    admin = await staff(api)
    made = await api.post("/api/v1/storefronts", headers=admin, json=STOREFRONT)
    assert made.status_code == 201, made.text
    buyers = {}
    for storefront in ("default", "shop"):
        buyer = await customer(api)
        buyers[storefront] = (buyer, await address_of(api, buyer))
    orders = []
    for storefront, days, quantity in [*MONTH, ("default", 0, 2), ("shop", 0, 1)]:
        buyer, address = buyers[storefront]
        order = await placed(api, buyer, storefront, quantity, address)
        await paid(api, buyer, order)
        if days:
            moved_back(data_dir, order["id"], days)
        else:
            orders.append(order)
    late = await customer(api)
    waiting = await placed(api, late, "default", 1, await address_of(api, late))  # counted, not yet revenue
    zone = await api.post("/api/v1/staff/shipping-zones", headers=admin, json={
        "storefront": STOREFRONT["slug"], "name": "Europe", "countries": ["FR", "DE", "IT"], "tax_rate": "0.20"})
    assert zone.status_code == 201, zone.text
    for method in ({"name": "Standard", "price": "6.50", "free_over": "80"},
                   {"name": "By weight", "kind": "weight", "rates": [{"min": "0", "amount": "5"}, {"min": "2000", "amount": "9.50"}]}):
        made = await api.post(f"/api/v1/staff/shipping-zones/{zone.json()['id']}/methods", headers=admin, json=method)
        assert made.status_code == 201, made.text
    detail = (await api.get(f"/api/v1/staff/orders/{orders[0]['id']}", headers=admin)).json()
    product = (await api.get("/api/v1/products", params={"limit": 1})).json()["results"][0]
    return {"order": f"orders/{orders[0]['id']}", "customer": f"customers/{detail['user_id']}",
            "product": f"catalog/{product['id']}", "storefront": f"storefronts/{STOREFRONT['slug']}",
            "unpaid": waiting["id"]}


def small(png: Path) -> None:
    """128 colours, no dithering: a page of flat colours and text looks the same at a third of the size."""
    with Image.open(png) as shot:
        flat = shot.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    flat.save(png, optimize=True)


async def shoot(only: list[str]) -> list[Path]:
    saved: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp, embedded(Path(tmp)) as platform:
        async with httpx.AsyncClient(base_url=platform.url, timeout=30) as api:
            details = await some_data(api, platform.data_dir)
        async with chromium() as browser, offline_context(browser, viewport=VIEWPORT) as (context, _):
            page = await context.new_page()
            await sign_in(page, platform.url, STAFF_EMAIL, STAFF_PASSWORD)
            nav = await page.locator("#nav-list a").evaluate_all("links => links.map(a => a.hash.slice(2))")
            pages = {path: path for path in nav}
            pages.update({name: path for name, path in details.items() if name != "unpaid"})
            for name, path in pages.items():
                if only and name not in only:
                    continue
                await visit(page, f"{platform.url}/console#/{path}")
                target = HERE / f"{name}.png"
                await page.screenshot(path=str(target))
                small(target)
                saved.append(target)
                print(f"{target.relative_to(HERE.parents[1])}: #/{path}")
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", default=[], help="page names (dashboard, orders, order, …)")
    asyncio.run(shoot(parser.parse_args().only))


if __name__ == "__main__":
    main()
