"""Storybooks (S0) through generation's API: anonymous limits, versions through the worker,
retry allowances from print tiers and retry packs, ownership, claims and erasure."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlmodel import col, select

from atelier_common.columns import utcnow
from atelier_common.contracts.identity import AnonymousClaimed, UserDeleted
from atelier_common.contracts.orders import OrderLine
from atelier_common.contracts.payments import OrderPaid
from atelier_common.housekeeping import Housekeeper
from atelier_generation.housekeeping import sweeps
from atelier_generation.models import Book, GenerationJob

from ..conftest import MODEL_API, FakeModelApi, assert_error, jpeg_bytes, png_bytes

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class Owner:
    """A caller: a user (access token) or an anonymous visitor (anon token)."""

    def __init__(self, headers: dict[str, str], owner_id: uuid.UUID) -> None:
        self.headers, self.id = headers, owner_id


def user(api: Any) -> Owner:
    user_id = uuid.uuid4()
    return Owner(api.keys.user_headers(user_id), user_id)


def anonymous(api: Any, *, user_agent: str | None = None) -> Owner:
    """A visitor; each from a browser of its own unless `user_agent` says (S0 binds anonymous
    books to the client: its address and User-Agent)."""
    anon_id = uuid.uuid4()
    return Owner({**api.keys.anon_headers(anon_id), "User-Agent": user_agent or f"browser {anon_id}"}, anon_id)


async def call(api: Any, owner: Owner, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
    response = await api.client.request(method, f"/api/v1{path}", headers=owner.headers, **kwargs)
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def new_book(api: Any, owner: Owner, title: str = "Luna and the Lighthouse") -> dict[str, Any]:
    return await call(api, owner, "POST", "/books", 201, json={"title": title, "age_range": "3-5",
                                                                "style": "watercolour"})


async def new_character(api: Any, owner: Owner, book_id: str, name: str = "Luna") -> dict[str, Any]:
    return await call(api, owner, "POST", f"/books/{book_id}/characters", 201,
                      json={"name": name, "description": "a curious fox", "traits": ["brave", "red scarf"]})



async def guest_book(api: Any) -> tuple[Owner, dict[str, Any], dict[str, Any]]:
    """A guest's book with a character and a cover, their first pictures made: the guest, the book
    and the character."""
    visitor = anonymous(api)
    book = await new_book(api, visitor)
    character = await new_character(api, visitor, book["id"])
    await call(api, visitor, "POST", f"/books/{book['id']}/cover/versions", 201)
    await api.h.drain()
    return visitor, book, character

async def new_page(api: Any, owner: Owner, book_id: str, **fields: Any) -> dict[str, Any]:
    return await call(api, owner, "POST", f"/books/{book_id}/pages", 201,
                      json={"text": "Luna climbs the stairs.", **fields})


def print_order_paid(owner_id: uuid.UUID, book_id: str, retries: int, *, tier: str = "basic",
                     anonymous: bool = False) -> OrderPaid:
    return OrderPaid(order_id=uuid.uuid4(), owner_id=owner_id, user_id=None if anonymous else owner_id,
                     anon_id=owner_id if anonymous else None, amount=Decimal("25.00"), currency="GEL",
                     payment_id=uuid.uuid4(), provider="local",
                     lines=[OrderLine(product_id=uuid.uuid4(), sku=tier, kind="print_tier", quantity=1,
                                      unit_price=Decimal("25.00"), attributes={"max_retries_per_unit": retries},
                                      book_id=uuid.UUID(book_id))])


def retry_pack_line(product_id: uuid.UUID | None = None, *, target: tuple[str, str] | None = None) -> OrderLine:
    return OrderLine(product_id=product_id or uuid.uuid4(), sku="RETRY_PACK_3", kind="retry_pack", quantity=1,
                     unit_price=Decimal("2.00"), attributes={"retries": 3},
                     content_type=target[0] if target else None,
                     content_id=uuid.UUID(target[1]) if target else None)


def retry_pack_paid(owner_id: uuid.UUID, *, order_id: uuid.UUID | None = None,
                    target: tuple[str, str] | None = None) -> OrderPaid:
    return OrderPaid(order_id=order_id or uuid.uuid4(), owner_id=owner_id, user_id=owner_id, amount=Decimal("2.00"),
                     currency="GEL", payment_id=uuid.uuid4(), provider="local", lines=[retry_pack_line(target=target)])


async def retries_of(api: Any, owner: Owner, book_id: str, content_id: str) -> dict[str, Any]:
    allowances = await call(api, owner, "GET", f"/books/{book_id}/retries")
    return next(a for a in allowances["results"] if a["content_id"] == content_id)


class TestAnonymousVisitor:
    async def test_one_book_one_character_and_the_first_cover(self, api) -> None:
        visitor = anonymous(api)
        book = await new_book(api, visitor)
        assert_error(await api.client.post("/api/v1/books", json={"title": "Another"}, headers=visitor.headers),
                     403, "PERMISSION_DENIED")
        character = await new_character(api, visitor, book["id"])
        assert character["latest_version"]["version_number"] == 1
        assert character["latest_version"]["status"] == "queued"
        assert_error(await api.client.post(f"/api/v1/books/{book['id']}/characters", json={"name": "Max"},
                                           headers=visitor.headers), 403, "PERMISSION_DENIED")
        assert_error(await api.client.post(f"/api/v1/books/{book['id']}/characters/{character['id']}/versions",
                                           headers=visitor.headers), 403, "PERMISSION_DENIED")
        assert_error(await api.client.get(f"/api/v1/books/{book['id']}/cover", headers=visitor.headers),
                     404, "NOT_FOUND")
        cover = await call(api, visitor, "POST", f"/books/{book['id']}/cover/versions", 201)
        assert cover["version_number"] == 1
        assert_error(await api.client.post(f"/api/v1/books/{book['id']}/cover/versions", headers=visitor.headers),
                     403, "PERMISSION_DENIED")
        for method in ("GET", "POST"):
            assert_error(await api.client.request(method, f"/api/v1/books/{book['id']}/pages",
                                                  json={"text": "x"}, headers=visitor.headers),
                         401, "AUTHENTICATION_REQUIRED")
        assert_error(await api.client.get(f"/api/v1/books/{book['id']}/retries", headers=visitor.headers),
                     401, "AUTHENTICATION_REQUIRED")

        await api.h.drain()
        cover_item = await call(api, visitor, "GET", f"/books/{book['id']}/cover")
        selected = cover_item["selected_version"]
        assert selected["status"] == "completed" and selected["is_selected"]
        picture = await api.fetch(selected["image_url"])
        assert picture.status_code == 200 and picture.content.startswith(PNG_MAGIC)
        character = await call(api, visitor, "GET", f"/books/{book['id']}/characters/{character['id']}")
        assert character["selected_version"]["version_number"] == 1

    async def test_a_version_is_followed_on_the_jobs_progress_stream(self, api) -> None:
        visitor = anonymous(api)
        book = await new_book(api, visitor)
        version = await call(api, visitor, "POST", f"/books/{book['id']}/cover/versions", 201)
        response = await api.client.get(f"/api/v1/generation/jobs/{version['job_id']}/events",
                                        headers=visitor.headers)
        assert response.status_code == 200
        events = [block for block in response.text.split("\n\n") if block.startswith("event:")]
        assert events[-1].startswith("event: completed\n")
        stranger = anonymous(api)
        assert_error(await api.client.get(f"/api/v1/generation/jobs/{version['job_id']}/events",
                                          headers=stranger.headers), 404, "NOT_FOUND")

    @pytest.mark.databases("sqlite", "postgres", why="parallel requests against the database's locks")
    async def test_two_parallel_creates_make_one_book(self, api) -> None:
        visitor = anonymous(api)
        responses = await asyncio.gather(*(api.client.post("/api/v1/books", json={"title": f"Book {n}"},
                                                           headers=visitor.headers) for n in range(4)))
        assert sorted(r.status_code for r in responses) == [201, 403, 403, 403]

    @pytest.mark.databases("sqlite", "postgres", why="parallel requests against the database's locks")
    async def test_two_parallel_characters_make_one(self, api) -> None:
        """The one character asked for twice at once: one 201, the other refused, never a 500 (SQLite
        has no row lock; the book's lock is its write lock there). Refused with a 409 when the two
        met at the book's lock, with the anonymous book's limit (403) when the first had committed
        before the second looked (a busy machine)."""
        visitor = anonymous(api)
        book = await new_book(api, visitor)
        path = f"/api/v1/books/{book['id']}/characters"
        responses = await asyncio.gather(*(api.client.post(path, json={"name": f"Luna {n}"}, headers=visitor.headers)
                                           for n in range(2)))
        created, refused = sorted(responses, key=lambda r: r.status_code)
        assert created.status_code == 201 and refused.status_code in (403, 409), [r.text for r in responses]
        assert refused.json()["error"]["code"] == ("CONFLICT" if refused.status_code == 409 else "PERMISSION_DENIED"), \
            refused.text
        characters = await call(api, visitor, "GET", f"/books/{book['id']}/characters")
        assert characters["count"] == 1 and characters["results"][0]["number"] == 1
        # An account has no such limit: parallel characters are numbered one after the other.
        account = user(api)
        book = await new_book(api, account)
        path = f"/api/v1/books/{book['id']}/characters"
        responses = await asyncio.gather(*(api.client.post(path, json={"name": f"Max {n}"}, headers=account.headers)
                                           for n in range(3)))
        assert [r.status_code for r in responses] == [201, 201, 201], [r.text for r in responses]
        assert sorted(r.json()["number"] for r in responses) == [1, 2, 3]

    async def test_a_claim_moves_everything_once(self, api) -> None:
        visitor, book, character = await guest_book(api)
        account = user(api)
        claim = AnonymousClaimed(anon_id=visitor.id, user_id=account.id)
        await api.h.deliver(claim, producer="identity")
        await api.h.deliver(claim, producer="identity")
        books = await call(api, account, "GET", "/books")
        assert [b["id"] for b in books["results"]] == [book["id"]]
        characters = await call(api, account, "GET", f"/books/{book['id']}/characters")
        assert [c["id"] for c in characters["results"]] == [character["id"]]
        cover = await call(api, account, "GET", f"/books/{book['id']}/cover")
        assert cover["selected_version"]["image_url"]
        # The guest's token still reads it (`TestClaimedGuest`), but no longer owns it.
        assert_error(await api.client.patch(f"/api/v1/books/{book['id']}", json={"title": "Mine"},
                                            headers=visitor.headers), 404, "NOT_FOUND")
        # The account has no anonymous limits: it may regenerate (from its allowance) and add pages.
        await new_page(api, account, book["id"])


class TestAnonymousClient:
    """S0 binds anonymous ownership to the token and the client (address and User-Agent). The free
    book is one per anonymous owner; the free illustrations anonymous owners start are bounded per
    address and hour (`anonymous_free_jobs_per_ip`), so fresh tokens do not make a script free
    generation while the next visitor behind the same address still gets a book."""

    async def _jobs(self, api: Any) -> int:
        async with api.h.runtime.db.read_only() as session:
            return len((await session.exec(select(GenerationJob.id))).all())

    async def test_visitors_behind_one_address_each_get_a_book(self, api) -> None:
        visitors = [anonymous(api, user_agent="the same browser") for _ in range(3)]
        for visitor in visitors:
            book = await new_book(api, visitor)
            await new_character(api, visitor, book["id"])
            # The free book is one per anonymous owner.
            refused = await api.client.post("/api/v1/books", json={"title": "Another"}, headers=visitor.headers)
            assert assert_error(refused, 403, "PERMISSION_DENIED")["details"]["limit"] == "books"
        assert await self._jobs(api) == 3

    async def test_free_illustrations_are_bounded_per_address(self, start_generation) -> None:
        async with start_generation(anonymous_free_jobs_per_ip="4/hour") as api:
            visitors = [anonymous(api) for _ in range(3)]
            books = [await new_book(api, v) for v in visitors]
            for visitor, book in zip(visitors[:2], books[:2], strict=True):
                await new_character(api, visitor, book["id"])
                await call(api, visitor, "POST", f"/books/{book['id']}/cover/versions", 201)
            refused = await api.client.post(f"/api/v1/books/{books[2]['id']}/characters", json={"name": "Max"},
                                            headers=visitors[2].headers)
            body = assert_error(refused, 429, "RATE_LIMITED")
            assert body["details"]["limit"] == "anonymous_free_jobs" and int(refused.headers["retry-after"]) >= 1
            # Refused whole: no character without its illustration, no job.
            assert (await call(api, visitors[2], "GET", f"/books/{books[2]['id']}/characters"))["count"] == 0
            assert await self._jobs(api) == 4
            # Another address, and an account at this one, go on.
            other = anonymous(api)
            other.headers["X-Forwarded-For"] = "198.51.100.23"
            other_book = await new_book(api, other)
            await new_character(api, other, other_book["id"])
            account = user(api)
            account_book = await new_book(api, account)
            await new_character(api, account, account_book["id"])
            assert await self._jobs(api) == 6

    async def test_an_anonymous_book_is_found_only_from_its_client(self, api) -> None:
        visitor = anonymous(api, user_agent="Firefox")
        book = await new_book(api, visitor)
        character = await new_character(api, visitor, book["id"])
        for stolen in ({**visitor.headers, "User-Agent": "curl"}, {**visitor.headers, "X-Forwarded-For": "192.0.2.1"}):
            assert (await api.client.get("/api/v1/books", headers=stolen)).json()["count"] == 0
            for method, path in (("GET", f"/books/{book['id']}"), ("PATCH", f"/books/{book['id']}"),
                                 ("GET", f"/books/{book['id']}/characters/{character['id']}"),
                                 ("POST", f"/books/{book['id']}/cover/versions")):
                response = await api.client.request(method, f"/api/v1{path}", json={"title": "Taken"}, headers=stolen)
                assert_error(response, 404, "NOT_FOUND")
        assert (await call(api, visitor, "GET", f"/books/{book['id']}"))["title"] == "Luna and the Lighthouse"


class TestClaimedGuest:
    """A guest whose identity was claimed (automatic registration when an order is paid) keeps
    reading what it made with the same token and browser; it no longer changes it."""

    async def test_the_guest_token_still_reads_its_book_after_the_claim(self, api) -> None:
        visitor, book, character = await guest_book(api)
        account = user(api)
        await api.h.deliver(AnonymousClaimed(anon_id=visitor.id, user_id=account.id), producer="identity")
        assert (await call(api, account, "GET", f"/books/{book['id']}"))["id"] == book["id"]

        assert [b["id"] for b in (await call(api, visitor, "GET", "/books"))["results"]] == [book["id"]]
        assert (await call(api, visitor, "GET", f"/books/{book['id']}"))["title"] == book["title"]
        assert (await call(api, visitor, "GET", f"/books/{book['id']}/characters"))["count"] == 1
        assert (await call(api, visitor, "GET", f"/books/{book['id']}/characters/{character['id']}"))["name"] == "Luna"
        assert (await call(api, visitor, "GET", f"/books/{book['id']}/cover"))["selected_version"]["image_url"]
        for method, path in (("PATCH", f"/books/{book['id']}"), ("DELETE", f"/books/{book['id']}"),
                             ("POST", f"/books/{book['id']}/characters")):
            assert_error(await api.client.request(method, f"/api/v1{path}", json={"title": "x", "name": "x"},
                                                  headers=visitor.headers), 404, "NOT_FOUND")
        # Only from its browser, and only until the token must have expired (housekeeping).
        elsewhere = {**visitor.headers, "User-Agent": "another browser"}
        assert_error(await api.client.get(f"/api/v1/books/{book['id']}", headers=elsewhere), 404, "NOT_FOUND")
        async with api.h.runtime.db.transaction() as session:
            await session.execute(update(Book).where(col(Book.id) == uuid.UUID(book["id"]))
                                  .values(claimed_at=utcnow() - timedelta(days=31)))
        keeper = Housekeeper(api.h.runtime.db, sweeps(api.h.runtime.context), service="generation", batch_size=10)
        assert (await keeper.run_once()).removed["claimed_book_readers"] == 1
        assert_error(await api.client.get(f"/api/v1/books/{book['id']}", headers=visitor.headers), 404, "NOT_FOUND")
        assert (await call(api, account, "GET", f"/books/{book['id']}"))["id"] == book["id"]
        async with api.h.runtime.db.read_only() as session:
            row = (await session.exec(select(Book).where(col(Book.id) == uuid.UUID(book["id"])))).one()
        assert (row.anon_reader_id, row.client_hash, row.claimed_at) == (None, None, None)


class TestVersionsAndRetries:
    async def test_regenerate_until_the_retry_limit(self, api) -> None:
        owner = user(api)
        book = await new_book(api, owner)
        page = await new_page(api, owner, book["id"])
        path = f"/books/{book['id']}/pages/{page['id']}/versions"
        error = assert_error(await api.client.post(f"/api/v1{path}", headers=owner.headers), 403, "RETRY_LIMIT")
        assert error["details"] == {"content_type": "PAGE", "content_id": page["id"], "used": 0, "max": 0,
                                    "remaining": 0}
        await api.h.deliver(print_order_paid(owner.id, book["id"], 2), producer="payments")
        assert await retries_of(api, owner, book["id"], page["id"]) == {
            "content_type": "PAGE", "content_id": page["id"], "used": 0, "max": 2, "remaining": 2}
        second = await call(api, owner, "POST", path, 201, json={"prompt": "at night"})
        third = await call(api, owner, "POST", path, 201)
        assert (second["version_number"], third["version_number"]) == (2, 3)
        assert_error(await api.client.post(f"/api/v1{path}", headers=owner.headers), 403, "RETRY_LIMIT")
        assert (await retries_of(api, owner, book["id"], page["id"]))["remaining"] == 0
        assert (await call(api, owner, "GET", f"/books/{book['id']}"))["print_tier"] == "basic"

        await api.h.drain()
        versions = await call(api, owner, "GET", path)
        assert [v["version_number"] for v in versions["results"]] == [1, 2, 3]
        assert all(v["status"] == "completed" for v in versions["results"])
        # The first finished version is selected; the owner picks another.
        assert [v["is_selected"] for v in versions["results"]] == [True, False, False]
        chosen = await call(api, owner, "PATCH", f"{path}/{third['id']}", json={"is_selected": True})
        assert chosen["is_selected"]
        item = await call(api, owner, "GET", f"/books/{book['id']}/pages/{page['id']}")
        assert item["selected_version"]["id"] == third["id"] and item["version_count"] == 3

    async def test_a_failed_regeneration_gives_its_retry_back(self, start_generation) -> None:
        model_api = FakeModelApi(fail=True)
        mounts: dict[str, FastAPI] = {MODEL_API: model_api.app}
        async with start_generation(mounts=mounts, model_backends={"storybook-v1": "http"},
                                    job_max_attempts=1) as api:
            owner = user(api)
            book = await new_book(api, owner)
            character = await new_character(api, owner, book["id"])
            await api.h.deliver(print_order_paid(owner.id, book["id"], 1), producer="payments")
            await api.h.drain()  # the character's own first job
            path = f"/books/{book['id']}/characters/{character['id']}/versions"
            model_api.gate.clear()  # the version's job waits at the model until the retry is seen taken
            version = await call(api, owner, "POST", path, 201)
            assert (await retries_of(api, owner, book["id"], character["id"]))["remaining"] == 0
            model_api.gate.set()
            await api.h.drain()
            failed = await call(api, owner, "GET", f"{path}/{version['id']}")
            assert failed["status"] == "failed" and failed["image_url"] is None
            assert (await retries_of(api, owner, book["id"], character["id"]))["remaining"] == 1
            # A failed version cannot be selected.
            assert_error(await api.client.patch(f"/api/v1{path}/{version['id']}", json={"is_selected": True},
                                                headers=owner.headers), 400, "INVALID_STATE")

    async def test_page_numbers(self, api) -> None:
        owner = user(api)
        book = await new_book(api, owner)
        first, second = await new_page(api, owner, book["id"]), await new_page(api, owner, book["id"])
        assert (first["number"], second["number"]) == (1, 2)
        assert_error(await api.client.post(f"/api/v1/books/{book['id']}/pages", json={"number": 2, "text": "x"},
                                           headers=owner.headers), 409, "CONFLICT")
        moved = await call(api, owner, "PATCH", f"/books/{book['id']}/pages/{first['id']}", json={"number": 7})
        assert moved["number"] == 7
        pages = await call(api, owner, "GET", f"/books/{book['id']}/pages")
        assert [p["number"] for p in pages["results"]] == [2, 7]


class OrdersFake:
    """orders' `/internal/orders/{id}` for orders this test places."""

    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.app = FastAPI()

        @self.app.get("/internal/orders/{order_id}")
        async def order(order_id: str) -> Any:
            from fastapi.responses import JSONResponse

            found = self.orders.get(order_id)
            if not found:
                return JSONResponse({"error": {"code": "NOT_FOUND"}}, status_code=404)
            # orders' own reading of the status, as its internal answer carries it
            return {**found, "is_paid": found["status"] in {"paid", "processing", "shipped", "delivered",
                                                             "returned", "completed"}}

    def add(self, owner_id: uuid.UUID, status: str, *, product_id: uuid.UUID | None = None) -> uuid.UUID:
        order_id = uuid.uuid4()
        line = retry_pack_line(product_id)
        self.orders[str(order_id)] = {"id": str(order_id), "owner_id": str(owner_id), "user_id": str(owner_id),
                                      "status": status, "items": [line.model_dump(mode="json")]}
        return order_id


@pytest.fixture
async def with_orders(start_generation):
    orders = OrdersFake()
    async with start_generation(mounts={"http://orders.internal": orders.app}) as api:
        yield api, orders


class TestRetryPacks:
    async def test_a_pack_naming_its_item_applies_itself_once(self, api) -> None:
        owner = user(api)
        book = await new_book(api, owner)
        page = await new_page(api, owner, book["id"])
        paid = retry_pack_paid(owner.id, target=("PAGE", page["id"]))
        await api.h.deliver(paid, producer="payments")
        await api.h.deliver(paid, producer="payments")  # redelivered under another envelope
        assert await retries_of(api, owner, book["id"], page["id"]) == {
            "content_type": "PAGE", "content_id": page["id"], "used": 0, "max": 3, "remaining": 3}

    async def test_apply_by_hand_once(self, with_orders) -> None:
        api, orders = with_orders
        owner = user(api)
        book = await new_book(api, owner)
        await call(api, owner, "POST", f"/books/{book['id']}/cover/versions", 201)
        cover = await call(api, owner, "GET", f"/books/{book['id']}/cover")
        paid = retry_pack_paid(owner.id)
        await api.h.deliver(paid, producer="payments")
        body = {"content_type": "cover", "content_id": cover["id"], "order_id": str(paid.order_id)}
        applied = await call(api, owner, "POST", "/retries/apply", json=body)
        assert (applied["max"], applied["remaining"]) == (3, 3)
        assert_error(await api.client.post("/api/v1/retries/apply", json=body, headers=owner.headers),
                     400, "INVALID_STATE")
        # Its event not here yet: orders says it is paid (S0's field name works too).
        early = orders.add(owner.id, "paid")
        applied = await call(api, owner, "POST", "/retries/apply",
                             json={"content_type": "COVER", "content_id": cover["id"],
                                   "retry_pack_order_id": str(early)})
        assert applied["remaining"] == 6
        # A returned order was paid (orders says so): its pack still applies.
        returned = orders.add(owner.id, "returned")
        applied = await call(api, owner, "POST", "/retries/apply", json={**body, "order_id": str(returned)})
        assert applied["remaining"] == 9
        unpaid = orders.add(owner.id, "pending")
        assert_error(await api.client.post("/api/v1/retries/apply", json={**body, "order_id": str(unpaid)},
                                           headers=owner.headers), 400, "INVALID_STATE")
        stranger = user(api)
        theirs = orders.add(stranger.id, "paid")
        assert_error(await api.client.post("/api/v1/retries/apply", json={**body, "order_id": str(theirs)},
                                           headers=owner.headers), 403, "PERMISSION_DENIED")
        assert_error(await api.client.post("/api/v1/retries/apply", json={**body, "order_id": str(uuid.uuid4())},
                                           headers=owner.headers), 403, "PERMISSION_DENIED")
        # Someone else's item is not found, even with the caller's own pack.
        mine = orders.add(stranger.id, "paid")
        assert_error(await api.client.post("/api/v1/retries/apply", json={**body, "order_id": str(mine)},
                                           headers=stranger.headers), 404, "NOT_FOUND")


class TestOwnership:
    async def test_another_customer_finds_nothing(self, api) -> None:
        owner, stranger = user(api), user(api)
        book = await new_book(api, owner)
        character = await new_character(api, owner, book["id"])
        page = await new_page(api, owner, book["id"])
        cover = await call(api, owner, "POST", f"/books/{book['id']}/cover/versions", 201)
        b = f"/books/{book['id']}"
        c = f"{b}/characters/{character['id']}"
        p = f"{b}/pages/{page['id']}"
        cv = character["latest_version"]["id"]
        probes = [("GET", b), ("PUT", b), ("PATCH", b), ("DELETE", b),
                  ("GET", f"{b}/characters"), ("POST", f"{b}/characters"), ("GET", c), ("PUT", c), ("PATCH", c),
                  ("DELETE", c), ("GET", f"{c}/versions"), ("POST", f"{c}/versions"), ("GET", f"{c}/versions/{cv}"),
                  ("PATCH", f"{c}/versions/{cv}"), ("GET", f"{b}/cover"), ("GET", f"{b}/cover/versions"),
                  ("POST", f"{b}/cover/versions"), ("GET", f"{b}/cover/versions/{cover['id']}"),
                  ("GET", f"{b}/pages"), ("POST", f"{b}/pages"), ("GET", p), ("PATCH", p), ("DELETE", p),
                  ("GET", f"{p}/versions"), ("POST", f"{p}/versions"), ("GET", f"{b}/retries")]
        bodies = {"PUT": {"title": "Mine", "name": "Mine"}, "PATCH": {"title": "Mine", "is_selected": True},
                  "POST": {"name": "Mine", "text": "Mine"}}
        for method, path in probes:
            response = await api.client.request(method, f"/api/v1{path}", json=bodies.get(method),
                                                headers=stranger.headers)
            assert_error(response, 404, "NOT_FOUND")
        assert (await call(api, owner, "GET", b))["title"] == "Luna and the Lighthouse"
        assert (await call(api, stranger, "GET", "/books"))["count"] == 0

    async def test_the_internal_checks_orders_makes(self, api) -> None:
        owner, stranger = user(api), user(api)
        book = await new_book(api, owner)
        await new_page(api, owner, book["id"])
        character = await new_character(api, owner, book["id"])
        service = {"X-Service-Token": api.runtime.settings.service_token}
        found = await api.client.get(f"/internal/books/{book['id']}", params={"owner_id": str(owner.id)},
                                     headers=service)
        assert found.status_code == 200 and found.json()["page_count"] == 1
        assert (await api.client.get(f"/internal/books/{book['id']}", params={"owner_id": str(stranger.id)},
                                     headers=service)).status_code == 404
        item = f"/internal/book-items/CHARACTER/{character['id']}"
        assert (await api.client.get(item, params={"owner_id": str(owner.id)}, headers=service)).json()[
            "book_id"] == book["id"]
        assert (await api.client.get(item, params={"owner_id": str(stranger.id)}, headers=service)).status_code == 404
        assert (await api.client.get(f"/internal/book-items/PAGE/{character['id']}",
                                     params={"owner_id": str(owner.id)}, headers=service)).status_code == 404


class TestErasure:
    async def test_a_deleted_user_loses_books_and_files(self, api) -> None:
        owner = user(api)
        book = await new_book(api, owner)
        await new_character(api, owner, book["id"])
        await api.h.drain()
        files = list((api.storage_dir / "books").glob("*.png"))
        assert files
        await api.h.deliver(UserDeleted(user_id=owner.id), producer="identity")
        assert (await call(api, owner, "GET", "/books"))["count"] == 0
        assert not any(f.exists() for f in files)

    async def test_deleting_a_book_removes_its_files(self, api) -> None:
        owner = user(api)
        book = await new_book(api, owner)
        await new_character(api, owner, book["id"])
        await api.h.drain()
        files = list((api.storage_dir / "books").glob("*.png"))
        await call(api, owner, "DELETE", f"/books/{book['id']}", 204)
        assert files and not any(f.exists() for f in files)
        assert_error(await api.client.get(f"/api/v1/books/{book['id']}", headers=owner.headers), 404, "NOT_FOUND")


class TestS0BookDetails:
    """What S0's frontend keeps on a book and its items: print options, a character's reference
    photo, a cover version's lettering and the client's prompt snapshot."""

    async def test_print_options_are_kept_and_changed(self, api) -> None:
        owner = user(api)
        book = await call(api, owner, "POST", "/books", 201, json={
            "title": "Nino", "style": "comic", "style_version": "v2", "print_size": "A4", "paper_type": "matte",
            "binding_type": "hardcover"})
        assert (book["style_version"], book["print_size"], book["paper_type"], book["binding_type"]) == \
            ("v2", "A4", "matte", "hardcover")
        changed = await call(api, owner, "PATCH", f"/books/{book['id']}", json={"print_size": "A5"})
        assert changed["print_size"] == "A5" and changed["binding_type"] == "hardcover"
        plain = await new_book(api, owner)
        assert plain["print_size"] is None and plain["style_version"] is None
        assert_error(await api.client.patch(f"/api/v1/books/{book['id']}", json={"paper_type": "x" * 51},
                                            headers=owner.headers), 400, "VALIDATION_ERROR")

    async def test_a_reference_photo_is_checked_stored_replaced_and_deleted(self, api) -> None:
        owner = user(api)
        book = await new_book(api, owner)
        character = await new_character(api, owner, book["id"])
        assert character["reference_photo_url"] is None
        path = f"/api/v1/books/{book['id']}/characters/{character['id']}/reference-photo"
        first = await api.client.put(path, files={"image": ("kid.png", png_bytes(600, 600), "image/png")},
                                     headers=owner.headers)
        assert first.status_code == 200, first.text
        url = first.json()["reference_photo_url"]
        picture = await api.fetch(url)
        assert picture.status_code == 200 and picture.content.startswith(PNG_MAGIC)
        read = await call(api, owner, "GET", f"/books/{book['id']}/characters/{character['id']}")
        # The same stored photo (each answer signs its URL anew: the expiry and signature may differ).
        assert read["reference_photo_url"].partition("?")[0] == url.partition("?")[0]
        # Not an image: refused, the kept photo stays.
        assert_error(await api.client.put(path, files={"image": ("x.png", b"not an image", "image/png")},
                                          headers=owner.headers), 400, "UNSUPPORTED_FORMAT")
        assert (await api.fetch(url)).status_code == 200
        # Another customer's character is not found.
        assert_error(await api.client.put(path, files={"image": ("kid.png", png_bytes(600, 600), "image/png")},
                                          headers=user(api).headers), 404, "NOT_FOUND")
        second = await api.client.put(path, files={"image": ("kid.jpg", jpeg_bytes(600, 600), "image/jpeg")},
                                      headers=owner.headers)
        assert second.status_code == 200, second.text
        files = sorted(p.name for p in (api.storage_dir / "books" / book["id"] / "characters" / character["id"])
                       .iterdir())
        assert len(files) == 1 and files[0].endswith(".jpg")  # the replaced photo is gone
        await call(api, owner, "DELETE", f"/books/{book['id']}/characters/{character['id']}", 204)
        assert not any((api.storage_dir / "books" / book["id"] / "characters" / character["id"]).iterdir())

    @pytest.mark.parametrize("owner_of", [user, anonymous], ids=["signed-in", "anonymous"])
    async def test_the_owner_sets_a_reference_photo_of_any_size(self, api, owner_of) -> None:
        """Signed in or anonymous, the character's owner sets its photo; S0 takes any readable photo
        (the 500 px minimum is a restoration's rule, S2)."""
        owner = owner_of(api)
        book = await new_book(api, owner)
        character = await new_character(api, owner, book["id"])
        response = await api.client.put(f"/api/v1/books/{book['id']}/characters/{character['id']}/reference-photo",
                                        files={"image": ("kid.png", png_bytes(320, 240), "image/png")},
                                        headers=owner.headers)
        assert response.status_code == 200, response.text
        assert response.json()["reference_photo_url"]

    async def test_a_cover_version_keeps_its_lettering_and_snapshot(self, api) -> None:
        owner = user(api)
        book = await new_book(api, owner)
        snapshot = {"scene": "moonlit garden", "mood": "calm"}
        cover = await call(api, owner, "POST", f"/books/{book['id']}/cover/versions", 201, json={
            "title_text": "Luna", "subtitle_text": "A bedtime story", "author_name": "Mum",
            "prompt_snapshot": snapshot})
        assert (cover["title_text"], cover["subtitle_text"], cover["author_name"]) == \
            ("Luna", "A bedtime story", "Mum")
        assert cover["prompt_snapshot"] == snapshot
        assert 'lettering: title "Luna", subtitle "A bedtime story", author "Mum"' in cover["prompt"]
        listed = await call(api, owner, "GET", f"/books/{book['id']}/cover/versions")
        assert listed["results"][0]["prompt_snapshot"] == snapshot
        too_big = {"x": "y" * 10_001}
        assert_error(await api.client.post(f"/api/v1/books/{book['id']}/cover/versions",
                                           json={"prompt_snapshot": too_big}, headers=owner.headers),
                     400, "VALIDATION_ERROR")

    async def test_lettering_is_the_covers_only(self, api) -> None:
        owner = user(api)
        book = await new_book(api, owner)
        character = await new_character(api, owner, book["id"])
        await api.h.deliver(print_order_paid(owner.id, book["id"], 3), producer="payments")
        version = await call(api, owner, "POST", f"/books/{book['id']}/characters/{character['id']}/versions", 201,
                             json={"title_text": "Luna", "prompt_snapshot": "with a red scarf",
                                   "prompt": "with a red scarf"})
        assert version["title_text"] is None and "lettering" not in version["prompt"]
        assert version["prompt_snapshot"] == "with a red scarf" and version["prompt"].endswith("with a red scarf")

    async def test_a_book_shows_what_its_items_add_up_to(self, api) -> None:
        owner = user(api)
        book = await new_book(api, owner)
        assert (book["page_count"], book["cover_version_id"], book["images_made"], book["last_generation_at"],
                book["print_paid_at"]) == (0, None, 0, None, None)
        await new_character(api, owner, book["id"])
        await new_page(api, owner, book["id"])
        await new_page(api, owner, book["id"])
        cover = await call(api, owner, "POST", f"/books/{book['id']}/cover/versions", 201)
        queued = await call(api, owner, "GET", f"/books/{book['id']}")
        assert queued["page_count"] == 2 and queued["images_made"] <= 4  # the worker may be at it already
        assert queued["last_generation_at"] == cover["created_at"]
        await api.h.drain()
        other = await new_book(api, owner, "Another")
        listed = {b["id"]: b for b in (await call(api, owner, "GET", "/books"))["results"]}
        done = listed[book["id"]]
        assert (done["page_count"], done["images_made"], done["cover_version_id"]) == (2, 4, cover["id"])
        assert listed[other["id"]]["page_count"] == 0 and listed[other["id"]]["images_made"] == 0
        await api.h.deliver(print_order_paid(owner.id, book["id"], 3), producer="payments")
        assert (await call(api, owner, "GET", f"/books/{book['id']}"))["print_paid_at"] is not None
