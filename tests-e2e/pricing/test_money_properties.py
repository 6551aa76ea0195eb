"""Every total comes from one pricing function, checked through the gateway on random checkouts, in
both modes (docs/api.md#money-and-tax).

Hypothesis draws a storefront's zone (tax rate and class rates, prices with or without tax,
shipping taxed or not, its methods), one to five lines (physical goods or credit packs, of any tax
class, with a business price or not) bought by a consumer or a business customer, promotions (percentage, fixed, free shipping, combinable
or not, one behind a code) and the method the buyer picks. For each: the cart's total for that
method = the `GET /shipping-methods` total = what `POST /orders` charges = what the payment took =
the invoice's total; each rate's tax is its summed bases × rate rounded half-up once; and returning
every shipped unit with the shipping refunds exactly what they were charged (the whole charge when
nothing digital was bought), in credit notes that add up to the refund.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from infra.journeys import (
    customer,
    customer_group,
    join_group,
    login,
    poll,
    price_list,
    register_verified,
    staff,
)

from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e

CENT = Decimal("0.01")
ADDRESS = {"label": "Home", "type": "shipping", "first_name": "Ada", "last_name": "King",
           "street_address": "1 Rue de Rivoli", "postal_code": "75001", "city": "Paris", "country": "FR",
           "phone": "+33140000000", "email": "ada@example.com"}


@dataclass(frozen=True)
class Line:
    price: Decimal
    quantity: int
    tax_class: str
    # physical (shipped, returnable) or credit_pack (digital: its price includes tax)
    kind: str
    # What the business group pays for it (the storefront's price list: goods only), if it has one.
    group_price: Decimal | None


@dataclass(frozen=True)
class Checkout:
    zone: dict[str, Any]
    lines: list[Line]
    promotions: list[dict[str, Any]]
    method: int
    # A business customer (the `business` group's prices) or a consumer.
    business: bool

    @property
    def ships(self) -> bool:
        return any(line.kind == "physical" for line in self.lines)


def _money(low: str, high: str) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=Decimal(low), max_value=Decimal(high), places=2)


@st.composite
def checkouts(draw: st.DrawFn) -> Checkout:
    methods = draw(st.lists(st.fixed_dictionaries({
        "amount": _money("0", "20"), "free_over": st.one_of(st.none(), _money("20", "300"))}), min_size=1, max_size=2))
    zone = {"code": "fr", "name": "France", "countries": ["FR"],
            "tax_rate": draw(st.sampled_from(["0", "0.055", "0.0725", "0.2"])),
            "tax_inclusive": draw(st.booleans()), "shipping_taxed": draw(st.sampled_from([None, True, False])),
            "tax_rates": draw(st.sampled_from([None, {"reduced": "0.055"}, {"reduced": "0.1", "zero": "0"}])),
            "methods": [{"code": f"m{n}", "name": f"Method {n}", "amount": str(m["amount"]),
                         **({"free_over": str(m["free_over"])} if m["free_over"] is not None else {})}
                        for n, m in enumerate(methods)]}
    lines = draw(st.lists(st.builds(
        Line, price=_money("0.01", "150"), quantity=st.integers(1, 4),
        tax_class=st.sampled_from(["standard", "reduced", "zero"]),
        kind=st.sampled_from(["physical", "physical", "credit_pack"]),
        group_price=st.one_of(st.none(), _money("0.01", "150"))
    ).map(lambda line: replace(line, group_price=None) if line.kind != "physical" else line),  # goods only
        min_size=1, max_size=5))
    promotions = draw(st.lists(st.one_of(
        st.fixed_dictionaries({"kind": st.just("percentage"), "value": st.sampled_from(["5", "10", "12.5", "33"])}),
        st.fixed_dictionaries({"kind": st.just("fixed"), "value": _money("0.50", "30").map(str)}),
        st.fixed_dictionaries({"kind": st.just("free_shipping"), "value": st.just("0")}),
    ).flatmap(lambda p: st.fixed_dictionaries({**{k: st.just(v) for k, v in p.items()},
                                               "combinable": st.booleans()})), max_size=2))
    if promotions and draw(st.booleans()):
        promotions[0] = {**promotions[0], "code": "SAVE"}
    return Checkout(zone=zone, lines=lines, promotions=promotions, method=draw(st.integers(0, len(methods) - 1)),
                    business=draw(st.booleans()))


@settings(max_examples=6, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(checkout=checkouts())
def test_every_total_is_the_one_charged_refunded_and_invoiced(platform: Platform, checkout: Checkout) -> None:
    asyncio.run(_journey(platform.url, checkout))


async def _journey(url: str, checkout: Checkout) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as api:
        as_staff = await staff(api)
        slug = f"prop-{uuid.uuid4().hex[:8]}"
        on = {"X-Atelier-Storefront": slug}
        r = await api.post("/api/v1/storefronts", headers=as_staff, json={
            "slug": slug, "name": "Property", "origins": [f"https://{slug}.example"],
            "frontend_url": f"https://{slug}.example", "currency": "EUR", "tax": {"rate": "0.10"},
            "sells": ["physical", "credit_pack"], "shipping_zones": [checkout.zone]})
        assert r.status_code == 201, r.text
        products = []
        for n, line in enumerate(checkout.lines):
            r = await api.post("/api/v1/products", headers=as_staff, json={
                "name": f"Item {n} {slug}", "sku": f"P{n}-{slug}", "price": str(line.price), "currency": "EUR",
                "stock_quantity": 50, "kind": line.kind, "storefronts": [slug], "tax_class": line.tax_class,
                **({"attributes": {"credits": 5}} if line.kind == "credit_pack" else {})})
            assert r.status_code == 201, r.text
            products.append(r.json())
        group_prices = [{"product_id": product["id"], "price": str(line.group_price)}
                        for product, line in zip(products, checkout.lines, strict=True) if line.group_price is not None]
        # The storefront's business group: staff put the business buyer in it.
        business = await customer_group(api, as_staff, "business", slug) if group_prices or checkout.business else None
        if group_prices:
            await price_list(api, as_staff, name="Business", storefront=slug, currency="EUR",
                             customer_group="business", prices=group_prices)
        for n, promotion in enumerate(checkout.promotions):
            r = await api.post("/api/v1/staff/promotions", headers=as_staff,
                               json={"storefront": slug, "name": f"Promotion {n}", **promotion})
            assert r.status_code == 201, r.text

        auth = {**await _buyer(api, slug, business=business if checkout.business else None, admin=as_staff), **on}
        for product, line in zip(products, checkout.lines, strict=True):
            async def added(product_id: str = product["id"], quantity: int = line.quantity) -> bool:
                r = await api.post("/api/v1/cart/items", headers=auth,
                                   json={"product_id": product_id, "quantity": quantity})
                return r.status_code == 201
            await poll(added, timeout=60, message="a product of the new storefront in the cart")
        # Each line at what the buyer's group pays (a business price where the list has one).
        cart = (await api.get("/api/v1/cart", headers=auth)).json()
        assert [item["unit_price"] for item in cart["items"]] == [
            str(line.group_price if checkout.business and line.group_price is not None else line.price)
            for line in checkout.lines]
        if any(p.get("code") for p in checkout.promotions):
            async def applied() -> bool:
                r = await api.post("/api/v1/cart/promotion-code", headers=auth, json={"code": "save"})
                return r.status_code == 200
            await poll(applied, timeout=60, message="the code applied")
        r = await api.post("/api/v1/addresses", headers=auth, json=ADDRESS)
        assert r.status_code == 201, r.text
        address = r.json()["id"]

        async def listed() -> list[dict[str, Any]] | None:
            r = await api.get("/api/v1/shipping-methods", headers=auth, params={"address_id": address})
            body = r.json() if r.status_code == 200 else []
            return body if len(body) == (len(checkout.zone["methods"]) if checkout.ships else 1) else None
        methods: list[dict[str, Any]] = await poll(listed, timeout=60, message="the zone's methods listed")
        # Nothing to ship: one method without an id, at no cost.
        method = methods[checkout.method] if checkout.ships else methods[0]

        r = await api.put("/api/v1/cart/shipping", headers=auth, json={
            "address_id": address, **({"method_id": method["id"]} if method["id"] else {})})
        assert r.status_code == 200, r.text
        cart = r.json()
        assert cart["total"] == method["total_amount"], (cart, method)
        assert cart["tax_amount"] == method["tax_amount"] and cart["shipping"]["methods"] == methods

        r = await api.post("/api/v1/orders", headers=auth, json={"expected_total": cart["total"]})
        assert r.status_code == 201, r.text
        order = r.json()
        assert order["total_amount"] == cart["total"] and order["tax_amount"] == cart["tax_amount"]
        assert [(i["discount_amount"], i["tax_amount"]) for i in order["items"]] == [
            (line["discount"], line["tax_amount"]) for line in cart["items"]]
        _check_tax_rule(order, shipping_inclusive=checkout.zone["tax_inclusive"])

        async def awaiting() -> dict[str, Any] | None:
            body: dict[str, Any] = (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
            return body if body["status"] == "awaiting_payment" else None
        if Decimal(order["total_amount"]) == 0:
            return  # nothing to pay, invoice or refund
        order = await _paid(api, auth, await poll(awaiting, timeout=60, message="the order awaiting payment"))
        money = (await api.get(f"/api/v1/staff/payments/orders/{order['id']}", headers=as_staff)).json()
        assert [p["amount"] for p in money["payments"] if p["status"] == "succeeded"] == [order["total_amount"]]

        async def invoiced() -> dict[str, Any] | None:
            r = await api.get(f"/api/v1/orders/{order['id']}/invoice", headers={**auth, "Accept": "application/json"})
            return dict(r.json()) if r.status_code == 200 else None
        invoice = await poll(invoiced, timeout=60, message="the invoice")
        assert invoice["total_amount"] == order["total_amount"]

        if not checkout.ships:
            return  # digital goods only: delivered as rights, refunded by staff, never returned
        for status in ("processing", "shipped", "delivered"):
            r = await api.post(f"/api/v1/orders/{order['id']}/status", headers=as_staff,
                               json={"status": status, "tracking_number": "1Z999AA10123456784"})
            assert r.status_code == 200, r.text
        shipped = [i for i in order["items"] if i["kind"] == "physical"]
        r = await api.post(f"/api/v1/orders/{order['id']}/returns", headers=auth, json={
            "items": [{"order_item_id": i["id"], "quantity": i["quantity"]} for i in shipped], "reason": "All"})
        assert r.status_code == 201, r.text
        ret = r.json()
        r = await api.post(f"/api/v1/staff/returns/{ret['id']}/receive", headers=as_staff, json={
            "items": [{"order_item_id": line["order_item_id"], "quantity": line["quantity"], "resaleable": True}
                      for line in ret["items"]], "refund_shipping": True})
        assert r.status_code == 200, r.text
        # Every shipped unit and the shipping: what they were charged, to the cent (all of the
        # order when nothing digital was in it).
        refund = sum((_charged(i) for i in shipped), Decimal("0")) + Decimal(order["shipping_cost"]) + (
            Decimal("0") if checkout.zone["tax_inclusive"] else Decimal(order["shipping_tax"]))
        assert Decimal(r.json()["amount"]) == refund
        if len(shipped) == len(order["items"]):
            assert r.json()["amount"] == order["total_amount"]

        async def credited() -> dict[str, Any] | None:
            body = await invoiced()
            return body if body and Decimal(body["credited"]) == refund else None
        invoice = await poll(credited, timeout=60, message="the credit notes of the whole refund")
        assert sum(Decimal(note["amount"]) for note in invoice["credit_notes"]) == refund
        money = (await api.get(f"/api/v1/staff/payments/orders/{order['id']}", headers=as_staff)).json()
        assert Decimal(money["total_refunded"]) == refund


async def _paid(api: httpx.AsyncClient, auth: dict[str, str], order: dict[str, Any]) -> dict[str, Any]:
    """Paid through the local provider's checkout: `paid`, or `completed` when nothing ships."""
    r = await api.post("/api/v1/payments/checkout", headers=auth, json={
        "order_id": order["id"], "success_url": "http://localhost:3000/ok", "cancel_url": "http://localhost:3000/no"})
    assert r.status_code == 200, r.text
    assert (await api.post(f"{r.json()['checkout_url']}/pay", headers={"Accept": "application/json"})).status_code == 200

    async def settled() -> dict[str, Any] | None:
        body: dict[str, Any] = (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
        return body if body["status"] in ("paid", "completed") else None
    found: dict[str, Any] = await poll(settled, timeout=60, message="the order paid")
    return found


async def _buyer(api: httpx.AsyncClient, storefront: str, *, business: dict[str, Any] | None,
                 admin: dict[str, str]) -> dict[str, str]:
    """A consumer, or a member of the storefront's `business` group (staff put it there), signed in
    on the storefront: its token carries the group there."""
    if business is None:
        return await customer(api)
    account = await register_verified(api, company_name="Stone Works Ltd")
    await join_group(api, admin, business, account["email"])
    return {"Authorization": f"Bearer {(await login(api, account['email'], **{'X-Atelier-Storefront': storefront}))['access']}"}


def _charged(item: dict[str, Any]) -> Decimal:
    """What a line was charged: its price less its discount, plus its tax unless the price held it."""
    base = Decimal(item["line_total"]) - Decimal(item["discount_amount"])
    return base + (Decimal("0") if item["tax_inclusive"] else Decimal(item["tax_amount"]))


def _check_tax_rule(order: dict[str, Any], *, shipping_inclusive: bool) -> None:
    """Per rate, added and included apart: the lines' (and shipping's) taxes add up to the summed
    bases taxed once, half-up to the cent; each is its share of that, so within the two roundings
    (half a cent, and a cent) of its own base's tax."""
    groups: dict[tuple[Decimal, bool], list[tuple[Decimal, Decimal]]] = defaultdict(list)
    for item in order["items"]:
        base = Decimal(item["line_total"]) - Decimal(item["discount_amount"])
        groups[(Decimal(item["tax_rate"]), item["tax_inclusive"])].append((base, Decimal(item["tax_amount"])))
    if Decimal(order["shipping_tax"]) > 0:
        groups[(Decimal(order["tax_rate"]), shipping_inclusive)].append(
            (Decimal(order["shipping_cost"]), Decimal(order["shipping_tax"])))
    for (rate, inclusive), charges in groups.items():
        bases = sum((base for base, _ in charges), Decimal("0"))
        exact = bases * rate / (1 + rate) if inclusive else bases * rate
        assert sum(tax for _, tax in charges) == exact.quantize(CENT, rounding=ROUND_HALF_UP), (rate, charges)
        for base, tax in charges:
            own = base * rate / (1 + rate) if inclusive else base * rate
            assert abs(tax - own) < CENT + CENT / 2, (base, tax, rate)
