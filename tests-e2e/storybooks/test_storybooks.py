"""S0 storybooks through the gateway, in both modes: the anonymous journey to a paid print
order and an account, retries and retry packs, parallel regenerations, and ownership."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from infra.identity_steps import visitor_client
from infra.journeys import PASSWORD, customer, latest_mail, login, poll, token_from

pytestmark = pytest.mark.e2e

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ADDRESS = {"label": "Home", "type": "shipping", "first_name": "Nino", "last_name": "Beridze",
           "street_address": "5 Vake Park", "city": "Tbilisi", "postal_code": "0179", "country": "GE",
           "phone": "+995555000222"}


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def error_code(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return response.json()["error"]["code"]


async def finished(api: httpx.AsyncClient, headers: dict[str, str], version_path: str) -> dict[str, Any]:
    """A version once the worker has made it (generation is asynchronous)."""
    async def check() -> dict[str, Any] | None:
        version = await ok(await api.get(version_path, headers=headers))
        assert version["status"] != "failed", version
        return version if version["status"] == "completed" else None

    return await poll(check, timeout=90, message=f"{version_path} completed")


async def pay(api: httpx.AsyncClient, headers: dict[str, str], order_id: str) -> None:
    """Local provider: the checkout page, then its Pay action (the signed webhook follows)."""
    checkout = await ok(await api.post("/api/v1/payments/checkout", headers=headers, json={
        "order_id": order_id, "success_url": "http://localhost:3000/ok", "cancel_url": "http://localhost:3000/no"}))
    assert (await api.get(checkout["checkout_url"])).status_code == 200
    await ok(await api.post(f"{checkout['checkout_url']}/pay", headers={"Accept": "application/json"}))


async def paid(api: httpx.AsyncClient, headers: dict[str, str], order_id: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        response = await api.get(f"/api/v1/orders/{order_id}", headers=headers)
        if response.status_code == 503:
            return None
        order = await ok(response)
        return order if order["status"] in ("paid", "processing", "completed") else None

    return await poll(check, timeout=90, message=f"order {order_id} paid")


async def allowance(api: httpx.AsyncClient, headers: dict[str, str], book_id: str, content_id: str) -> dict[str, Any]:
    retries = await ok(await api.get(f"/api/v1/books/{book_id}/retries", headers=headers))
    return next(a for a in retries["results"] if a["content_id"] == content_id)


async def remaining_becomes(api: httpx.AsyncClient, headers: dict[str, str], book_id: str, content_id: str,
                            expected: int) -> None:
    async def check() -> bool:
        return (await allowance(api, headers, book_id, content_id))["remaining"] == expected

    await poll(check, timeout=90, message=f"{content_id} has {expected} retries")


async def buy_retry_pack(api: httpx.AsyncClient, headers: dict[str, str], target: dict[str, str] | None = None) -> str:
    line: dict[str, Any] = {"sku": "RETRY_PACK_3", "quantity": 1}
    if target:
        line["target"] = target
    order = await ok(await api.post("/api/v1/orders", headers=headers, json={"items": [line]}), 201)
    await pay(api, headers, order["id"])
    await paid(api, headers, order["id"])
    return order["id"]


async def test_an_anonymous_visitor_makes_a_book_orders_a_print_and_finds_it_in_the_new_account(
        api: httpx.AsyncClient) -> None:
    email = f"reader-{uuid.uuid4().hex[:10]}@example.com"
    async with visitor_client(api.base_url) as visitor:  # S0 binds the anonymous book to this client
        token = (await visitor.get("/api/v1/books")).headers["x-anonymous-token"]
        anon = {"X-Anonymous-Token": token}
        book = await ok(await visitor.post("/api/v1/books", headers=anon, json={
            "title": "Luna and the Lighthouse", "age_range": "3-5", "style": "watercolour"}), 201)
        b = f"/api/v1/books/{book['id']}"
        character = await ok(await visitor.post(f"{b}/characters", headers=anon, json={
            "name": "Luna", "description": "a curious fox", "traits": ["brave"]}), 201)
        cover_version = await ok(await visitor.post(f"{b}/cover/versions", headers=anon), 201)
        cover = await finished(visitor, anon, f"{b}/cover/versions/{cover_version['id']}")
        picture = await visitor.get(cover["image_url"])
        assert picture.status_code == 200 and picture.content.startswith(PNG_MAGIC)

        assert error_code(await visitor.post("/api/v1/books", headers=anon, json={"title": "Two"}), 403) == \
            "PERMISSION_DENIED"
        assert error_code(await visitor.post(f"{b}/characters", headers=anon, json={"name": "Max"}), 403) == \
            "PERMISSION_DENIED"
        assert error_code(await visitor.post(f"{b}/characters/{character['id']}/versions", headers=anon), 403) == \
            "PERMISSION_DENIED"
        assert error_code(await visitor.post(f"{b}/cover/versions", headers=anon), 403) == "PERMISSION_DENIED"
        assert error_code(await visitor.get(f"{b}/pages", headers=anon), 401) == "AUTHENTICATION_REQUIRED"
        assert error_code(await visitor.post(f"{b}/pages", headers=anon, json={"text": "Once"}), 401) == \
            "AUTHENTICATION_REQUIRED"

        address = await ok(await visitor.post("/api/v1/addresses", headers=anon, json={**ADDRESS, "email": email}),
                           201)
        # On the default storefront, which offers guests an account: this one asks for it (the
        # storybook storefront registers every paying guest, tests-e2e/compat/test_storybook.py).
        order = await ok(await visitor.post("/api/v1/orders", headers=anon, json={
            "tier": "basic", "items": [{"book_id": book["id"]}], "shipping_address_id": address["id"],
            "create_account": True}), 201)
        assert order["items"][0]["book_id"] == book["id"] and order["items"][0]["sku"] == "basic"
        await pay(visitor, anon, order["id"])

        welcome = await latest_mail(api, email, "set your password")
        await ok(await api.post("/api/v1/auth/password-reset/confirm", json={
            "token": token_from(welcome), "new_password": PASSWORD, "new_password_confirm": PASSWORD}))
        auth = {"Authorization": f"Bearer {(await login(api, email))['access']}"}
        await paid(api, auth, order["id"])  # the order under the new account: orders applied the claim

        async def book_moved() -> list[dict[str, Any]] | None:
            books = (await ok(await api.get("/api/v1/books", headers=auth)))["results"]
            return books or None

        books = await poll(book_moved, timeout=90, message="the anonymous book under the new account")
        assert [found["id"] for found in books] == [book["id"]]
        # The guest's browser, not signed in, still sees what it bought (and no longer changes it).
        seen = await ok(await visitor.get(f"/api/v1/orders/{order['id']}", headers=anon))
        assert seen["id"] == order["id"] and seen["items"][0]["book_id"] == book["id"]
        assert [o["id"] for o in (await ok(await visitor.get("/api/v1/orders", headers=anon)))["results"]] == \
            [order["id"]]
        assert (await ok(await visitor.get(b, headers=anon)))["title"] == "Luna and the Lighthouse"
        assert [found["id"] for found in (await ok(await visitor.get("/api/v1/books", headers=anon)))["results"]] \
            == [book["id"]]
        assert error_code(await visitor.patch(b, headers=anon, json={"title": "Mine"}), 404) == "NOT_FOUND"
    characters = await ok(await api.get(f"/api/v1/books/{book['id']}/characters", headers=auth))
    assert [c["id"] for c in characters["results"]] == [character["id"]]
    cover_item = await ok(await api.get(f"/api/v1/books/{book['id']}/cover", headers=auth))
    assert cover_item["selected_version"]["id"] == cover_version["id"]
    # The paid basic print gives every item of the book its tier's retries.
    async def print_tier_applied() -> bool:
        return (await ok(await api.get(f"/api/v1/books/{book['id']}", headers=auth)))["print_tier"] == "basic"

    await poll(print_tier_applied, timeout=90, message="the print tier on the book")
    assert (await allowance(api, auth, book["id"], character["id"]))["max"] == 3


@pytest.mark.modes("embedded", "distributed",
                   why="parallel requests meet SQLite's one writer (embedded) or PostgreSQL's row locks (distributed)")
async def test_visitors_behind_one_client_each_get_their_own_free_book(api: httpx.AsyncClient) -> None:
    """Three visitors behind one address and browser (a household): each its own free book, one
    per identity, each found only by its own; the one character asked for twice at once is one
    201 and one 409. What fresh identities get for free is bounded per address
    (tests-e2e/platform/test_shared_address.py)."""
    async with visitor_client(api.base_url) as browser:
        owners, books = [], []
        for n in range(3):
            browser.cookies.clear()
            created = await browser.post("/api/v1/books", json={"title": f"Free book {n}"})
            book = await ok(created, 201)
            owner = {"X-Anonymous-Token": created.headers["x-anonymous-token"]}
            browser.cookies.clear()
            assert error_code(await browser.post("/api/v1/books", headers=owner, json={"title": "Again"}),
                              403) == "PERMISSION_DENIED"
            owners.append(owner)
            books.append(book)
        b = f"/api/v1/books/{books[0]['id']}"
        characters = await asyncio.gather(*(browser.post(f"{b}/characters", headers=owners[0], json={"name": name})
                                            for name in ("Luna", "Max")))
        # The loser is refused either way: 409 when the two met at the book's lock, 403 (the one
        # character an anonymous book has) when the first had already committed; never a second 201.
        winner, loser = sorted(characters, key=lambda r: r.status_code)
        assert winner.status_code == 201 and loser.status_code in (403, 409), [r.text for r in characters]
        assert (await ok(await browser.get(f"{b}/characters", headers=owners[0])))["count"] == 1
        await ok(await browser.post(f"{b}/cover/versions", headers=owners[0]), 201)
        for other in owners[1:]:
            assert (await ok(await browser.get("/api/v1/books", headers=other)))["count"] == 1
            assert error_code(await browser.post(f"{b}/cover/versions", headers=other), 404) == "NOT_FOUND"
        # The owner's token from another client does not reach the book either.
        async with visitor_client(api.base_url) as elsewhere:
            assert error_code(await elsewhere.get(b, headers=owners[0]), 404) == "NOT_FOUND"


@pytest.mark.modes("embedded", "distributed",
                   why="parallel requests meet SQLite's one writer (embedded) or PostgreSQL's row locks (distributed)")
async def test_retry_limit_then_packs_by_target_and_by_hand(api: httpx.AsyncClient) -> None:
    auth = await customer(api)
    book = await ok(await api.post("/api/v1/books", headers=auth, json={"title": "Max Goes to Sea"}), 201)
    b = f"/api/v1/books/{book['id']}"
    page = await ok(await api.post(f"{b}/pages", headers=auth, json={"text": "Max sets sail."}), 201)
    versions = f"{b}/pages/{page['id']}/versions"
    # No paid print order yet: no retries (the free base is 0).
    assert error_code(await api.post(versions, headers=auth), 403) == "RETRY_LIMIT"

    await buy_retry_pack(api, auth, {"content_type": "PAGE", "content_id": page["id"]})
    await remaining_becomes(api, auth, book["id"], page["id"], 3)

    cover_version = await ok(await api.post(f"{b}/cover/versions", headers=auth), 201)
    cover_id = cover_version["content_id"]
    order_id = await buy_retry_pack(api, auth)
    body = {"content_type": "COVER", "content_id": cover_id, "order_id": order_id}
    applied = await ok(await api.post("/api/v1/retries/apply", headers=auth, json=body))
    assert (applied["content_id"], applied["remaining"]) == (cover_id, 3)
    assert error_code(await api.post("/api/v1/retries/apply", headers=auth, json=body), 400) == "INVALID_STATE"

    # Ten parallel regenerations of the page with its three retries: three versions, 2, 3 and 4.
    responses = await asyncio.gather(*(api.post(versions, headers=auth) for _ in range(10)))
    outcomes = Counter((r.status_code, r.json()["error"]["code"] if r.status_code != 201 else None)
                       for r in responses)
    assert outcomes == {(201, None): 3, (403, "RETRY_LIMIT"): 7}
    made = await ok(await api.get(versions, headers=auth))
    assert [v["version_number"] for v in made["results"]] == [1, 2, 3, 4]
    assert (await allowance(api, auth, book["id"], page["id"]))["remaining"] == 0


async def test_another_customer_finds_nothing_and_cannot_target_it(api: httpx.AsyncClient) -> None:
    owner, stranger = await customer(api), await customer(api)
    book = await ok(await api.post("/api/v1/books", headers=owner, json={"title": "Mine"}), 201)
    b = f"/api/v1/books/{book['id']}"
    character = await ok(await api.post(f"{b}/characters", headers=owner, json={"name": "Ivy"}), 201)
    page = await ok(await api.post(f"{b}/pages", headers=owner, json={"text": "Hello"}), 201)
    cover = await ok(await api.post(f"{b}/cover/versions", headers=owner), 201)
    c, p = f"{b}/characters/{character['id']}", f"{b}/pages/{page['id']}"
    probes = [("GET", b), ("PATCH", b), ("PUT", b), ("DELETE", b), ("GET", f"{b}/characters"),
              ("POST", f"{b}/characters"), ("GET", c), ("PATCH", c), ("DELETE", c), ("GET", f"{c}/versions"),
              ("POST", f"{c}/versions"), ("GET", f"{c}/versions/{character['latest_version']['id']}"),
              ("GET", f"{b}/cover"), ("POST", f"{b}/cover/versions"), ("GET", f"{b}/cover/versions/{cover['id']}"),
              ("GET", f"{b}/pages"), ("GET", p), ("PATCH", p), ("DELETE", p), ("POST", f"{p}/versions"),
              ("GET", f"{b}/retries")]
    for method, path in probes:
        response = await api.request(method, path, headers=stranger, json={"title": "x", "name": "x", "text": "x"})
        assert error_code(response, 404) == "NOT_FOUND", (method, path)
    # A retry pack for an item that is not the buyer's, or does not exist, is refused before payment.
    for target in ({"content_type": "PAGE", "content_id": page["id"]},
                   {"content_type": "PAGE", "content_id": str(uuid.uuid4())}):
        response = await api.post("/api/v1/orders", headers=stranger,
                                  json={"items": [{"sku": "RETRY_PACK_3", "target": target}]})
        assert error_code(response, 400) == "VALIDATION_ERROR"
    assert (await ok(await api.get("/api/v1/orders", headers=stranger)))["count"] == 0
    assert (await ok(await api.get(b, headers=owner)))["title"] == "Mine"
