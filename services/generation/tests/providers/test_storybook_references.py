"""Storybooks on a hosted provider: a cover or page is drawn with the approved character pictures."""

from __future__ import annotations

import uuid

from atelier_generation.repository import JobRepository
from atelier_testing.fakes.providers import gemini, kie

from ..api.test_books import call, new_book, new_character, new_page, user

STORYBOOK = {"id": "storybook-v1", "name": "Storybook illustration", "credits": 0, "kind": "storybook"}


async def job_of(api, version_id: str):
    async with api.runtime.db.read_only() as session:
        return await JobRepository(session).get(uuid.UUID(version_id))


class TestReferences:
    async def test_a_page_is_drawn_with_the_selected_character_picture(self, start_generation) -> None:
        fake = gemini.FakeGemini()
        settings = {"providers": {"gemini": {"api_key": gemini.API_KEY, "base_url": "http://gemini.test"}},
                    "models": [{**STORYBOOK, "provider": "gemini", "provider_model": "gemini-2.5-flash-image"}]}
        async with start_generation(mounts={"http://gemini.test": fake.app}, **settings) as api:
            owner = user(api)
            book = await new_book(api, owner)
            await new_character(api, owner, book["id"])
            await api.h.drain()
            assert fake.reference_counts == [0]  # the character itself is drawn from words
            page = await new_page(api, owner, book["id"])
            await api.h.drain()
            assert fake.reference_counts == [0, 1]
            [version] = (await call(api, owner, "GET", f"/books/{book['id']}/pages/{page['id']}/versions"))["results"]
            assert version["status"] == "completed"
            job = await job_of(api, version["id"])
            assert job is not None and len(job.reference_keys) == 1 and job.reference_keys[0].startswith("books/")

    async def test_a_provider_that_takes_no_references_is_given_none(self, start_generation) -> None:
        fake = kie.FakeKie()
        settings = {"providers": {"kie": {"api_key": kie.API_KEY, "base_url": "http://kie.test"}},
                    "models": [{**STORYBOOK, "provider": "kie", "provider_model": "google/nano-banana"}],
                    "provider_poll_seconds": 0.01}
        async with start_generation(mounts={"http://kie.test": fake.app}, **settings) as api:
            owner = user(api)
            book = await new_book(api, owner)
            await new_character(api, owner, book["id"])
            await api.h.drain()
            await new_page(api, owner, book["id"])
            await api.h.drain()
            assert len(fake.submits) == 2
            assert all("image_urls" not in job.body["input"] for job in fake.submits)
