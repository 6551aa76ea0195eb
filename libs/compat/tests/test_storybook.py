"""The storybook profile's translations: the seed's names and enums out, its fields and forms in."""

from __future__ import annotations

from typing import Any

import pytest

from atelier_compat.core import CompatError, Context
from atelier_compat.storybook import _form, _multipart, _version_in, book, book_in, item, version

NOW = "2026-11-25T12:00:00Z"


def ctx(body: bytes = b"", content_type: str = "application/json") -> Context:
    async def native(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("no native call expected")

    return Context(method="POST", path="/", params={}, query=[], headers={"content-type": content_type}, body=body,
                   native=native, base="/compat/storybook", base_url="http://api.example")


def native_version(status: str = "completed", **extra: Any) -> dict[str, Any]:
    return {"id": "v1", "content_type": "COVER", "content_id": "cover-item", "version_number": 1, "status": status,
            "progress": 100, "job_id": "job-1", "error": None, "image_url": "/api/v1/images/files/x.png",
            "thumbnail_url": "/api/v1/images/files/x_t.png", "width": 1024, "height": 768, "is_selected": True,
            "prompt": "Book cover", "title_text": "Luna", "subtitle_text": None, "author_name": None,
            "prompt_snapshot": None, "created_at": NOW, **extra}


@pytest.mark.parametrize(("native", "seed", "page"), [
    ("queued", "PENDING", "PENDING"), ("running", "GENERATING", "GENERATING"),
    ("completed", "SUCCESS", "COMPLETED"), ("failed", "FAILED", "FAILED")])
def test_version_statuses_are_the_seeds_enums(native: str, seed: str, page: str) -> None:
    assert version(native_version(native), "character", ctx())["status"] == seed
    assert version(native_version(native), "page", ctx())["status"] == page


def test_a_version_has_the_seeds_names_and_absolute_images() -> None:
    out = version(native_version(), "book", ctx(), owner="the-book")
    assert out["book"] == "the-book"  # a cover version names its book, not the cover item
    assert out["generated_image"] == "http://api.example/api/v1/images/files/x.png"
    assert out["thumbnail"] == "http://api.example/api/v1/images/files/x_t.png"
    assert out["generation_job_id"] == "job-1" and out["aspect_ratio"] == "4:3"
    assert out["prompt_snapshot"] == "Book cover"  # none given: the prompt the picture was made from
    assert out["title_text"] == "Luna" and out["version_number"] == 1
    assert "image_url" not in out and "job_id" not in out
    given = version(native_version(prompt_snapshot={"scene": "sea"}), "book", ctx())
    assert given["prompt_snapshot"] == {"scene": "sea"}


def test_a_book_shows_art_style_print_options_and_an_upper_case_status() -> None:
    native = {"id": "b1", "title": "Luna", "description": "", "age_range": "", "style": "comic", "language": "en",
              "status": "ordered", "style_version": "v2", "print_size": "A4", "paper_type": None,
              "binding_type": "hardcover", "print_tier": "basic", "storefront": "storybook", "page_count": 3,
              "cover_version_id": "cv1", "images_made": 5, "last_generation_at": NOW, "print_paid_at": NOW,
              "created_at": NOW, "updated_at": NOW}
    out = book(native, ctx())
    assert (out["art_style"], out["status"], out["print_size"], out["binding_type"]) == \
        ("comic", "ORDERED", "A4", "hardcover")
    assert (out["total_pages"], out["current_cover_version"], out["total_images_generated"],
            out["last_generation_at"], out["print_locked_at"]) == (3, "cv1", 5, NOW, NOW)
    assert book_in({"title": "Luna", "art_style": "ink", "print_size": "A5"}, ctx()) == \
        {"title": "Luna", "style": "ink", "print_size": "A5"}


def test_a_character_and_a_page_in_the_seeds_shape() -> None:
    selected = native_version(content_type="PAGE", content_id="p1")
    common = {"book_id": "b1", "selected_version": selected, "latest_version": selected, "version_count": 2,
              "created_at": NOW, "updated_at": NOW}
    character = item({**common, "id": "c1", "content_type": "CHARACTER", "name": "Luna", "description": "",
                      "traits": [], "number": 1, "reference_photo_url": "/api/v1/images/files/ref.png"}, ctx())
    assert character["book"] == "b1" and character["current_version"] == "v1"
    assert character["total_generation_attempts"] == 2 and character["free_retry_used"] is True
    assert character["reference_photo"] == "http://api.example/api/v1/images/files/ref.png"
    page = item({**common, "id": "p1", "content_type": "PAGE", "number": 3, "text": "Once",
                 "illustration_prompt": "a boat"}, ctx())
    assert (page["id"], page["page_number"], page["text_content"], page["scene_description"]) == \
        ("p1", 3, "Once", "a boat")
    assert page["status"] == "COMPLETED" and page["generated_image"] and page["generation_job_id"] == "job-1"
    assert page["version_number"] == 1 and page["current_version"] == "v1"


def test_a_multipart_form_gives_its_fields_and_files() -> None:
    content, content_type = _multipart("reference_photo", ("kid.png", "image/png", b"\x89PNG bytes"))
    fields_part = (b'--B\r\nContent-Disposition: form-data; name="book"\r\n\r\nb1\r\n'
                   b'--B\r\nContent-Disposition: form-data; name="name"\r\n\r\nNino\r\n')
    body = fields_part + content.replace(content_type.split("=", 1)[1].encode(), b"B")
    fields, files = _form(ctx(body, "multipart/form-data; boundary=B"))
    assert fields == {"book": "b1", "name": "Nino"}
    assert files == {"reference_photo": ("kid.png", "image/png", b"\x89PNG bytes")}
    assert _form(ctx(b'{"book": "b1"}')) == ({"book": "b1"}, {})
    with pytest.raises(CompatError):
        _form(ctx(b"no parts here", "multipart/form-data; boundary=B"))


def test_a_new_version_is_asked_with_the_seeds_fields() -> None:
    assert _version_in({"book": "b1", "title_text": "Luna", "prompt_snapshot": "at sea", "seed": 5,
                        "generation_job_id": "x"}) == {"title_text": "Luna", "prompt_snapshot": "at sea",
                                                       "prompt": "at sea"}
    assert _version_in({"prompt_snapshot": {"scene": "sea"}}) == {"prompt_snapshot": {"scene": "sea"}}
    assert _version_in({"prompt": "brighter", "prompt_snapshot": "x"})["prompt"] == "brighter"


async def test_csrf_trusts_the_configured_and_the_storefronts_origins() -> None:
    from atelier_compat.storybook import ROUTES, prepare

    route = next(r for r in ROUTES if r.path == "/api/customer/edit/")
    for origin, trusted in (("http://localhost:3000", True), ("https://storybook.example", True),
                            ("https://evil.example", False)):
        c = ctx()
        c.method, c.headers["origin"], c.state["route"] = "PUT", origin, route
        c.origins, c.origin_check = ("http://localhost:3000",), lambda o: o == "https://storybook.example"
        if trusted:
            await prepare(c)
        else:
            with pytest.raises(CompatError) as refused:
                await prepare(c)
            assert refused.value.status == 403 and refused.value.code == "CSRF_FAILED"


def test_an_id_from_the_body_must_be_a_uuid_before_it_names_a_native_path() -> None:
    from atelier_compat.storybook import _body_id

    good = "6F9619FF-8B86-D011-B42D-00C04FC964FF"
    assert _body_id(good, "book") == good.lower()
    for bad in ("../../orders", {"a": 1}, 5, True, None, "x/y"):
        with pytest.raises(CompatError) as refused:
            _body_id(bad, "book")
        assert refused.value.status == 400 and "book" in refused.value.details["fields"]


def test_errors_name_the_seeds_fields() -> None:
    from atelier_compat.storybook import error

    body = error(CompatError(400, "VALIDATION_ERROR", "The request is not valid",
                             {"fields": {"body.style": ["too long"], "body.number": ["taken"], "title": ["required"]}}))
    assert body == {"detail": "The request is not valid", "code": "validation_error", "art_style": ["too long"],
                    "page_number": ["taken"], "title": ["required"]}
