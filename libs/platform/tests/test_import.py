"""`atelier import marbelle`: a dumpdata fixture built from marbelle's models (users/models.py,
products/models.py) moves into the embedded platform, and into each service's database named by its
settings as in the distributed mode (SQLite, and PostgreSQL when ATELIER_TEST_POSTGRES_URL is set); the old password signs in natively and
through the marbelle profile, a second run changes nothing, --dry-run writes nothing, and bad rows
are reported one by one."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner, Result

import atelier_catalog
import atelier_identity
from atelier_gateway.settings import GatewaySettings
from atelier_identity.app import create_app
from atelier_identity.settings import IdentitySettings
from atelier_platform import embedded
from atelier_platform.cli import app
from atelier_testing import RecordingBus, ServiceHarness, poll_until

OLD_PASSWORD = "Marbelle-old-pass-1"
MARBELLE_ORIGIN = "http://localhost:3102"  # the demo marbelle storefront's (docs/storefronts.md)


def django_pbkdf2_sha256(password: str, salt: str, iterations: int = 100_000) -> str:
    """Django's PBKDF2PasswordHasher.encode (hashers.py), with fewer rounds than its 870,000."""
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(digest).decode()}"


def user(pk: int, email: str, password: str, *, active: bool = True) -> dict[str, Any]:
    return {"model": "users.user", "pk": pk, "fields": {
        "password": password, "last_login": None, "is_superuser": False, "username": email.split("@")[0],
        "first_name": "Kiro", "last_name": "Vasilovski", "email": email, "is_staff": False, "is_active": active,
        "date_joined": "2025-03-04T10:20:30.123Z", "company_name": "Stone Ltd", "phone": "+359888123456",
        "groups": [], "user_permissions": []}}


def marbelle_dump() -> list[dict[str, Any]]:
    return [
        user(7, "kiro@example.com", django_pbkdf2_sha256(OLD_PASSWORD, "s4ltS4ltS4lt")),
        user(8, "unusable@example.com", "!Vx3kQ0aZrT9mW2bLc8dNf4gHj6kPq1sRt5uYw7z", active=False),
        {"model": "users.address", "pk": 3, "fields": {
            "user": 7, "label": "Office", "first_name": "Kiro", "last_name": "Vasilovski", "company": "Stone Ltd",
            "address_line_1": "1 Vitosha Blvd", "address_line_2": "", "city": "Sofia", "state": "Sofia City",
            "postal_code": "1000", "country": "Bulgaria", "phone": "+359888123456", "is_primary": True,
            "created_at": "2025-03-04T10:20:30Z", "updated_at": "2025-03-04T10:20:30Z"}},
        {"model": "products.category", "pk": 2, "fields": {
            "name": "Imported Slabs", "description": "Natural stone slabs", "is_active": True,
            "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z"}},
        {"model": "products.product", "pk": 901, "fields": {
            "name": "Carrara Slab 2cm", "description": "White marble", "price": "185.50", "unit_of_measure": "sqm",
            "category": 2, "stock_quantity": 12, "is_active": True, "sku": "MB-CARRARA-2",
            "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z"}},
        {"model": "products.product", "pk": 902, "fields": {
            "name": "Travertine Tile", "description": "Classic", "price": "42.00", "unit_of_measure": "piece",
            "category": 2, "stock_quantity": 0, "is_active": True, "sku": "MB-TRAV-1",
            "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z"}},
        {"model": "products.productimage", "pk": 1, "fields": {
            "product": 901, "image": "products/MB-CARRARA-2/front.jpg", "alt_text": "Carrara", "is_primary": True,
            "display_order": 0, "created_at": "2025-01-01T00:00:00Z"}},
        {"model": "contenttypes.contenttype", "pk": 1, "fields": {"app_label": "users", "model": "user"}},
    ]


@pytest.fixture
async def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    """The embedded platform on `tmp_path` (its start migrates), and the CLI pointed at the same files."""
    monkeypatch.setenv("ATELIER_DATA_DIR", str(tmp_path))
    gateway, _ = embedded.build(tmp_path, gateway_settings=GatewaySettings(environment="dev", data_dir=tmp_path))
    async with gateway.router.lifespan_context(gateway), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=gateway), base_url="http://localhost") as client:
        yield client


async def atelier(*args: str) -> Result:
    # The command runs its own event loop: off this one.
    return await asyncio.to_thread(CliRunner().invoke, app, list(args))


def dump_file(tmp_path: Path, rows: Any, name: str = "dump.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(rows) if not isinstance(rows, str) else rows)
    return path


async def rows(tmp_path: Path, service: str, sql: str) -> list[Any]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / (service + '.db')}")
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(text(sql))).all())
    finally:
        await engine.dispose()


async def test_customers_and_catalog_move_in_and_old_passwords_sign_in(platform: httpx.AsyncClient,
                                                                        tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = await atelier("import", "marbelle", str(dump_file(tmp_path, marbelle_dump())),
                           "--storefront", "marbelle", "--report", str(report))
    assert result.exit_code == 0, result.output
    counts = json.loads(report.read_text())["counts"]
    assert counts["user"] == {"imported": 2, "skipped": 0, "refused": 0}
    assert counts["address"] == counts["category"] == {"imported": 1, "skipped": 0, "refused": 0}
    assert counts["product"] == {"imported": 2, "skipped": 0, "refused": 0}
    assert counts["contenttypes.contenttype"]["refused"] == 1  # reported, not imported

    [(stored,)] = await rows(tmp_path, "identity", "SELECT password_hash FROM user WHERE email='kiro@example.com'")
    assert stored.startswith("pbkdf2_sha256$")
    native = await platform.post("/api/v1/auth/login", json={"email": "kiro@example.com", "password": OLD_PASSWORD})
    assert native.status_code == 200, native.text
    [(stored,)] = await rows(tmp_path, "identity", "SELECT password_hash FROM user WHERE email='kiro@example.com'")
    assert stored.startswith("$argon2id$")  # re-hashed in the sign-in's transaction
    compat = await platform.post("/compat/marbelle/api/v1/auth/login/",
                                 json={"email": "kiro@example.com", "password": OLD_PASSWORD})
    assert compat.status_code == 200, compat.text

    access = native.json()["access"]
    addresses = await platform.get("/api/v1/addresses", headers={"Authorization": f"Bearer {access}"})
    assert [a["city"] for a in addresses.json()["results"]] == ["Sofia"], addresses.text
    me = native.json()["user"]
    assert (me["phone"], me["company_name"]) == ("+359888123456", "Stone Ltd")

    # The unusable password never signs in; the account is there (magic link or reset).
    refused = await platform.post("/api/v1/auth/login", json={"email": "unusable@example.com",
                                                              "password": "!Vx3kQ0aZrT9mW2bLc8dNf4gHj6kPq1sRt5uYw7z"})
    assert refused.status_code == 401
    [(hashed, verified)] = await rows(tmp_path, "identity",
                                      "SELECT password_hash, email_verified_at FROM user WHERE email='unusable@example.com'")
    assert hashed is None and verified is None  # marbelle's inactive = not yet verified

    # The old integer id resolves to the imported product (its `number` alias), stock and image kept.
    # The rows belong to the marbelle storefront (--storefront): its origin, and its profile, see them.
    product = await platform.get("/api/v1/products/901", headers={"Origin": MARBELLE_ORIGIN})
    assert product.status_code == 200, product.text
    body = product.json()
    assert (body["sku"], body["stock_quantity"], body["price"]) == ("MB-CARRARA-2", 12, "185.50")
    assert [i["url"] for i in body["images"]] == ["/media/products/MB-CARRARA-2/front.jpg"]
    assert (await platform.get("/api/v1/products/901")).status_code == 404  # not the default storefront's
    old_link = await platform.get("/compat/marbelle/api/v1/products/901/")
    assert old_link.status_code == 200, old_link.text


async def test_a_second_run_changes_nothing_and_says_so(platform: httpx.AsyncClient, tmp_path: Path) -> None:
    dump = str(dump_file(tmp_path, marbelle_dump()))
    assert (await atelier("import", "marbelle", dump)).exit_code == 0
    before = await rows(tmp_path, "catalog", "SELECT id, number, stock_quantity FROM product ORDER BY id")
    again = await atelier("import", "marbelle", dump, "--report", str(tmp_path / "again.json"))
    assert again.exit_code == 0, again.output
    assert "nothing changed" in again.output
    counts = json.loads((tmp_path / "again.json").read_text())["counts"]
    assert counts["user"] == {"imported": 0, "skipped": 2, "refused": 0}
    assert counts["product"] == {"imported": 0, "skipped": 2, "refused": 0}
    assert await rows(tmp_path, "catalog", "SELECT id, number, stock_quantity FROM product ORDER BY id") == before
    assert len(await rows(tmp_path, "identity", "SELECT id FROM address")) == 1


async def test_dry_run_validates_and_writes_nothing(platform: httpx.AsyncClient, tmp_path: Path) -> None:
    users_before = await rows(tmp_path, "identity", "SELECT count(*) FROM user")
    products_before = await rows(tmp_path, "catalog", "SELECT count(*) FROM product")
    result = await atelier("import", "marbelle", str(dump_file(tmp_path, marbelle_dump())), "--dry-run",
                           "--report", str(tmp_path / "dry.json"))
    assert result.exit_code == 0, result.output
    assert "nothing was written" in result.output
    counts = json.loads((tmp_path / "dry.json").read_text())["counts"]
    assert counts["user"]["imported"] == 2 and counts["product"]["imported"] == 2  # would be
    assert await rows(tmp_path, "identity", "SELECT count(*) FROM user") == users_before
    assert await rows(tmp_path, "catalog", "SELECT count(*) FROM product") == products_before
    assert await rows(tmp_path, "identity", "SELECT count(*) FROM identity_import_ref") == [(0,)]


async def test_bad_rows_are_reported_one_by_one_and_the_rest_imported(platform: httpx.AsyncClient,
                                                                        tmp_path: Path) -> None:
    good = marbelle_dump()
    missing = user(20, "missing@example.com", "!x")
    del missing["fields"]["email"]
    bad = [
        user(21, "KIRO@example.com", django_pbkdf2_sha256("another", "salt2")),  # the same email as pk 7
        missing,
        user(22, "md5@example.com", "md5$salt$0123456789abcdef0123456789abcdef"),
        {"model": "orders.whatever", "pk": 1, "fields": {}},
        {"model": "products.product", "pk": 903, "fields": {"name": "No category", "description": "",
                                                             "price": "1.00", "unit_of_measure": "piece",
                                                             "category": 99, "stock_quantity": 1,
                                                             "is_active": True, "sku": "MB-NOCAT"}},
    ]
    result = await atelier("import", "marbelle", str(dump_file(tmp_path, good + bad)),
                           "--report", str(tmp_path / "report.json"))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    refused = {(r["model"], r["pk"]): r["reason"] for r in json.loads((tmp_path / "report.json").read_text())["refused"]}
    assert "already used by another account" in refused[("user", "21")]
    assert refused[("users.user", "20")] == "missing field 'email'"
    assert "'md5' cannot be verified" in refused[("user", "22")]
    assert "does not know" in refused[("orders.whatever", "1")]
    assert "category 99 was not imported" in refused[("product", "903")]
    assert len(await rows(tmp_path, "identity", "SELECT id FROM user WHERE email LIKE '%@example.com'")) >= 2
    assert await rows(tmp_path, "identity", "SELECT count(*) FROM user WHERE email='md5@example.com'") == [(0,)]


async def test_malformed_json_is_one_line_not_a_traceback(platform: httpx.AsyncClient, tmp_path: Path) -> None:
    result = await atelier("import", "marbelle", str(dump_file(tmp_path, '[{"model": "users.user", ')))
    assert result.exit_code == 2
    assert "malformed JSON at line 1" in result.output and "Traceback" not in result.output


async def test_imports_into_each_services_database_and_the_old_password_signs_in(
        service_database: Any, test_settings_overrides: dict[str, Any], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    identity_url = service_database("identity", Path(atelier_identity.__file__).parent / "migrations")
    catalog_url = service_database("catalog", Path(atelier_catalog.__file__).parent / "migrations")
    monkeypatch.setenv("ATELIER_IDENTITY_DATABASE_URL", identity_url)
    monkeypatch.setenv("ATELIER_CATALOG_DATABASE_URL", catalog_url)
    monkeypatch.setenv("ATELIER_DATA_DIR", str(tmp_path / "data"))
    dump = tmp_path / "marbelle.json"
    dump.write_text(json.dumps(marbelle_dump()))
    report = tmp_path / "report.json"

    def run(*args: str) -> Any:
        return asyncio.to_thread(CliRunner().invoke, app, ["import", "marbelle", str(dump), *args])

    result = await run("--report", str(report))
    assert result.exit_code == 0, result.output
    counts = json.loads(report.read_text())["counts"]
    assert (counts["user"]["imported"], counts["product"]["imported"]) == (2, 2)
    again = await run()
    assert "nothing changed" in again.output, again.output

    settings = IdentitySettings(database_url=identity_url, **test_settings_overrides)
    bus = RecordingBus()
    async with ServiceHarness(create_app(settings, bus=bus), bus) as identity:
        response = await identity.client.post("/api/v1/auth/login",
                                              json={"email": "kiro@example.com", "password": OLD_PASSWORD})
        assert response.status_code == 200, response.text
        wrong = await identity.client.post("/api/v1/auth/login",
                                           json={"email": "kiro@example.com", "password": "not it"})
        assert wrong.status_code == 401


def shop_dump() -> list[dict[str, Any]]:
    """Andrewkwame1/ecommerce-backend's users app (e-commerce/apps/users/models.py): UUID keys."""
    owner = "5f0c6a56-0c1e-4f7e-9a53-7f1f4c1b2a10"
    return [
        {"model": "users.user", "pk": owner, "fields": {
            "password": django_pbkdf2_sha256(OLD_PASSWORD, "sh0pSalt"), "last_login": None, "is_superuser": False,
            "first_name": "Ama", "last_name": "Mensah", "is_staff": False, "is_active": True,
            "date_joined": "2025-02-01T08:00:00Z", "email": "ama@example.com", "phone_number": "+233201234567",
            "is_verified": True, "created_at": "2025-02-01T08:00:00Z", "updated_at": "2025-02-01T08:00:00Z",
            "groups": [], "user_permissions": []}},
        {"model": "users.address", "pk": "0b8f9f7e-3a4b-4d0e-8f1a-2c3d4e5f6a7b", "fields": {
            "user": owner, "address_type": "shipping", "full_name": "Ama Mensah", "phone_number": "+233201234567",
            "street_address": "12 Oxford St", "apartment": "Flat 3", "city": "Accra", "state": "Greater Accra",
            "country": "Ghana", "zip_code": "00233", "is_default": True}},
        {"model": "users.userprofile", "pk": 1, "fields": {"user": owner, "bio": ""}},
        {"model": "products.product", "pk": "9d1c", "fields": {"name": "Not yet"}},
    ]


async def test_shop_users_and_addresses_move_in(platform: httpx.AsyncClient, tmp_path: Path) -> None:
    result = await atelier("import", "shop", str(dump_file(tmp_path, shop_dump())), "--storefront", "shop",
                           "--report", str(tmp_path / "shop.json"))
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "shop.json").read_text())
    assert report["counts"]["user"] == report["counts"]["address"] == {"imported": 1, "skipped": 0, "refused": 0}
    assert {(r["model"], r["reason"]) for r in report["refused"]} == {
        ("users.userprofile", "not carried over"), ("products.product", "a model the shop profile does not know")}
    login = await platform.post("/api/v1/auth/login", json={"email": "ama@example.com", "password": OLD_PASSWORD})
    assert login.status_code == 200, login.text
    addresses = await platform.get("/api/v1/addresses",
                                   headers={"Authorization": f"Bearer {login.json()['access']}"})
    [address] = addresses.json()["results"]
    assert (address["first_name"], address["last_name"], address["address_line_2"], address["is_primary"]) == (
        "Ama", "Mensah", "Flat 3", True)
    compat = await platform.post("/compat/shop/api/v1/auth/login/",
                                 json={"email": "ama@example.com", "password": OLD_PASSWORD})
    assert compat.status_code in (200, 201), compat.text


async def test_reviv_passwordless_users_move_in_and_sign_in_by_magic_link(platform: httpx.AsyncClient,
                                                                           tmp_path: Path) -> None:
    def reviv_user(pk: int, email: str, provider: str) -> dict[str, Any]:
        return {"model": "reviv.user", "pk": pk, "fields": {
            "password": "!Vx3kQ0aZrT9mW2bLc8dNf4gHj6kPq1sRt5uYw7z", "last_login": None, "is_superuser": False,
            "username": email, "first_name": "Rev", "last_name": "Iv", "email": email, "is_staff": False,
            "is_active": True, "date_joined": "2025-05-05T05:05:05Z", "oauth_provider": provider,
            "oauth_id": f"{provider}-{pk}" if provider else None, "credit_balance": "12.00",
            "free_preview_used": True, "social_share_unlock_used": False}}

    rows = [reviv_user(1, "google@example.com", "google"), reviv_user(2, "passkey@example.com", ""),
            reviv_user(3, "", ""), {"model": "reviv.restoration", "pk": 1, "fields": {"user": 1}}]
    result = await atelier("import", "reviv", str(dump_file(tmp_path, rows)), "--report", str(tmp_path / "r.json"))
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["counts"]["user"] == {"imported": 2, "skipped": 0, "refused": 1}  # pk 3 has no email
    assert {(r["model"], r["pk"], r["reason"]) for r in report["refused"]} >= {
        ("reviv.restoration", "1", "not carried over")}
    [(hashed, verified)] = await rows_of(tmp_path, "google@example.com")
    assert hashed is None and verified is not None  # OAuth proved the address
    [(hashed, verified)] = await rows_of(tmp_path, "passkey@example.com")
    assert hashed is None and verified is None
    magic = await platform.post("/api/v1/auth/magic-link", json={"email": "google@example.com"})
    assert magic.status_code == 200, magic.text

    async def mailed_code() -> str | None:
        mails = (await platform.get("/api/dev/mailbox", params={"to": "google@example.com"})).json()["results"]
        found = re.search(r"enter this code: (\d{6})", mails[0]["text"]) if mails else None
        return found.group(1) if found else None

    code = await poll_until(mailed_code, timeout=10, message="the magic-link mail")
    signed_in = await platform.post("/api/v1/auth/magic-link/verify", json={"email": "google@example.com",
                                                                            "code": code})
    assert signed_in.status_code == 200, signed_in.text


async def rows_of(tmp_path: Path, email: str) -> list[Any]:
    return await rows(tmp_path, "identity", f"SELECT password_hash, email_verified_at FROM user WHERE email='{email}'")


async def test_a_service_refusing_its_batch_is_reported_per_row_not_a_traceback(
        platform: httpx.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from atelier_catalog import imports as catalog_imports
    from atelier_catalog.errors import SlugExists

    async def refuse(*_: Any, **__: Any) -> Any:
        raise SlugExists()

    monkeypatch.setattr(catalog_imports, "import_catalog", refuse)
    result = await atelier("import", "marbelle", str(dump_file(tmp_path, marbelle_dump())),
                           "--report", str(tmp_path / "r.json"))
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    counts = json.loads((tmp_path / "r.json").read_text())["counts"]
    assert counts["product"] == {"imported": 0, "skipped": 0, "refused": 2}
    assert counts["user"]["imported"] == 2  # identity's batch stands
