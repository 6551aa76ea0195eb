"""`atelier import` at scale (#37): writes a marbelle `dumpdata` file of N users (each with an
address), M products and K orders (two lines each), then times `atelier migrate` + `atelier
import marbelle` into a fresh embedded data directory (SQLite), or into PostgreSQL when
`--postgres URL` names a server (one database per service, created by `atelier migrate`).

    uv run python -m bench.import_scale                       # 100,000 / 10,000 / 100,000
    uv run python -m bench.import_scale --users 2000 --products 200 --orders 2000
    uv run python -m bench.import_scale --postgres postgresql://postgres@127.0.0.1:5432/postgres

A figure, not a test: it prints the seconds and rows per second of each run and the report's
counts. The users' hashes are real Django PBKDF2-SHA256 hashes with 1 iteration (a dump of real
users carries 870,000: the import never computes them, only the first sign-in does).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def django_pbkdf2_sha256(password: str, salt: str, iterations: int = 1) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(digest).decode()}"


def marbelle_dump(users: int, products: int, orders: int) -> list[dict[str, Any]]:
    """Rows as marbelle's models define them (backend/{users,products,orders}/models.py)."""
    stamp = "2025-03-04T10:20:30Z"
    rows: list[dict[str, Any]] = []
    for pk in range(1, users + 1):
        rows.append({"model": "users.user", "pk": pk, "fields": {
            "password": django_pbkdf2_sha256(f"pass-{pk}", f"salt{pk:08d}"), "last_login": None,
            "is_superuser": False, "username": f"user{pk}", "first_name": "First", "last_name": f"Last{pk}",
            "email": f"user{pk}@scale.example", "is_staff": False, "is_active": True, "date_joined": stamp,
            "company_name": "", "phone": "+359888000000", "groups": [], "user_permissions": []}})
        rows.append({"model": "users.address", "pk": pk, "fields": {
            "user": pk, "label": "Home", "first_name": "First", "last_name": f"Last{pk}", "company": "",
            "address_line_1": f"{pk} Main St", "address_line_2": "", "city": "Sofia", "state": "",
            "postal_code": "1000", "country": "Bulgaria", "phone": "", "is_primary": True,
            "created_at": stamp, "updated_at": stamp}})
    rows.append({"model": "products.category", "pk": 1, "fields": {
        "name": "Scale", "description": "", "is_active": True, "created_at": stamp, "updated_at": stamp}})
    for pk in range(1, products + 1):
        rows.append({"model": "products.product", "pk": 100_000 + pk, "fields": {
            "name": f"Slab {pk}", "description": "Stone", "price": f"{10 + pk % 90}.50", "unit_of_measure": "sqm",
            "category": 1, "stock_quantity": 100, "is_active": True, "sku": f"SCALE-{pk}",
            "created_at": stamp, "updated_at": stamp}})
    line = 0
    for pk in range(1, orders + 1):
        rows.append({"model": "orders.order", "pk": pk, "fields": {
            "user": 1 + pk % users, "status": "delivered", "total_amount": "0.00", "created_at": stamp,
            "updated_at": stamp}})
        for offset in (0, 1):
            line += 1
            rows.append({"model": "orders.orderitem", "pk": line, "fields": {
                "order": pk, "product": 100_001 + (pk + offset) % products, "quantity": 1 + offset,
                "unit_price": "12.50", "created_at": stamp, "updated_at": stamp}})
    return rows


def atelier(*args: str, env: dict[str, str]) -> tuple[float, str]:
    command = [shutil.which("atelier") or "atelier", *args]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--postgres", help="a PostgreSQL server URL (default: the embedded SQLite files)")
    parser.add_argument("--keep", action="store_true", help="keep the data directory and the dump")
    parser.add_argument("--twice", action="store_true", help="run the import a second time (everything skipped)")
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="atelier-import-scale-"))
    dump = work / "marbelle.json"
    rows = marbelle_dump(options.users, options.products, options.orders)
    dump.write_text(json.dumps(rows), encoding="utf-8")
    print(f"dump: {len(rows):,} rows, {dump.stat().st_size / 1e6:.0f} MB at {dump}")

    env = {**os.environ, "ATELIER_DATA_DIR": str(work / "data")}
    if options.postgres:
        env["ATELIER_POSTGRES_SERVER_URL"] = options.postgres
        env.setdefault("ATELIER_DATABASE_NAME_PREFIX", f"scale{os.getpid()}_")
    migrated, _ = atelier("migrate", env=env)
    print(f"migrate: {migrated:.1f} s")
    report = work / "report.json"
    runs = 2 if options.twice else 1
    try:
        for run in range(1, runs + 1):
            elapsed, _ = atelier("import", "marbelle", str(dump), "--storefront", "marbelle",
                                 "--report", str(report), env=env)
            counts = json.loads(report.read_text())["counts"]
            print(f"import run {run}: {elapsed:.1f} s ({len(rows) / elapsed:,.0f} rows/s)")
            for model, tally in counts.items():
                print(f"  {model}: {tally}")
    finally:
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
