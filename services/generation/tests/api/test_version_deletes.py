"""Deleting a version of a character, the cover or a page (S0's version DELETE): hidden from the item
and its lists, the selection moves back, what a paid print used is kept, owner only."""

from __future__ import annotations

from typing import Any

from ..conftest import assert_error
from .test_books import anonymous, call, new_book, new_character, print_order_paid, user


async def _ids(api: Any, owner: Any, path: str) -> list[int]:
    return [v["version_number"] for v in (await call(api, owner, "GET", path))["results"]]


class TestDeleteVersion:
    async def test_hidden_the_selection_moves_back_and_a_printed_one_is_kept(self, api) -> None:
        owner = user(api)
        book = await new_book(api, owner)
        character = await new_character(api, owner, book["id"])
        item = f"/books/{book['id']}/characters/{character['id']}"
        # Paid with version 1 made: that one may be what was printed.
        await api.h.deliver(print_order_paid(owner.id, book["id"], 2), producer="payments")
        second = await call(api, owner, "POST", f"{item}/versions", 201)
        third = await call(api, owner, "POST", f"{item}/versions", 201)
        await api.h.drain()
        first = (await call(api, owner, "GET", f"{item}/versions"))["results"][0]
        await call(api, owner, "PATCH", f"{item}/versions/{third['id']}", json={"is_selected": True})

        await call(api, owner, "DELETE", f"{item}/versions/{third['id']}", 204)
        assert_error(await api.client.get(f"/api/v1{item}/versions/{third['id']}", headers=owner.headers),
                     404, "NOT_FOUND")
        assert await _ids(api, owner, f"{item}/versions") == [1, 2]
        shown = await call(api, owner, "GET", item)
        assert shown["selected_version"]["id"] == second["id"] and shown["latest_version"]["id"] == second["id"]

        await call(api, owner, "DELETE", f"{item}/versions/{first['id']}", 204)
        assert await _ids(api, owner, f"{item}/versions") == [2]
        kept = await call(api, owner, "GET", f"{item}/versions/{first['id']}")
        assert kept["deleted_at"] is not None and kept["image_url"] and not kept["is_selected"]
        assert_error(await api.client.patch(f"/api/v1{item}/versions/{first['id']}", json={"is_selected": True},
                                            headers=owner.headers), 404, "NOT_FOUND")

        # The last one may go too: the item has no picture until it is regenerated.
        await call(api, owner, "DELETE", f"{item}/versions/{second['id']}", 204)
        shown = await call(api, owner, "GET", item)
        assert (shown["selected_version"], shown["latest_version"], shown["version_count"]) == (None, None, 3)
        assert await _ids(api, owner, f"{item}/versions") == []

    async def test_a_version_being_made_stays_and_another_owner_gets_404(self, api) -> None:
        owner, stranger = user(api), user(api)
        book = await new_book(api, owner)
        # No worker takes the job until the DELETE was answered: a quick one had made the version already.
        await api.h.bus.stop()
        made = await call(api, owner, "POST", f"/books/{book['id']}/cover/versions", 201)
        path = f"/api/v1/books/{book['id']}/cover/versions/{made['id']}"
        error = assert_error(await api.client.delete(path, headers=owner.headers), 400, "INVALID_STATE")
        assert error["details"]["status"] == "queued"
        await api.h.bus.start()
        await api.h.drain()
        assert_error(await api.client.delete(path, headers=stranger.headers), 404, "NOT_FOUND")
        assert_error(await api.client.delete(path, headers=anonymous(api).headers), 404, "NOT_FOUND")
        await call(api, owner, "DELETE", path.removeprefix("/api/v1"), 204)
        cover = await call(api, owner, "GET", f"/books/{book['id']}/cover")
        assert (cover["selected_version"], cover["latest_version"]) == (None, None)
        assert_error(await api.client.delete(path, headers=owner.headers), 404, "NOT_FOUND")
