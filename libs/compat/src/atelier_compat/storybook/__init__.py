"""S0 storybook (the product's original API): the illustrated storybook maker's API, on identity, generation, orders, payments.

Its auth style is a session cookie: login sets `sessionid` (the access token) and
`storybook_refresh` (the refresh token), both HttpOnly; the profile turns the cookie into a bearer
token for the native calls and refreshes it when the access token has expired. Unsafe requests
riding on the cookie need an `Origin` (or `Referer`) among the configured frontend origins (CSRF).
Anonymous visitors keep the gateway's `anon_token` cookie or `X-Anonymous-Token`. Its flat
resources (`/characters/<id>/`, `/page-versions/<id>/`) are found under the caller's books. Errors
are DRF's: `{"detail": …}` (with `code`), per-field messages at the top level for 400s. Choices
where the seed is silent: `README.md` next to this file.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import time
import uuid
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from math import gcd
from typing import Any
from urllib.parse import urlsplit

import orjson

from atelier_compat.core import CompatError, Context, Json, Profile, Reply, Route, rename, same_id

V1 = "/api/v1"
SESSION, REFRESH = "sessionid", "storybook_refresh"
SAFE = ("GET", "HEAD", "OPTIONS")
LIMIT = {"limit": 100}


# -- the session cookie -------------------------------------------------------------------------

def _expires_soon(token: str) -> bool:
    """Whether an access token is past (or within 30 s of) its expiry; read, not verified (the
    native call verifies it)."""
    try:
        payload = token.split(".")[1]
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, orjson.JSONDecodeError):
        return True
    # The cookie is the client's: its payload may be any JSON (`[]`, `null`, an `exp` of any type).
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        return True
    return exp < time.time() + 30


def _cookie(ctx: Context, name: str, value: str, max_age: int) -> None:
    secure = "; Secure" if ctx.base_url.startswith("https:") else ""
    ctx.response_headers.append(
        ("set-cookie", f"{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"))


def start_session(ctx: Context, tokens: dict[str, Any]) -> None:
    _cookie(ctx, SESSION, tokens["access"], 7 * 86400)
    _cookie(ctx, REFRESH, tokens["refresh"], 7 * 86400)
    ctx.native_headers["authorization"] = f"Bearer {tokens['access']}"


def end_session(ctx: Context) -> None:
    _cookie(ctx, SESSION, "", 0)
    _cookie(ctx, REFRESH, "", 0)
    ctx.native_headers.pop("authorization", None)


def _origin(ctx: Context) -> str | None:
    origin = ctx.headers.get("origin")
    if origin is None and (referer := ctx.headers.get("referer")):
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}"
    return origin


async def prepare(ctx: Context) -> None:
    """The session cookie stands for a bearer token; unsafe requests need a trusted origin (CSRF)."""
    origin = _origin(ctx)
    unsafe = ctx.method not in SAFE and ctx.state["route"].auth != "signed"
    if unsafe and origin is not None and not ctx.trusts_origin(origin):
        raise CompatError(403, "CSRF_FAILED", "CSRF Failed: Origin checking failed - "
                                              f"{origin} does not match any trusted origins.")
    access, refresh = ctx.cookie(SESSION), ctx.cookie(REFRESH)
    if "authorization" in ctx.headers or not (access or refresh):
        return
    if unsafe and origin is None:
        raise CompatError(403, "CSRF_FAILED", "CSRF Failed: Origin checking failed - no Origin or Referer.")
    if access and not _expires_soon(access):
        ctx.native_headers["authorization"] = f"Bearer {access}"
        return
    if refresh:
        renewed = await ctx.native("POST", f"{V1}/auth/refresh", json={"refresh": refresh})
        if renewed.ok:
            start_session(ctx, renewed.json())
            return
    end_session(ctx)  # the session is over: carry on as an anonymous visitor


# -- shapes -------------------------------------------------------------------------------------

def user(u: dict[str, Any]) -> dict[str, Any]:
    return {k: u.get(k) for k in ("id", "username", "email", "first_name", "last_name", "phone")}


# The job's state in the seed's enums: characters' and covers' versions say SUCCESS, pages' COMPLETED.
GENERATION_STATUS = {"queued": "PENDING", "running": "GENERATING", "completed": "SUCCESS", "failed": "FAILED"}
PAGE_STATUS = {**GENERATION_STATUS, "completed": "COMPLETED"}
BOOK_IN = {"art_style": "style"}
PAGE_IN = {"page_number": "number", "text_content": "text", "scene_description": "illustration_prompt"}
PRINT_OPTIONS = ("style_version", "print_size", "paper_type", "binding_type")


def book(b: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {"id": b["id"], "title": b["title"], "art_style": b["style"],
            **{k: b.get(k) for k in PRINT_OPTIONS}, "status": str(b["status"]).upper(),
            "description": b.get("description"), "age_range": b.get("age_range"), "language": b.get("language"),
            "print_tier": b.get("print_tier"), "total_pages": b.get("page_count", 0),
            "current_cover_version": b.get("cover_version_id"), "total_images_generated": b.get("images_made", 0),
            "last_generation_at": b.get("last_generation_at"),
            # The platform fixes a book for print when its print order is paid.
            "print_locked_at": b.get("print_paid_at"),
            "created_at": b["created_at"], "updated_at": b["updated_at"]}


def book_in(body: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return rename(body, BOOK_IN)


def _ratio(width: Any, height: Any) -> str | None:
    if not isinstance(width, int) or not isinstance(height, int) or not width or not height:
        return None
    d = gcd(width, height)
    return f"{width // d}:{height // d}"


def version(v: dict[str, Any], field: str, ctx: Context, owner: str | None = None) -> dict[str, Any]:
    """A native version in the seed's shape (CharacterVersion, CoverVersion, PageVersion); `owner`:
    what the seed's reference names where it is not the item (a cover version's book)."""
    image = ctx.absolute(v.get("image_url"))
    statuses = PAGE_STATUS if field == "page" else GENERATION_STATUS
    snapshot = v.get("prompt_snapshot")
    return {"id": v["id"], field: owner or v["content_id"], "version_number": v["version_number"],
            "status": statuses.get(v["status"], str(v["status"]).upper()), "generated_image": image,
            "image": image, "thumbnail": ctx.absolute(v.get("thumbnail_url")), "full_spread_image": None,
            "prompt_snapshot": snapshot if snapshot is not None else v.get("prompt"), "prompt": v.get("prompt"),
            "title_text": v.get("title_text"), "subtitle_text": v.get("subtitle_text"),
            "author_name": v.get("author_name"), "title_position": None,
            "aspect_ratio": _ratio(v.get("width"), v.get("height")), "seed": None,
            "generation_job_id": v["job_id"], "generation_cost_usd": None, "ledger_entry": None,
            "error_message": v.get("error"), "generation_time_ms": None, "nano_request_id": "",
            "is_selected": v.get("is_selected"), "progress": v.get("progress"),
            # Set on a deleted version kept because a paid print used it (readable by its id only).
            "deleted_at": v.get("deleted_at"), "created_at": v["created_at"], "updated_at": v["created_at"]}


def _current(data: dict[str, Any]) -> dict[str, Any] | None:
    current = data.get("selected_version") or data.get("latest_version")
    return current if isinstance(current, dict) else None


def item(data: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """A native character or page in the seed's shape, with the seed's `book` reference."""
    current = _current(data)
    common = {"id": data["id"], "book": data["book_id"],
              "current_version": (data.get("selected_version") or {}).get("id"),
              "total_generation_attempts": data.get("version_count", 0),
              "created_at": data["created_at"], "updated_at": data["updated_at"]}
    if data.get("content_type") == "CHARACTER":
        return {**common, "name": data.get("name"), "description": data.get("description"),
                "traits": data.get("traits"), "reference_photo": ctx.absolute(data.get("reference_photo_url")),
                # A second version is the first regeneration: the free retry is used.
                "free_retry_used": data.get("version_count", 0) > 1}
    # A page: S0's own fields, and its current picture's (the frontend reads a page as a version).
    shown = version(current, "page", ctx) if current else {}
    return {**{k: v for k, v in shown.items() if k not in ("id", "page", "created_at", "updated_at")},
            **common, "page_number": data.get("number"), "text_content": data.get("text"),
            "scene_description": data.get("illustration_prompt")}


def order(o: dict[str, Any]) -> dict[str, Any]:
    return {"id": o["id"], "order_id": o["id"], "order_number": o["order_number"], "status": o["status"],
            "tier_name": next((i["sku"] for i in o.get("items", []) if i.get("book_id")), None),
            "delivery_address_id": (o.get("shipping_address") or {}).get("id"),
            "delivery_cost": o.get("shipping_cost"), "total_amount": o["total_amount"], "currency": o["currency"],
            "items": [{"book_id": i.get("book_id"), "quantity": i["quantity"], "unit_price": i["unit_price"],
                       "sku": i["sku"]} for i in o.get("items", [])],
            "created_at": o.get("created_at")}


# -- customers ----------------------------------------------------------------------------------

async def register(ctx: Context) -> Reply:
    body = ctx.body_dict()
    data = await ctx.call("POST", f"{V1}/auth/register", json={
        **{k: body.get(k) for k in ("email", "password", "first_name", "last_name", "phone", "username")},
        "password_confirm": body.get("password")})
    logged_in = "access" in data  # the platform logs in at once only where it does not require a verified email
    if logged_in:
        start_session(ctx, data)
    return Reply({"loggedIn": logged_in, "user": user(data["user"]),
                  "message": "Registered." if logged_in else "Registered. Confirm your email address to log in."},
                 status=201)


async def login(ctx: Context) -> Reply:
    body = ctx.body_dict()
    data = await ctx.call("POST", f"{V1}/auth/login", json={
        "email": body.get("email") or body.get("username"), "password": body.get("password")})
    start_session(ctx, data)
    return Reply({"loggedIn": True, "user": user(data["user"])})


async def logout(ctx: Context) -> Reply:
    if "authorization" in ctx.native_headers or "authorization" in ctx.headers:
        refresh = ctx.cookie(REFRESH)
        response = await ctx.native("POST", f"{V1}/auth/logout", json={"refresh": refresh} if refresh else {})
        if not response.ok and response.status != 401:
            raise response.error()
    end_session(ctx)
    return Reply({"loggedIn": False})


async def status(ctx: Context) -> Reply:
    if "authorization" not in ctx.native_headers and "authorization" not in ctx.headers:
        return Reply({"loggedIn": False})
    response = await ctx.native("GET", f"{V1}/users/me")
    if not response.ok:
        return Reply({"loggedIn": False})
    return Reply({"loggedIn": True, "user": user(response.json())})


async def edit(ctx: Context) -> Reply:
    """The profile, and the password and the address through their native flows. Both need the
    current password beside them (`current_password`): the platform's rule, so that a borrowed
    session cannot take the account. The new address holds once its mailed link is opened."""
    body = ctx.body_dict()
    me = await ctx.call("GET", f"{V1}/users/me")
    new_email = body["email"] if body.get("email") not in (None, "", me["email"]) else None
    password = body.get("password") or None
    current = body.get("current_password") or body.get("old_password")
    if (new_email or password) and not current:
        raise CompatError(400, "VALIDATION_ERROR", "Changing the password or the email needs the current password.",
                          {"fields": {"current_password": ["Required to change the password or the email."]}})
    if new_email:  # before the password: it is checked against the current one
        await ctx.call("POST", f"{V1}/auth/email-change", json={"current_password": current, "new_email": new_email})
    if password:
        tokens = await ctx.call("POST", f"{V1}/auth/change-password", json={
            "current_password": current, "new_password": password, "new_password_confirm": password})
        start_session(ctx, tokens)  # every other session ended natively; this one goes on, its pair renewed
    fields = {k: body[k] for k in ("username", "first_name", "last_name", "phone") if k in body}
    data = await ctx.call("PATCH", f"{V1}/users/me", json=fields) if fields else await ctx.call(
        "GET", f"{V1}/users/me")
    return Reply({**user(data), "pending_email": new_email})


ADDRESS_IN = {"address_line1": "address_line_1", "address_line2": "address_line_2", "is_default": "is_primary"}


def _address(a: dict[str, Any]) -> dict[str, Any]:
    """A native address with S0's names beside the native ones."""
    full = a.get("full_name") or " ".join(p for p in (a.get("first_name"), a.get("last_name")) if p)
    return {**a, "full_name": full, "address_line1": a.get("address_line_1"),
            "address_line2": a.get("address_line_2") or "", "is_default": a.get("is_primary")}


async def address(ctx: Context) -> Reply:
    if ctx.method == "GET":
        return Reply([_address(a) for a in (await ctx.call("GET", f"{V1}/addresses", query=LIMIT))["results"]])
    body = rename(ctx.body_dict(), ADDRESS_IN)
    if ctx.method == "POST":
        # S0's addresses have no country: the profile's market (option `default_country`).
        body.setdefault("country", ctx.options.get("default_country", "GE"))
        return Reply(_address(await ctx.call("POST", f"{V1}/addresses", json=body)), status=201)
    address_id = body.pop("id", None)
    if not address_id:
        raise CompatError(400, "VALIDATION_ERROR", "The address to change is named by `id`.",
                          {"fields": {"id": ["This field is required."]}})
    return Reply(_address(await ctx.call("PUT", f"{V1}/addresses/{_body_id(address_id, 'id')}", json=body)))


# -- books and their items ----------------------------------------------------------------------

async def _book_ids(ctx: Context) -> list[str]:
    wanted = ctx.query_dict().get("book")
    books = (await ctx.call("GET", f"{V1}/books", query=LIMIT))["results"]
    return [b["id"] for b in books if wanted is None or same_id(wanted, b["id"])]


def _body_id(value: Any, field: str) -> str:
    """An id named in the body, as the UUID it must be (it goes into a native path): else a 400
    naming the seed's field."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return str(uuid.UUID(value))
    raise CompatError(400, "VALIDATION_ERROR", f"`{field}` is not a valid id.",
                      {"fields": {field: ["Must be a valid UUID."]}})


def _items_path(kind: str, book_id: str) -> str:
    return f"{V1}/books/{book_id}/{kind}"


async def _items(ctx: Context, kind: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for book_id in await _book_ids(ctx):
        out.extend((await ctx.call("GET", _items_path(kind, book_id), query=LIMIT))["results"])
    return out


async def _find_item(ctx: Context, kind: str, item_id: str) -> dict[str, Any]:
    for found in await _items(ctx, kind):
        if same_id(found["id"], item_id):
            return found
    raise CompatError(404, "NOT_FOUND", "Not found.")


Upload = tuple[str, str, bytes]  # file name, content type, bytes


def _form(ctx: Context) -> tuple[dict[str, Any], dict[str, Upload]]:
    """The request's fields and files: a multipart form (S0 posts a character's `reference_photo`
    as one), or the JSON body."""
    content_type = ctx.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        return ctx.body_dict(), {}
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + ctx.body)
    if not message.is_multipart():
        raise CompatError(400, "VALIDATION_ERROR", "The multipart body could not be read.")
    fields: dict[str, Any] = {}
    files: dict[str, Upload] = {}
    for part in message.iter_parts():
        assert isinstance(part, Message)
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = (filename, part.get_content_type(), data)
        else:
            fields[name] = data.decode(part.get_content_charset() or "utf-8", "replace")
    return fields, files


def _multipart(name: str, upload: Upload) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    filename, content_type, data = upload
    safe = filename.replace('"', "").replace("\r", "").replace("\n", "")
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{safe}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


async def _upload_reference(ctx: Context, path: str, upload: Upload) -> dict[str, Any]:
    content, content_type = _multipart("image", upload)
    response = await ctx.native("PUT", f"{path}/reference-photo", content=content, content_type=content_type)
    if not response.ok:
        failure = response.error()
        if failure.status == 400:  # the seed names the field that was wrong
            failure.details = {**failure.details, "fields": {"reference_photo": [failure.message]}}
        raise failure
    data: dict[str, Any] = response.json()
    return data


def items(kind: str, parent: str) -> dict[str, Any]:
    """The flat `/characters/` or `/pages/` routes over the native `/books/{id}/<kind>` ones."""
    renames = PAGE_IN if kind == "pages" else {}

    async def list_(ctx: Context) -> Reply:
        return Reply([item(x, ctx) for x in await _items(ctx, kind)])

    async def create(ctx: Context) -> Reply:
        body, files = _form(ctx)
        book_id = body.pop(parent, None) or body.pop("book_id", None)
        if not book_id:
            raise CompatError(400, "VALIDATION_ERROR", "The book is required.",
                              {"fields": {parent: ["This field is required."]}})
        book_id = _body_id(book_id, parent)
        photo = files.get("reference_photo")
        created = await ctx.call("POST", _items_path(kind, book_id), json=rename(body, renames))
        if photo is None:
            return Reply(item(created, ctx), status=201)
        path = f"{_items_path(kind, created['book_id'])}/{created['id']}"
        try:
            created = await _upload_reference(ctx, path, photo)
        except CompatError:
            await ctx.native("DELETE", path)  # S0 makes the character and its photo together, or neither
            raise
        return Reply(item(created, ctx), status=201)

    async def one(ctx: Context) -> Reply:
        found = await _find_item(ctx, kind, ctx.params["id"])
        path = f"{_items_path(kind, found['book_id'])}/{found['id']}"
        if ctx.method == "GET":
            return Reply(item(found, ctx))
        if ctx.method == "DELETE":
            await ctx.call("DELETE", path)
            return Reply(status=204)
        body, files = _form(ctx)
        body = {k: v for k, v in body.items() if k not in (parent, "book_id", "id", "reference_photo")}
        changed = await ctx.call(ctx.method, path, json=rename(body, renames))
        if (photo := files.get("reference_photo")) is not None:
            changed = await _upload_reference(ctx, path, photo)
        return Reply(item(changed, ctx))

    return {"list": list_, "create": create, "one": one}


async def _contents(ctx: Context, kind: str) -> list[tuple[str, str]]:
    """(native versions path, content id) of every character, cover or page the caller may see."""
    wanted = ctx.query_dict().get({"characters": "character", "pages": "page", "cover": "book"}[kind])
    out: list[tuple[str, str]] = []
    if kind == "cover":
        for book_id in await _book_ids(ctx):
            if wanted is None or same_id(wanted, book_id):
                out.append((f"{V1}/books/{book_id}/cover/versions", book_id))
        return out
    for found in await _items(ctx, kind):
        if wanted is None or same_id(wanted, found["id"]):
            out.append((f"{_items_path(kind, found['book_id'])}/{found['id']}/versions", found["id"]))
    return out


def _version_in(body: dict[str, Any]) -> dict[str, Any]:
    """What a new version is asked with: the lettering and the snapshot are kept as given; a text
    snapshot (S0's prompt) is also the picture's instruction unless `prompt` says otherwise."""
    snapshot = body.get("prompt_snapshot")
    instruction = body.get("prompt") or (snapshot if isinstance(snapshot, str) else None)
    return {**{k: body[k] for k in ("title_text", "subtitle_text", "author_name", "prompt_snapshot") if k in body},
            **({"prompt": instruction} if instruction else {})}


def versions(kind: str, field: str) -> dict[str, Any]:
    """The flat `/character-versions/`, `/cover-versions/`, `/page-versions/` routes."""

    async def list_(ctx: Context) -> Reply:
        out: list[dict[str, Any]] = []
        for path, owner in await _contents(ctx, kind):
            response = await ctx.native("GET", path, query=LIMIT)
            if response.ok:
                out.extend(version(v, field, ctx, owner) for v in response.json()["results"])
            elif response.status != 404:  # a book without a cover yet has no cover versions
                raise response.error()
        return Reply(out)

    async def create(ctx: Context) -> Reply:
        body = ctx.body_dict()
        content_id = body.get(field) or body.get("content_id")
        if not content_id:
            raise CompatError(400, "VALIDATION_ERROR", f"The {field} is required.",
                              {"fields": {field: ["This field is required."]}})
        content_id = _body_id(content_id, field)
        if kind == "cover":
            book_id = (await ctx.call("GET", f"{V1}/books/{content_id}"))["id"]
            path, owner = f"{V1}/books/{book_id}/cover/versions", book_id
        else:
            found = await _find_item(ctx, kind, content_id)
            path, owner = f"{_items_path(kind, found['book_id'])}/{found['id']}/versions", found["id"]
        made = await ctx.call("POST", path, json=_version_in(body))
        return Reply(version(made, field, ctx, owner), status=201)

    async def one(ctx: Context) -> Reply:
        for path, owner in await _contents(ctx, kind):
            response = await ctx.native("GET", f"{path}/{ctx.params['id']}")
            if response.status == 404:
                continue
            if not response.ok:
                raise response.error()
            if ctx.method == "GET":
                return Reply(version(response.json(), field, ctx, owner))
            if ctx.method == "DELETE":
                await ctx.call("DELETE", f"{path}/{ctx.params['id']}")
                return Reply(status=204)
            body = {"is_selected": ctx.body_dict().get("is_selected", True)}
            changed = await ctx.call("PATCH", f"{path}/{ctx.params['id']}", json=body)
            return Reply(version(changed, field, ctx, owner))
        raise CompatError(404, "NOT_FOUND", "Not found.")

    return {"list": list_, "create": create, "one": one}


# -- orders, webhook, retry packs, billing ------------------------------------------------------

async def create_order(ctx: Context) -> Reply:
    """Client prices (`unit_price`, `total_amount`, `delivery_cost`) are ignored: the catalog prices."""
    body = ctx.body_dict()
    raw = body.get("items")
    lines: list[Any] = raw if isinstance(raw, list) else []
    data = await ctx.call("POST", f"{V1}/orders", headers=_idempotency(ctx), json={
        "tier": body.get("tier_name"), "shipping_address_id": body.get("delivery_address_id"),
        "items": [{"book_id": i.get("book_id"), "quantity": i.get("quantity", 1)}
                  for i in lines if isinstance(i, dict)] or None})
    return Reply(order(data), status=201)


def _idempotency(ctx: Context) -> dict[str, str]:
    key = ctx.headers.get("idempotency-key")
    return {"Idempotency-Key": key} if key else {}


async def payment_webhook(ctx: Context) -> Reply:
    """The provider's body and secret, unchanged, to payments' simple-provider webhook."""
    provider = ctx.options.get("webhook_provider", "local")
    ack = await ctx.forward_raw(f"{V1}/payments/webhooks/{provider}", ("X-Webhook-Secret", "X-Signature"))
    return Reply({"status": "ok", "result": ack.get("status")})


async def create_retry_pack(ctx: Context) -> Reply:
    body = ctx.body_dict()
    sku = ctx.options.get("retry_pack_sku", "RETRY_PACK_3")
    data = await ctx.call("POST", f"{V1}/orders", headers=_idempotency(ctx), json={"items": [{
        "sku": sku, "quantity": 1,
        "target": {"content_type": body.get("content_type"), "content_id": body.get("content_id")}}]})
    return Reply({"order_id": data["id"], "retry_pack_order_id": data["id"], "status": data["status"],
                  "total_amount": data["total_amount"], "currency": data["currency"]}, status=201)


async def add_retries(ctx: Context) -> Reply:
    """S0 applies a paid pack by hand; natively a pack bought for an item applies itself when paid, so
    applying it again to that same item answers the item's allowance instead of an error."""
    body = ctx.body_dict()
    response = await ctx.native("POST", f"{V1}/retries/apply", json=body)
    if response.ok:
        return Reply(response.json())
    failure = response.error()
    order_id = body.get("retry_pack_order_id") or body.get("order_id")
    content_id, content_type = str(body.get("content_id")), str(body.get("content_type", "")).upper()
    if failure.code == "INVALID_STATE" and order_id:
        placed = await ctx.native("GET", f"{V1}/orders/{order_id}")
        if placed.ok and placed.json()["status"] in ("paid", "processing", "completed") and any(
                line.get("content_id") == content_id and str(line.get("content_type") or "").upper() == content_type
                for line in placed.json()["items"]):
            for book_id in await _book_ids(ctx):
                retries = await ctx.native("GET", f"{V1}/books/{book_id}/retries")
                for allowance in retries.json()["results"] if retries.ok else []:
                    if allowance["content_id"] == content_id:
                        return Reply(allowance)
    raise failure


def tiers(data: Json, ctx: Context) -> Json:
    return [{"id": t["id"], "name": t["sku"], "title": t["name"], "price": t["price"], "currency": t["currency"],
             "max_retries_per_unit": (t.get("attributes") or {}).get("max_retries_per_unit")}
            for t in data["print_tiers"]]


# -- errors -------------------------------------------------------------------------------------

def envelope(route: Route, reply: Reply) -> Json:
    return reply.data


# A native field named in an error, by the seed's name (each native name here is S0's one field).
FIELD_OUT = {"style": "art_style", "number": "page_number", "text": "text_content",
             "illustration_prompt": "scene_description", "address_line_1": "address_line1",
             "address_line_2": "address_line2", "is_primary": "is_default", "image": "reference_photo"}


def error(exc: CompatError) -> Json:
    body: dict[str, Any] = {"detail": exc.message, "code": exc.code.lower()}
    fields = exc.details.get("fields") if isinstance(exc.details.get("fields"), dict) else None
    if fields:
        for key, messages in fields.items():
            name = key.removeprefix("body.")
            body[FIELD_OUT.get(name, name)] = messages
    elif exc.details:
        body["details"] = exc.details
    return body


P = "/api/product"
_CHAR, _PAGE = items("characters", "book"), items("pages", "book")
_CV, _COV, _PV = versions("characters", "character"), versions("cover", "book"), versions("pages", "page")


def _crud(base: str, name: str, handlers: dict[str, Any], auth: str) -> tuple[Route, ...]:
    return (Route("GET", f"{base}/", f"List {name}", handler=handlers["list"], auth=auth),
            Route("POST", f"{base}/", f"Create {name}", handler=handlers["create"], auth=auth),
            *(Route(m, f"{base}/{{id}}/", f"{m} one of {name}", handler=handlers["one"], auth=auth)
              for m in ("GET", "PUT", "PATCH", "DELETE")))


def _versions(base: str, name: str, handlers: dict[str, Any], auth: str) -> tuple[Route, ...]:
    return (Route("GET", f"{base}/", f"List {name}", handler=handlers["list"], auth=auth),
            Route("POST", f"{base}/", f"Regenerate: a new {name} (consumes a retry)", handler=handlers["create"],
                  auth=auth),
            *(Route(m, f"{base}/{{id}}/", f"{m} one of {name}", handler=handlers["one"], auth=auth)
              for m in ("GET", "PUT", "PATCH")),
            Route("DELETE", f"{base}/{{id}}/", f"Delete one of {name} (the previous one becomes current)",
                  handler=handlers["one"], auth=auth))


ROUTES = (
    Route("POST", "/api/customer/register/", "Register (and log in where no verification is required)",
          handler=register, auth="anon"),
    Route("POST", "/api/customer/login/", "Log in: sets the session cookie", handler=login, auth="anon"),
    Route("POST", "/api/customer/logout/", "Log out", handler=logout, auth="anon"),
    Route("GET", "/api/customer/status/", "loggedIn flag", handler=status, auth="anon"),
    Route("GET", "/api/customer/user/", "Current user", native=f"GET {V1}/users/me",
          out=lambda d, c: user(d), auth="user"),
    Route("PUT", "/api/customer/edit/", "Edit the profile", handler=edit, auth="user"),
    *(Route(m, "/api/customer/address/", f"Addresses ({m})", handler=address, auth="anon")
      for m in ("GET", "POST", "PUT")),
    Route("GET", f"{P}/books/", "List books", native=f"GET {V1}/books", query={},
          out=lambda d, c: [book(b, c) for b in d["results"]], auth="anon"),
    Route("POST", f"{P}/books/", "Create a book (anonymous: one)", native=f"POST {V1}/books", body=book_in,
          out=book, auth="anon"),
    Route("GET", f"{P}/books/{{id}}/", "A book", native=f"GET {V1}/books/{{id}}", out=book, auth="anon"),
    Route("PUT", f"{P}/books/{{id}}/", "Replace a book", native=f"PUT {V1}/books/{{id}}", body=book_in, out=book,
          auth="anon"),
    Route("PATCH", f"{P}/books/{{id}}/", "Update a book", native=f"PATCH {V1}/books/{{id}}", body=book_in,
          out=book, auth="anon"),
    Route("DELETE", f"{P}/books/{{id}}/", "Delete a book", native=f"DELETE {V1}/books/{{id}}", auth="anon"),
    *_crud(f"{P}/characters", "characters", _CHAR, "anon"),
    *_versions(f"{P}/character-versions", "character versions", _CV, "anon"),
    *_versions(f"{P}/cover-versions", "cover versions", _COV, "anon"),
    *_crud(f"{P}/pages", "pages", _PAGE, "user"),
    *_versions(f"{P}/page-versions", "page versions", _PV, "user"),
    Route("POST", f"{P}/retries/add/", "Apply a paid retry pack to an item", handler=add_retries, auth="user"),
    Route("POST", "/api/orders/create/", "Print order (client prices ignored)", handler=create_order, auth="anon"),
    Route("POST", "/api/orders/payment/webhook/", "Payment provider webhook (X-Webhook-Secret)",
          handler=payment_webhook, auth="signed"),
    Route("POST", "/api/orders/retry-pack/create/", "Retry pack order for an item", handler=create_retry_pack,
          auth="user"),
    Route("GET", "/api/billing/tiers/", "Active pricing tiers", native=f"GET {V1}/pricing", out=tiers),
    Route("GET", "/api/billing/ledger/", "The user's ledger", native=f"GET {V1}/billing/ledger", auth="user",
          out=lambda d, c: d["results"]),
)

PROFILE = Profile(name="storybook", title="Storybook backend API (compatibility profile)",
                  seed="S0 storybook (the product's original API)", routes=ROUTES, envelope=envelope, error=error, prepare=prepare)
