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
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner, Result

import atelier_catalog
import atelier_generation
import atelier_identity
import atelier_orders
from atelier_identity.app import create_app
from atelier_identity.settings import IdentitySettings
from atelier_platform.cli import app
from atelier_testing import RecordingBus, ServiceHarness, poll_until

pytestmark = pytest.mark.databases("sqlite", "postgres", why="an import's upserts on each dialect")

OLD_PASSWORD = "Marbelle-old-pass-1"
# A native client names the storefront (the demo marbelle storefront's origin would be served by
# its profile where the profile routes the path: `compat_at_root`, docs/compat.md).
ON_MARBELLE = {"X-Atelier-Storefront": "marbelle"}
SHOP_ORIGIN = "http://localhost:3104"


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
        {"model": "orders.order", "pk": 1042, "fields": {
            "user": 7, "status": "shipped", "total_amount": "413.00", "created_at": "2025-04-01T10:00:00Z",
            "updated_at": "2025-04-03T10:00:00Z"}},
        {"model": "orders.orderitem", "pk": 1, "fields": {
            "order": 1042, "product": 901, "quantity": 2, "unit_price": "185.50",
            "created_at": "2025-04-01T10:00:00Z", "updated_at": "2025-04-01T10:00:00Z"}},
        {"model": "orders.orderitem", "pk": 2, "fields": {
            "order": 1042, "product": 902, "quantity": 1, "unit_price": "42.00",
            "created_at": "2025-04-01T10:00:00Z", "updated_at": "2025-04-01T10:00:00Z"}},
        {"model": "contenttypes.contenttype", "pk": 1, "fields": {"app_label": "users", "model": "user"}},
    ]


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
    # The rows belong to the marbelle storefront (--storefront): it, and its profile, see them.
    product = await platform.get("/api/v1/products/901", headers=ON_MARBELLE)
    assert product.status_code == 200, product.text
    body = product.json()
    assert (body["sku"], body["stock_quantity"], body["price"]) == ("MB-CARRARA-2", 12, "185.50")
    assert [i["url"] for i in body["images"]] == ["/media/products/MB-CARRARA-2/front.jpg"]
    assert (await platform.get("/api/v1/products/901")).status_code == 404  # not the default storefront's
    old_link = await platform.get("/compat/marbelle/api/v1/products/901/")
    assert old_link.status_code == 200, old_link.text

    # The order arrives as history: lines, total and status as they stood, its old id as its number.
    auth = {"Authorization": f"Bearer {access}", **ON_MARBELLE}
    [summary] = (await platform.get("/api/v1/orders", headers=auth)).json()["results"]
    order = (await platform.get(f"/api/v1/orders/{summary['id']}", headers=auth)).json()
    assert (order["order_number"], order["status"], order["total_amount"], order["storefront"]) == (
        "MB-1042", "shipped", "413.00", "marbelle")
    assert [(i["sku"], i["quantity"], i["unit_price"]) for i in order["items"]] == [
        ("MB-CARRARA-2", 2, "185.50"), ("MB-TRAV-1", 1, "42.00")]
    assert [(h["from_status"], h["status"], h["actor"]) for h in order["status_history"]] == [(None, "shipped", "import")]
    # Never charged, never stock moved, never mail: nothing was announced.
    intent = await platform.post("/api/v1/payments/intents", json={"order_id": summary["id"]}, headers=auth)
    assert intent.status_code == 409, intent.text
    assert (await platform.get("/api/v1/products/901", headers=ON_MARBELLE)).json()[
        "stock_quantity"] == 12
    assert await rows(tmp_path, "orders", "SELECT count(*) FROM outbox") == [(0,)]


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


@pytest.mark.parametrize("depth", [100_000, 500])
async def test_json_nested_too_deep_is_one_line_not_a_traceback(platform: httpx.AsyncClient, tmp_path: Path,
                                                                 depth: int) -> None:
    # 100,000 levels overflow the parser; 500 parse, and would overflow reading a value (`str()`, pydantic).
    deep = "[" * depth + "]" * depth
    dump = dump_file(tmp_path, '[{"model": "users.user", "pk": 1, "fields": {"email": ' + deep + "}}]")
    result = await atelier("import", "marbelle", str(dump))
    assert result.exit_code == 2, result.exception
    assert result.output.strip().endswith("JSON nested deeper than 64 levels"), result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


async def test_hashes_asking_a_sign_in_for_too_much_work_are_refused(platform: httpx.AsyncClient, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # Each of the first three took a core (argon2: and a gigabyte) past a minute per sign-in.
    salt, digest = "c2FsdHNhbHRzYWx0", "A" * 43
    dump = str(dump_file(tmp_path, [
        user(30, "pbkdf2@example.com", "pbkdf2_sha256$999999999$salt$" + "A" * 44),
        user(31, "argon2@example.com", f"argon2$argon2id$v=19$m=1048576,t=100,p=1${salt}${digest}"),
        user(32, "bcrypt@example.com", "bcrypt_sha256$$2b$31$" + "a" * 53),
        user(33, "django52@example.com", django_pbkdf2_sha256(OLD_PASSWORD, "s4ltS4lt", 1_000_000)),  # Django 5.2's
    ]))
    # The caps are identity's settings, which the command reads.
    monkeypatch.setenv("ATELIER_IDENTITY_PASSWORD_HASH_MAX_PBKDF2_ITERATIONS", "500000")
    strict = await atelier("import", "marbelle", dump, "--dry-run", "--report", str(tmp_path / "strict.json"))
    assert strict.exit_code == 0, strict.output
    assert {r["pk"] for r in json.loads((tmp_path / "strict.json").read_text())["refused"]} == {"30", "31", "32", "33"}
    monkeypatch.delenv("ATELIER_IDENTITY_PASSWORD_HASH_MAX_PBKDF2_ITERATIONS")

    result = await atelier("import", "marbelle", dump, "--report", str(tmp_path / "report.json"))
    assert result.exit_code == 0, result.output
    refused = {r["pk"]: r["reason"] for r in json.loads((tmp_path / "report.json").read_text())["refused"]}
    assert refused.keys() == {"30", "31", "32"}, refused
    assert "iterations 999,999,999 is over the cap of 3,000,000" in refused["30"]
    assert "memory kib 1,048,576 is over the cap" in refused["31"] and "cost 31 is over the cap" in refused["32"]
    assert await rows(tmp_path, "identity", "SELECT count(*) FROM user WHERE email IN "
                                            "('pbkdf2@example.com', 'argon2@example.com', 'bcrypt@example.com')") == [(0,)]
    signed_in = await platform.post("/api/v1/auth/login", json={"email": "django52@example.com",
                                                                "password": OLD_PASSWORD})
    assert signed_in.status_code == 200, signed_in.text


async def test_two_rows_with_one_primary_key_are_both_refused(platform: httpx.AsyncClient, tmp_path: Path) -> None:
    # Bob's account got Alice's name and password hash, so Alice signed in as Bob.
    alice, bob = user(40, "alice@example.com", django_pbkdf2_sha256("alice-pass-1", "s1")), \
        user(40, "bob@example.com", django_pbkdf2_sha256("bob-pass-1", "s2"))
    alice["fields"]["first_name"], bob["fields"]["first_name"] = "Alice", "Bob"
    home = {"model": "users.address", "pk": 41, "fields": {
        "user": 40, "label": "Home", "first_name": "Alice", "address_line_1": "1 Road", "city": "Sofia",
        "country": "Bulgaria"}}
    dump = str(dump_file(tmp_path, [alice, bob, home, user(42, "carol@example.com", "!x")]))
    result = await atelier("import", "marbelle", dump, "--report", str(tmp_path / "report.json"))
    assert result.exit_code == 0, result.output
    refused = [(r["model"], r["pk"], r["reason"]) for r in json.loads((tmp_path / "report.json").read_text())["refused"]]
    assert [(model, pk) for model, pk, _ in refused] == [("users.user", "40"), ("users.user", "40"), ("address", "41")]
    assert "same primary key" in refused[0][2] and "same primary key" in refused[1][2]
    assert await rows(tmp_path, "identity", "SELECT email FROM user WHERE email LIKE '%@example.com' ORDER BY email") \
        == [("carol@example.com",)]
    for email, password in (("alice@example.com", "alice-pass-1"), ("bob@example.com", "alice-pass-1")):
        assert (await platform.post("/api/v1/auth/login", json={"email": email, "password": password})).status_code == 401

    # Cognito's Username likewise (two pages of list-users naming one user).
    pages = [{"Users": [entry]} for entry in (
        {"Username": "u-1", "Attributes": [{"Name": "email", "Value": "dana@example.com"}]},
        {"Username": "u-1", "Attributes": [{"Name": "email", "Value": "erin@example.com"}]})]
    cognito = await atelier("import", "figureforge", str(dump_file(tmp_path, pages, "users.json")),
                            "--report", str(tmp_path / "cognito.json"))
    assert cognito.exit_code == 0, cognito.output
    assert [(r["model"], r["pk"]) for r in json.loads((tmp_path / "cognito.json").read_text())["refused"]] == [
        ("cognito.user", "u-1"), ("cognito.user", "u-1")]


async def test_a_flag_that_is_not_true_or_false_refuses_the_row(platform: httpx.AsyncClient, tmp_path: Path) -> None:
    # `"is_staff": "yes"` and `"false"` were staff (truthiness); JSON true/false (and 0/1) are read as such.
    flags = {50: {"is_staff": "yes"}, 51: {"is_staff": "false"}, 52: {"is_superuser": "1"}, 53: {"is_active": "no"},
             54: {"is_staff": True}, 55: {"is_staff": 0, "is_superuser": 1}, 56: {"is_staff": False}}
    rows_in = []
    for pk, fields in flags.items():
        row = user(pk, f"flag{pk}@example.com", "!x")
        row["fields"].update(fields)
        rows_in.append(row)
    result = await atelier("import", "marbelle", str(dump_file(tmp_path, rows_in)), "--report", str(tmp_path / "r.json"))
    assert result.exit_code == 0, result.output
    refused = {r["pk"]: r["reason"] for r in json.loads((tmp_path / "r.json").read_text())["refused"]}
    assert refused == {
        "50": "invalid row: is_staff must be true or false, not 'yes'",
        "51": "invalid row: is_staff must be true or false, not 'false'",
        "52": "invalid row: is_superuser must be true or false, not '1'",
        "53": "invalid row: is_active must be true or false, not 'no'"}, refused
    assert await rows(tmp_path, "identity", "SELECT email, is_staff FROM user WHERE email LIKE 'flag%' ORDER BY email") \
        == [("flag54@example.com", 1), ("flag55@example.com", 1), ("flag56@example.com", 0)]


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


SHOP_CATEGORY = "c0ffee00-0000-4000-8000-000000000001"
SHOP_PRODUCT = "beef0000-0000-4000-8000-000000000001"
SHOP_ORDER = "0dd00000-0000-4000-8000-000000000001"


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
        {"model": "products.category", "pk": SHOP_CATEGORY, "fields": {
            "name": "Imported Audio", "slug": "imported-audio", "description": "Headphones", "parent": None,
            "image": "", "is_active": True, "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z"}},
        {"model": "products.product", "pk": SHOP_PRODUCT, "fields": {
            "name": "Studio Headphones", "slug": "studio-headphones", "description": "Closed back",
            "category": SHOP_CATEGORY, "price": "120.00", "compare_price": None, "cost_price": None,
            "sku": "SHOP-HP-1", "barcode": "", "quantity": 30, "track_inventory": True, "low_stock_threshold": 5,
            "weight": "0.35", "dimensions": "20 x 18 x 9", "meta_title": "", "meta_description": "",
            "is_active": True, "is_featured": False, "created_at": "2025-01-01T00:00:00Z",
            "updated_at": "2025-01-01T00:00:00Z"}},
        {"model": "products.productimage", "pk": "1d2e3f40-0000-4000-8000-000000000001", "fields": {
            "product": SHOP_PRODUCT, "image": "products/hp.jpg", "alt_text": "Headphones", "is_primary": True,
            "order": 0, "created_at": "2025-01-01T00:00:00Z"}},
        {"model": "orders.order", "pk": SHOP_ORDER, "fields": {
            "order_number": "ORD-20250301-AB12CD", "user": owner, "status": "delivered", "subtotal": "240.00",
            "tax": "24.00", "shipping_cost": "10.00", "discount": "4.00", "total_amount": "270.00",
            "shipping_address": "0b8f9f7e-3a4b-4d0e-8f1a-2c3d4e5f6a7b",
            "billing_address": "0b8f9f7e-3a4b-4d0e-8f1a-2c3d4e5f6a7b", "tracking_number": "GH123",
            "shipped_at": "2025-03-02T10:00:00Z", "delivered_at": "2025-03-04T10:00:00Z", "notes": "",
            "created_at": "2025-03-01T10:00:00Z", "updated_at": "2025-03-04T10:00:00Z"}},
        {"model": "orders.orderitem", "pk": "2e3f4050-0000-4000-8000-000000000001", "fields": {
            "order": SHOP_ORDER, "product": SHOP_PRODUCT, "variant": None, "product_name": "Studio Headphones",
            "product_sku": "SHOP-HP-1", "price": "120.00", "quantity": 2, "subtotal": "240.00",
            "created_at": "2025-03-01T10:00:00Z"}},
        *({"model": "orders.orderstatushistory", "pk": f"3f405060-0000-4000-8000-00000000000{n}", "fields": {
            "order": SHOP_ORDER, "status": status, "note": note, "created_by": None, "created_at": at}}
          for n, (status, note, at) in enumerate([("pending", "Order placed", "2025-03-01T10:00:00Z"),
                                                  ("shipped", "Shipped with GH123", "2025-03-02T10:00:00Z"),
                                                  ("delivered", "", "2025-03-04T10:00:00Z")])),
    ]


async def test_shop_customers_catalog_and_orders_move_in(platform: httpx.AsyncClient, tmp_path: Path) -> None:
    result = await atelier("import", "shop", str(dump_file(tmp_path, shop_dump())), "--storefront", "shop",
                           "--report", str(tmp_path / "shop.json"))
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "shop.json").read_text())
    assert report["counts"]["user"] == report["counts"]["address"] == {"imported": 1, "skipped": 0, "refused": 0}
    assert {(r["model"], r["reason"]) for r in report["refused"]} == {("users.userprofile", "not carried over")}
    assert report["counts"]["product"] == report["counts"]["order"] == {"imported": 1, "skipped": 0, "refused": 0}
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

    # The order with its lines, totals, address snapshot and the source's own history and number.
    auth = {"Authorization": f"Bearer {login.json()['access']}", "Origin": SHOP_ORIGIN}
    [summary] = (await platform.get("/api/v1/orders", headers=auth)).json()["results"]
    order = (await platform.get(f"/api/v1/orders/{summary['id']}", headers=auth)).json()
    assert (order["order_number"], order["status"], order["total_amount"], order["tax_amount"],
            order["shipping_cost"], order["discount"], order["tracking_number"]) == (
        "ORD-20250301-AB12CD", "delivered", "270.00", "24.00", "10.00", "4.00", "GH123")
    assert order["shipping_address"]["city"] == "Accra"
    assert [(h["from_status"], h["status"], h["note"]) for h in order["status_history"]] == [
        (None, "pending", "Order placed"), ("pending", "shipped", "Shipped with GH123"),
        ("shipped", "delivered", "Imported from shop")]
    [item] = order["items"]
    product = (await platform.get(f"/api/v1/products/{item['product_id']}", headers={"Origin": SHOP_ORIGIN}))
    assert product.status_code == 200, product.text  # the line points at the product that moved in
    assert (product.json()["stock_quantity"], product.json()["images"][0]["url"]) == (30, "/media/products/hp.jpg")
    listed = await platform.get("/compat/shop/api/v1/orders/", headers=auth)
    assert listed.status_code == 200 and "ORD-20250301-AB12CD" in listed.text, listed.text


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


# -- storybook (60T-main/mycomics backend: customers, products and orders apps) -----------------

BOOK = "7a0f8d7e-1c2b-4d3e-9f40-5a6b7c8d9e01"
CHARACTER = "c1a7c1a7-0000-4000-8000-000000000001"
PAGE = "0a9e0a9e-0000-4000-8000-000000000001"


def storybook_dump() -> list[dict[str, Any]]:
    """Built from mycomics' backend/{customers,products}/models.py: a customer with Django's
    PBKDF2 hash, an address, and a book with a character, a cover and a page, each with versions
    whose images live on mycomics' media host."""
    version_common = {"aspect_ratio": "1:1", "seed": 7, "generation_job_id": "11111111-2222-4333-8444-555555555555",
                      "generation_cost_usd": "0.0390", "ledger_entry": None, "error_message": None,
                      "generation_time_ms": 5200, "nano_request_id": "req-1"}
    return [
        {"model": "customers.customer", "pk": 41, "fields": {
            "password": django_pbkdf2_sha256(OLD_PASSWORD, "c0m1csSalt"), "last_login": None, "is_superuser": False,
            "username": "nino", "first_name": "Nino", "last_name": "Beridze", "email": "nino@example.com",
            "is_staff": False, "is_active": True, "date_joined": "2025-06-01T09:00:00Z", "phone": "+995555123456",
            "avatar": "", "groups": [], "user_permissions": []}},
        {"model": "customers.address", "pk": 5, "fields": {
            "user": 41, "session_key": None, "full_name": "Nino Beridze", "phone": "+995555123456",
            "email": "nino@example.com", "address_line1": "12 Rustaveli Ave", "address_line2": "",
            "city": "Tbilisi", "is_default": True, "created_at": "2025-06-01T09:00:00Z",
            "updated_at": "2025-06-01T09:00:00Z"}},
        {"model": "customers.address", "pk": 6, "fields": {
            "user": None, "session_key": "abc", "full_name": "Guest", "phone": "1", "email": "g@example.com",
            "address_line1": "x", "address_line2": "", "city": "Batumi", "is_default": False}},
        {"model": "products.book", "pk": BOOK, "fields": {
            "user": 41, "session_key": None, "title": "Nino and the Dragon", "slug": "nino-dragon",
            "art_style": "watercolor", "style_version": "v2", "status": "IN_PROGRESS", "total_pages": 1,
            "last_generation_at": None, "current_cover_version": "c0c0c0c0-0000-4000-8000-000000000002",
            "print_size": "A4", "paper_type": "matte", "binding_type": "hardcover", "is_print_ready": False,
            "print_locked_at": None, "is_consistency_verified": False, "total_images_generated": 4,
            "total_generation_cost_usd": "0.1560", "is_archived": False, "archived_at": None,
            "created_at": "2025-06-02T10:00:00Z"}},
        {"model": "products.character", "pk": CHARACTER, "fields": {
            "user": 41, "created_by_anon_token": None, "book": BOOK, "name": "Dragon",
            "reference_photo": "characters/reference/dragon.jpg",
            "current_version": "c4a4c4a4-0000-4000-8000-000000000001", "total_generation_attempts": 1,
            "free_retry_used": False, "created_at": "2025-06-02T10:01:00Z", "updated_at": "2025-06-02T10:01:00Z"}},
        {"model": "products.characterversion", "pk": "c4a4c4a4-0000-4000-8000-000000000001", "fields": {
            **version_common, "character": CHARACTER, "version_number": 1,
            "generated_image": "characters/dragon-v1.png", "thumbnail": "", "prompt_snapshot": {"style": "watercolor"},
            "status": "SUCCESS", "created_at": "2025-06-02T10:02:00Z"}},
        {"model": "products.coverversion", "pk": "c0c0c0c0-0000-4000-8000-000000000001", "fields": {
            **version_common, "created_by_user": 41, "created_by_anon_token": None, "book": BOOK,
            "version_number": 1, "title_text": "Nino", "subtitle_text": None, "author_name": "Mom",
            "title_position": None, "generated_image": "covers/nino-v1.png", "full_spread_image": "",
            "thumbnail": "", "prompt_snapshot": {}, "status": "SUCCESS", "created_at": "2025-06-02T10:03:00Z",
            "updated_at": "2025-06-02T10:03:00Z"}},
        {"model": "products.coverversion", "pk": "c0c0c0c0-0000-4000-8000-000000000002", "fields": {
            **version_common, "created_by_user": 41, "created_by_anon_token": None, "book": BOOK,
            "version_number": 2, "title_text": "Nino and the Dragon", "subtitle_text": None, "author_name": "Mom",
            "title_position": None, "generated_image": "https://cdn.mycomics.example/covers/nino-v2.png",
            "full_spread_image": "", "thumbnail": "", "prompt_snapshot": {}, "status": "SUCCESS",
            "created_at": "2025-06-02T10:04:00Z", "updated_at": "2025-06-02T10:04:00Z"}},
        {"model": "products.page", "pk": PAGE, "fields": {
            "book": BOOK, "current_version": None, "page_number": 1, "scene_description": "A dragon lands",
            "text_content": "Once upon a time", "is_locked": False}},
        {"model": "products.pageversion", "pk": "9a9e9a9e-0000-4000-8000-000000000001", "fields": {
            "page": PAGE, "version_number": 1, "prompt": "a dragon lands", "nano_request_id": None,
            "ledger_entry": None, "generation_cost_usd": None, "image": "pages/p1-v1.png", "status": "COMPLETED",
            "created_at": "2025-06-02T10:05:00Z"}},
        {"model": "products.book", "pk": "ffffffff-0000-4000-8000-000000000000", "fields": {
            "user": None, "session_key": "anon", "title": "Guest book", "art_style": "x", "status": "DRAFT"}},
        {"model": "billing.pricingtier", "pk": 1, "fields": {"name": "Basic", "code": "basic", "price": "49.00"}},
        {"model": "orders.order", "pk": 77, "fields": {
            "customer": 41, "session_key": None, "tier_name": "basic", "order_date": "2025-06-03T12:00:00Z",
            "status": "paid", "delivery_address": 5, "delivery_cost": "5.00", "total_amount": "54.00",
            "transaction_id": 123456, "paid_at": "2025-06-03T12:05:00Z", "claimed_at": None,
            "updated_at": "2025-06-03T12:05:00Z"}},
        {"model": "orders.orderitem", "pk": 1, "fields": {"order": 77, "book": BOOK, "quantity": 1,
                                                          "unit_price": "49.00"}},
    ]


async def test_storybook_customers_and_their_books_move_in(platform: httpx.AsyncClient, tmp_path: Path) -> None:
    dump = str(dump_file(tmp_path, storybook_dump()))
    result = await atelier("import", "storybook", dump, "--storefront", "storybook",
                           "--media-url", "https://media.mycomics.example/media", "--report", str(tmp_path / "s.json"))
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "s.json").read_text())
    assert report["counts"]["user"] == report["counts"]["address"] == {"imported": 1, "skipped": 0, "refused": 0}
    assert report["counts"]["book"] == report["counts"]["order"] == {"imported": 1, "skipped": 0, "refused": 0}
    reasons = {(r["model"], r["pk"]): r["reason"] for r in report["refused"]}
    assert "anonymous visitor's book" in reasons[("products.book", "ffffffff-0000-4000-8000-000000000000")]
    assert "anonymous visitor's address" in reasons[("customers.address", "6")]
    assert "does not know" in reasons[("billing.pricingtier", "1")]

    native = await platform.post("/api/v1/auth/login", json={"email": "nino@example.com", "password": OLD_PASSWORD})
    assert native.status_code == 200, native.text
    [(stored,)] = await rows(tmp_path, "identity", "SELECT password_hash FROM user WHERE email='nino@example.com'")
    assert stored.startswith("$argon2id$")
    auth = {"Authorization": f"Bearer {native.json()['access']}"}
    [book] = (await platform.get("/api/v1/books", headers=auth)).json()["results"]
    assert (book["title"], book["style"], book["status"], book["print_size"]) == (
        "Nino and the Dragon", "watercolor", "in_progress", "A4")
    [character] = (await platform.get(f"/api/v1/books/{book['id']}/characters", headers=auth)).json()["results"]
    assert character["name"] == "Dragon"
    assert character["reference_photo_url"] == "https://media.mycomics.example/media/characters/reference/dragon.jpg"
    assert character["selected_version"]["image_url"] == (
        "https://media.mycomics.example/media/characters/dragon-v1.png")
    cover = (await platform.get(f"/api/v1/books/{book['id']}/cover", headers=auth)).json()
    assert cover["selected_version"]["image_url"] == "https://cdn.mycomics.example/covers/nino-v2.png"
    assert cover["version_count"] == 2
    [page] = (await platform.get(f"/api/v1/books/{book['id']}/pages", headers=auth)).json()["results"]
    assert (page["number"], page["text"], page["latest_version"]["status"]) == (1, "Once upon a time", "completed")
    assert page["selected_version"] is None  # mycomics had none chosen

    # Orders are per storefront: the storybook storefront sees its own.
    auth = {**auth, "X-Atelier-Storefront": "storybook"}
    [summary] = (await platform.get("/api/v1/orders", headers=auth)).json()["results"]
    order = (await platform.get(f"/api/v1/orders/{summary['id']}", headers=auth)).json()
    assert (order["order_number"], order["status"], order["currency"], order["total_amount"]) == (
        "SB-77", "paid", "GEL", "54.00")
    [line] = order["items"]
    assert (line["name"], line["book_id"], line["unit_price"]) == ("Print of Nino and the Dragon", book["id"], "49.00")
    assert order["shipping_address"]["city"] == "Tbilisi"

    compat = await platform.post("/compat/storybook/api/customer/login/",
                                 json={"email": "nino@example.com", "password": OLD_PASSWORD})
    assert compat.status_code == 200, compat.text
    books = await platform.get("/compat/storybook/api/product/books/")
    assert books.status_code == 200, books.text
    listed = books.json()
    listed = listed["results"] if isinstance(listed, dict) else listed
    assert [b["title"] for b in listed] == ["Nino and the Dragon"]

    again = await atelier("import", "storybook", dump, "--storefront", "storybook",
                          "--media-url", "https://media.mycomics.example/media", "--report", str(tmp_path / "a.json"))
    assert "nothing changed" in again.output, again.output
    assert json.loads((tmp_path / "a.json").read_text())["counts"]["book"] == {"imported": 0, "skipped": 1,
                                                                             "refused": 0}
    assert await rows(tmp_path, "generation", "SELECT count(*) FROM book") == [(1,)]
    # Imported versions are finished pictures, never jobs for the worker.
    assert await rows(tmp_path, "generation",
                      "SELECT count(*) FROM generation_job WHERE status IN ('queued', 'running')") == [(0,)]


async def test_storybook_dry_run_writes_no_book(platform: httpx.AsyncClient, tmp_path: Path) -> None:
    result = await atelier("import", "storybook", str(dump_file(tmp_path, storybook_dump())), "--dry-run",
                           "--report", str(tmp_path / "d.json"))
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "d.json").read_text())["counts"]["book"]["imported"] == 1  # would be
    assert await rows(tmp_path, "generation", "SELECT count(*) FROM book") == [(0,)]
    assert await rows(tmp_path, "generation", "SELECT count(*) FROM generation_import_ref") == [(0,)]


async def test_reviv_balances_and_restorations_move_in(platform: httpx.AsyncClient, tmp_path: Path) -> None:
    def reviv_user(pk: int, email: str, balance: str) -> dict[str, Any]:
        return {"model": "reviv.user", "pk": pk, "fields": {
            "password": "!unusable", "is_superuser": False, "username": email, "first_name": "", "last_name": "",
            "email": email, "is_staff": False, "is_active": True, "date_joined": "2025-05-05T05:05:05Z",
            "oauth_provider": "google", "oauth_id": f"g-{pk}", "credit_balance": balance,
            "free_preview_used": False, "social_share_unlock_used": False, "updated_at": "2025-09-09T09:09:09Z"}}

    restoration = {"model": "reviv.restorationjob", "pk": 31, "fields": {
        "user": 1, "original_image_url": "https://res.cloudinary.com/reviv/image/upload/orig31.jpg",
        "restored_preview_url": "https://res.cloudinary.com/reviv/image/upload/prev31.jpg",
        "restored_full_url": "https://res.cloudinary.com/reviv/image/upload/full31.png", "kie_task_id": "t-31",
        "status": "completed", "unlock_method": "paid", "unlocked_at": "2025-09-01T10:00:00Z",
        "created_at": "2025-09-01T09:00:00Z", "expires_at": "2099-10-31T09:00:00Z"}}
    dump = str(dump_file(tmp_path, [reviv_user(1, "rich@example.com", "12.00"), reviv_user(2, "odd@example.com", "1.50"),
                                    reviv_user(3, "none@example.com", "0.00"), restoration]))
    result = await atelier("import", "reviv", dump, "--storefront", "reviv", "--report", str(tmp_path / "r.json"))
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["counts"]["credits"] == {"imported": 2, "skipped": 0, "refused": 0}
    assert "not a whole number" in {(r["model"], r["pk"]): r["reason"] for r in report["refused"]}[("reviv.user", "2")]
    again = await atelier("import", "reviv", dump, "--storefront", "reviv")
    assert "nothing changed" in again.output, again.output
    ledger = await rows(tmp_path, "generation", "SELECT kind, amount, balance_after, description, storefront "
                                                "FROM credit_transaction")
    assert ledger == [("opening", 12, 12, "Balance carried over from reviv", "reviv")]
    assert await rows(tmp_path, "generation", "SELECT balance FROM credit_wallet") == [(12,)]
    # The customer reads it (signed in by magic link, as reviv's customers are), natively and through reviv's profile.
    await platform.post("/api/v1/auth/magic-link", json={"email": "rich@example.com"})

    async def mailed_code() -> str | None:
        mails = (await platform.get("/api/dev/mailbox", params={"to": "rich@example.com"})).json()["results"]
        found = re.search(r"enter this code: (\d{6})", mails[0]["text"]) if mails else None
        return found.group(1) if found else None

    code = await poll_until(mailed_code, timeout=10, message="the magic-link mail")
    signed_in = await platform.post("/api/v1/auth/magic-link/verify", json={"email": "rich@example.com", "code": code})
    auth = {"Authorization": f"Bearer {signed_in.json()['access']}"}
    assert (await platform.get("/api/v1/credits/balance", headers=auth)).json()["balance"] == 12
    [line] = (await platform.get("/api/v1/credits/transactions", headers=auth)).json()
    assert (line["transaction_type"], line["amount"]) == ("opening", 12)
    me = await platform.get("/compat/reviv/api/auth/me/", headers=auth)
    assert me.status_code == 200 and me.json()["credit_balance"] == "12.00", me.text
    # The restoration, unlocked by a payment at reviv, with its pictures where reviv keeps them.
    restored = (await platform.get("/api/v1/restorations", headers=auth)).json()
    [job] = restored["results"] if isinstance(restored, dict) else restored
    assert (job["status"], job["original_image_url"], job["restored_full_url"]) == (
        "completed", "https://res.cloudinary.com/reviv/image/upload/orig31.jpg",
        "https://res.cloudinary.com/reviv/image/upload/full31.png")
    assert report["counts"]["restoration"] == {"imported": 1, "skipped": 0, "refused": 0}


def cognito_users() -> dict[str, Any]:
    def entry(sub: str, email: str, verified: str, enabled: bool = True, **extra: str) -> dict[str, Any]:
        attributes = [{"Name": "sub", "Value": sub}, {"Name": "email", "Value": email},
                      {"Name": "email_verified", "Value": verified}, *({"Name": k, "Value": v} for k, v in extra.items())]
        return {"Username": sub, "Attributes": attributes, "UserCreateDate": "2025-04-01T12:00:00.000000+00:00",
                "UserLastModifiedDate": "2025-04-02T12:00:00.000000+00:00", "Enabled": enabled,
                "UserStatus": "CONFIRMED"}

    return {"Users": [entry("a1b2", "maker@example.com", "true", name="Figure Maker"),
                      entry("c3d4", "off@example.com", "false", enabled=False),
                      {"Username": "e5f6", "Attributes": [], "Enabled": True},
                      entry("g7h8", "MAKER@example.com", "true")]}


async def test_figureforge_cognito_users_move_in_and_sign_in_by_magic_link(platform: httpx.AsyncClient,
                                                                          tmp_path: Path) -> None:
    dump = str(dump_file(tmp_path, cognito_users(), "users.json"))
    result = await atelier("import", "figureforge", dump, "--storefront", "figureforge",
                           "--report", str(tmp_path / "f.json"))
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    report = json.loads((tmp_path / "f.json").read_text())
    assert report["counts"]["user"] == {"imported": 2, "skipped": 0, "refused": 1}
    reasons = {(r["model"], r["pk"]): r["reason"] for r in report["refused"]}
    assert reasons[("cognito.user", "e5f6")] == "missing field 'email'"
    assert "already used" in reasons[("user", "g7h8")]
    assert await rows(tmp_path, "identity", "SELECT first_name, last_name, is_active, password_hash FROM user "
                                            "WHERE email='maker@example.com'") == [("Figure", "Maker", 1, None)]
    assert await rows(tmp_path, "identity", "SELECT is_active, email_verified_at FROM user "
                                            "WHERE email='off@example.com'") == [(0, None)]
    again = await atelier("import", "figureforge", dump, "--storefront", "figureforge")
    assert "nothing changed" in again.output, again.output
    assert (await platform.post("/api/v1/auth/magic-link", json={"email": "maker@example.com"})).status_code == 200

    not_cognito = await atelier("import", "figureforge", str(dump_file(tmp_path, [{"model": "x"}], "bad.json")))
    assert not_cognito.exit_code == 2 and "list-users" in not_cognito.output


async def test_books_credits_and_orders_import_into_each_services_database(
        service_database: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The distributed mode's shape (SQLite, and PostgreSQL when ATELIER_TEST_POSTGRES_URL is set):
    identity, catalog, generation and orders each in its own database; twice, the second a no-op."""
    urls = {name: service_database(name, Path(package.__file__).parent / "migrations")
            for name, package in (("identity", atelier_identity), ("catalog", atelier_catalog),
                                  ("generation", atelier_generation), ("orders", atelier_orders))}
    for name, url in urls.items():
        monkeypatch.setenv(f"ATELIER_{name.upper()}_DATABASE_URL", url)
    monkeypatch.setenv("ATELIER_DATA_DIR", str(tmp_path / "data"))
    for profile, dump in (("storybook", storybook_dump()), ("marbelle", marbelle_dump()), ("shop", shop_dump())):
        path = dump_file(tmp_path, dump, f"{profile}.json")
        report = tmp_path / f"{profile}-report.json"
        result = await atelier("import", profile, str(path), "--storefront", profile, "--report", str(report))
        assert result.exit_code == 0, result.output
        counts = json.loads(report.read_text())["counts"]
        assert counts["order"] == {"imported": 1, "skipped": 0, "refused": 0}, (profile, counts)
        again = await atelier("import", profile, str(path), "--storefront", profile)
        assert "nothing changed" in again.output, again.output

    async def count(service: str, sql: str) -> Any:
        engine = create_async_engine(urls[service])
        try:
            async with engine.connect() as connection:
                return (await connection.execute(text(sql))).scalar_one()
        finally:
            await engine.dispose()

    assert await count("generation", "SELECT count(*) FROM book_item_version") == 4
    assert await count("orders", "SELECT count(*) FROM customer_order WHERE imported_from IS NOT NULL") == 3
    assert await count("orders", "SELECT count(*) FROM order_status_history") == 5  # 1 + 1 + shop's 3
    assert await count("orders", "SELECT count(*) FROM outbox") == 0  # history: nothing announced
