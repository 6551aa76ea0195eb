"""Benchmark: the platform at data scale, each read at two sizes and the ratio between them.

At `--scale 1.0`: 1M customers (identity's `user`, each with an address book and an address), 5M
orders with their items and status history, 10M ledger lines and 1M products, generated in bulk
inside PostgreSQL (`INSERT … SELECT … FROM generate_series`), never through the API. Measured at
each of `--scale` (default 0.1, then 1.0: the same databases grown between the two), through the
gateway of the distributed topology (`atelier up --no-split`), one page at a time, `wrk -c4` for
10 s: staff order search by e-mail, by number and by day, staff's unfiltered order list, a
customer's order history, the staff ledger with and without filters, two catalog pages; then
guests' order placements (p50/p99 over `--placements`, 4 at a time) and a housekeeping pass of
each service (the quickest of three back to back). Beside each read's latency, the 8 kB pages its
statements touch ('buffers', from EXPLAIN of the services' own queries, run here and captured):
a figure no other load on the machine moves. The table flags every read with p99 > 50 ms and every
figure more than 2× at the larger size (the cost must stay flat); `--explain` prints EXPLAIN
(ANALYZE, BUFFERS) of the statements behind each flagged read.

Rows are clones of real ones: a few orders are first placed and paid through the API (a customer
registered, an address, a guest checkout through the local provider), then every table is copied
from them with only the columns this benchmark varies substituted (ids, owners, e-mails, numbers,
dates, statuses, amounts). Columns it does not know — a column another change adds with a
default — are copied from the template row, so a new column does not break the generator. A
column added with a UNIQUE constraint would need a line in `_vary_*` below.

Spread: six storefronts (45 % `default`); two years of orders, oldest first in the table as
they would have been appended, each day ~1/730 of them; a status by age (the last 30 days still
pending, awaiting payment, paid, processing, shipped; older ones mostly delivered, some completed,
cancelled, refunded, returned, rejected) with the history of every step; 20 % by guests; of the
customers' orders half go to 5 % of the customers ("regulars", ~40 orders each) and half spread
over everyone (~2 each); one customer, `heavy.buyer@example.com`, has 1,000 orders and 500 ledger
lines at every size (the customer whose history is measured). Order numbers are
`ORD-<day>-<six base-36 digits of the row's index>`, unique whatever the day; seeded days end
before today, the day the API's random numbers are drawn for.

Seeding took 5 minutes to 0.1 on a busy 2-core machine, so 1.0 takes most of an hour there (orders
and their items and history are most of it); `--keep NAME` keeps the databases
(`atelier_NAME_*`) so that a second run reuses and grows what is already there.

    uv run python -m bench.data_scale                          # 0.1 then 1.0 (make bench-data)
    uv run python -m bench.data_scale --scale 0.01 0.1 --explain
    uv run python -m bench.data_scale --scale 0.1 1.0 --keep datascale
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import shutil
import statistics
import subprocess
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode

import httpx
import psycopg

from atelier_testing.platform import STAFF_EMAIL, STAFF_PASSWORD
from bench import command_line
from bench.catalog_search import _grow as grow_catalog
from bench.gateway_overhead import python_load
from bench.own_platform import Run
from bench.wrk import wrk

# What scale 1.0 means.
FULL = {"customers": 1_000_000, "orders": 5_000_000, "ledger": 10_000_000, "products": 1_000_000}
# The customer whose history is read: this many orders and ledger lines at every size.
HEAVY_ORDERS, HEAVY_LEDGER = 1_000, 500
HEAVY_EMAIL = "heavy.buyer@example.com"
TEMPLATE_EMAIL = "template.customer@example.com"
TEMPLATE_GUEST_EMAIL = "template.guest@example.com"
PASSWORD = "data-scale-password-1"
# The flags: a read's p99 above this, any figure growing more than this between the sizes.
P99_LIMIT_MS, RATIO_LIMIT = 50.0, 2.0
HOUSEKEEPING_FLOOR_MS = 50.0
SERVICES = ("identity", "catalog", "cart", "orders", "payments", "generation")
ADDRESS = {"label": "Home", "type": "shipping", "first_name": "Bench", "last_name": "Buyer",
           "street_address": "1 Load Street", "city": "Tbilisi", "postal_code": "0105", "country": "GE"}

# -- SQL building blocks ------------------------------------------------------------------------

# A uniform number in [0, 1) from a row's index and a salt: deterministic, so that the statements
# for an order's items and history recompute what the order's statement chose.
def _h(salt: str, index: str = "i") -> str:
    return f"(('x' || substr(md5('{salt}' || {index}), 1, 8))::bit(32)::bigint / 4294967296.0)"


def _uuid(kind: str, index: str) -> str:
    return f"md5('bench-{kind}-' || {index})::uuid"


def _base36(index: str) -> str:
    """Six base-36 digits of `index` (< 36**6), the suffix alphabet of `domain.new_order_number`."""
    alphabet = "'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'"
    return " || ".join(f"substr({alphabet}, mod({index} / {36 ** k}, 36)::int + 1, 1)" for k in range(5, -1, -1))


_DOMAINS = "(ARRAY['example.com', 'example.org', 'example.net', 'mail.example.com'])"
_FIRST = "(ARRAY['Ada', 'Nino', 'Luka', 'Mariam', 'Giorgi', 'Ana', 'David', 'Elene', 'Sandro', 'Tamar'])"
_LAST = "(ARRAY['Lovelace', 'Beridze', 'Kapanadze', 'Gelashvili', 'Smith', 'Jones', 'Rossi', 'Novak'])"


def _storefront(h: str) -> str:
    return (f"CASE WHEN {h} < 0.45 THEN 'default' WHEN {h} < 0.65 THEN 'shop' WHEN {h} < 0.80 THEN 'marbelle' "
            f"WHEN {h} < 0.90 THEN 'storybook' WHEN {h} < 0.97 THEN 'figureforge' ELSE 'reviv' END")


def _customer_email(u: str) -> str:
    return (f"CASE WHEN {u} = 1 THEN '{HEAVY_EMAIL}' "
            f"ELSE 'customer' || {u} || '@' || {_DOMAINS}[1 + mod({u}, 4)::int] END")


# Each status with the steps that led to it (the history's rows) and when its last step came.
PATHS = {
    "pending": ["pending"],
    "awaiting_payment": ["pending", "awaiting_payment"],
    "paid": ["pending", "awaiting_payment", "paid"],
    "processing": ["pending", "awaiting_payment", "paid", "processing"],
    "shipped": ["pending", "awaiting_payment", "paid", "processing", "shipped"],
    "delivered": ["pending", "awaiting_payment", "paid", "processing", "shipped", "delivered"],
    "returned": ["pending", "awaiting_payment", "paid", "processing", "shipped", "delivered", "returned"],
    "completed": ["pending", "awaiting_payment", "paid", "completed"],
    "cancelled": ["pending", "awaiting_payment", "cancelled"],
    "refunded": ["pending", "awaiting_payment", "paid", "cancelled", "refunded"],
    "rejected": ["pending", "rejected"],
}
AFTER = {"pending": "0", "awaiting_payment": "2 seconds", "paid": "3 minutes", "processing": "1 day",
         "shipped": "2 days", "delivered": "5 days", "returned": "20 days", "completed": "3 minutes 1 second",
         "cancelled": "1 hour", "rejected": "2 seconds", "refunded": "2 hours"}
ACTOR = {"pending": "customer", "awaiting_payment": "catalog", "rejected": "catalog", "paid": "payments",
         "refunded": "payments"}
_PATHS_SQL = "(VALUES " + ", ".join(
    f"('{status}', ARRAY[{', '.join(repr(s) for s in steps)}]::text[])" for status, steps in PATHS.items()
) + ") AS paths(status, steps)"
_AFTER_SQL = "(VALUES " + ", ".join(f"('{s}', interval '{a}')" for s, a in AFTER.items()) + ") AS after(status, after)"
RECENT = {"pending": 0.05, "awaiting_payment": 0.15, "paid": 0.30, "processing": 0.45, "shipped": 0.65,
          "delivered": 0.85, "cancelled": 0.95, "completed": 1.0}
OLDER = {"delivered": 0.62, "completed": 0.75, "cancelled": 0.87, "refunded": 0.92, "rejected": 0.97,
         "returned": 1.0}


def _pick(h: str, thresholds: dict[str, float]) -> str:
    return "CASE " + " ".join(f"WHEN {h} < {t} THEN '{s}'" for s, t in thresholds.items()) + " END"


def _order_series(probe: bool) -> str:
    return _order_rows(probe) + " AS g"


def _order_rows(probe: bool) -> str:
    """One row per order to create, `%(start)s`..`%(stop)s`: everything the three statements
    (orders, items, history) need, from the index alone. `probe`: the heavy customer's orders.

    Parameters: start, stop, first and last (this growth step's whole range, for the dates),
    customers (how many there are), t0 and t1 (the two years the orders span)."""
    if probe:
        index, kind, guest, user = "(2000000000 + i)", "probe-order", "false", "1"
    else:
        index, kind, guest = "i", "order", f"{_h('guest')} < 0.2"
        # Half of the customers' orders go to 5 % of them, half to anyone; customer 1 is the probe.
        user = (f"(2 + floor({_h('user')} * CASE WHEN {_h('regular')} < 0.5 "
                "THEN greatest(%(customers)s / 20, 1) ELSE greatest(%(customers)s - 1, 1) END))::bigint")
    # The fraction of the two years first: the interval times a row's index overflows its days field
    # (an int32) past ~2.9 million rows (the ledger's too).
    placed = ("%(t0)s::timestamptz + (%(t1)s::timestamptz - %(t0)s::timestamptz) "
              f"* (((i - %(first)s) + {_h('time')}) / (%(last)s - %(first)s + 1))")
    return f"""
    (SELECT s.*, paths.steps, after.after,
            'ORD-' || to_char(s.created_at AT TIME ZONE 'UTC', 'YYYYMMDD') || '-' || {_base36('s.number_index')}
                AS order_number
     FROM (SELECT b.*,
                  CASE WHEN b.created_at > %(t1)s::timestamptz - interval '30 days'
                       THEN {_pick('b.sth', RECENT)} ELSE {_pick('b.sth', OLDER)} END AS status
           FROM (SELECT i, {index} AS number_index, {_uuid(kind, 'i')} AS id, {guest} AS guest,
                        {user} AS customer, {placed} AS created_at,
                        1 + floor({_h('quantity')} * 4)::int AS quantity,
                        {_h('lines')} < 0.5 AS two_lines, {_h('storefront')} AS sh, {_h('case')} AS ch,
                        {_h('status')} AS sth
                 FROM generate_series(%(start)s::bigint, %(stop)s::bigint) AS i) AS b) AS s
     JOIN {_PATHS_SQL} ON paths.status = s.status
     JOIN {_AFTER_SQL} ON after.status = s.status)"""


def _vary_order(probe: bool) -> dict[str, str]:
    owner = f"CASE WHEN g.guest THEN {_uuid('anon', 'g.i')} ELSE {_uuid('user', 'g.customer')} END"
    email = (f"CASE WHEN g.guest THEN 'guest' || g.i || '@' || {_DOMAINS}[1 + mod(g.i, 4)::int] "
             f"WHEN g.ch < 0.1 THEN initcap({_customer_email('g.customer')}) ELSE {_customer_email('g.customer')} END")
    storefront = "'default'" if probe else (
        f"CASE WHEN g.guest THEN {_storefront('g.sh')} ELSE {_storefront(_h('storefront', 'g.customer'))} END")
    paid = "g.status IN ('paid', 'processing', 'shipped', 'delivered', 'returned', 'completed', 'refunded')"
    shipped = "g.status IN ('shipped', 'delivered', 'returned')"
    return {
        "id": "g.id", "order_number": "g.order_number", "owner_id": owner,
        "user_id": f"CASE WHEN g.guest THEN NULL ELSE {_uuid('user', 'g.customer')} END",
        "storefront": storefront, "email": email, "status": "g.status",
        "currency": f"CASE WHEN {storefront} = 'storybook' THEN 'GEL' ELSE t.currency END",
        # `quantity` units of the template's one line.
        "subtotal": "t.subtotal * g.quantity", "tax_amount": "t.tax_amount * g.quantity",
        "total_amount": "t.total_amount + (g.quantity - 1) * (t.subtotal + t.tax_amount)",
        "tracking_number": f"CASE WHEN {shipped} THEN 'TRK' || g.number_index END",
        "paid_at": f"CASE WHEN {paid} THEN g.created_at + interval '3 minutes' END",
        "shipped_at": f"CASE WHEN {shipped} THEN g.created_at + interval '2 days' END",
        "delivered_at": "CASE WHEN g.status IN ('delivered', 'returned') THEN g.created_at + interval '5 days' END",
        "created_at": "g.created_at", "updated_at": "g.created_at + g.after",
        "anon_reader_id": "NULL", "claimed_at": "NULL", "imported_from": "NULL",
    }


def _vary_item() -> dict[str, str]:
    # Two lines (1 and quantity - 1 units) where the order has 2 units or more and drew two lines.
    return {"id": "gen_random_uuid()", "order_id": "g.id", "position": "g.position", "quantity": "g.units",
            "line_total": "t.unit_price * g.units"}


def _item_series(probe: bool) -> str:
    return f"""
    (SELECT o.id, p.position,
            CASE WHEN p.position = 1 THEN o.quantity - 1 WHEN o.two_lines AND o.quantity > 1 THEN 1
                 ELSE o.quantity END AS units
     FROM {_order_rows(probe)} AS o
     CROSS JOIN LATERAL generate_series(0, CASE WHEN o.two_lines AND o.quantity > 1 THEN 1 ELSE 0 END) AS p(position)
    ) AS g"""


def _history_series(probe: bool) -> str:
    return f"""
    (SELECT o.id, o.created_at, o.steps, step.to_status, step.n, after.after
     FROM {_order_rows(probe)} AS o
     CROSS JOIN LATERAL unnest(o.steps) WITH ORDINALITY AS step(to_status, n)
     JOIN {_AFTER_SQL} ON after.status = step.to_status) AS g"""


def _vary_history() -> dict[str, str]:
    actor = "CASE g.to_status " + " ".join(f"WHEN '{s}' THEN '{a}'" for s, a in ACTOR.items()) + " ELSE 'staff' END"
    return {"order_id": "g.id", "from_status": "g.steps[g.n - 1]", "to_status": "g.to_status",
            "note": "CASE WHEN g.n = 1 THEN 'Order placed' ELSE 'Status changed' END", "actor": actor,
            "actor_id": "NULL", "created_at": "g.created_at + g.after"}


def _user_series() -> str:
    return f"""
    (SELECT i, {_uuid('user', 'i')} AS id, {_customer_email('i')} AS email,
            {_FIRST}[1 + mod(i, 10)::int] AS first_name, {_LAST}[1 + mod(i / 10, 8)::int] AS last_name,
            {_storefront(_h('storefront'))} AS storefront,
            %(t1)s::timestamptz - interval '1095 days' * {_h('joined')} AS created_at
     FROM generate_series(%(start)s::bigint, %(stop)s::bigint) AS i) AS g"""


def _ledger_series(probe: bool) -> str:
    if probe:
        index, kind, guest, user = "(2000000000 + j)", "probe-ledger", "false", "1"
    else:
        index, kind, guest = "j", "ledger", f"{_h('lguest', 'j')} < 0.1"
        user = (f"(2 + floor({_h('luser', 'j')} * CASE WHEN {_h('lregular', 'j')} < 0.5 "
                "THEN greatest(%(customers)s / 20, 1) ELSE greatest(%(customers)s - 1, 1) END))::bigint")
    return f"""
    (SELECT j, {index} AS n, {_uuid(kind, 'j')} AS id, {guest} AS guest, {user} AS customer,
            CASE WHEN {_h('lkind', 'j')} < 0.45 THEN 'payment' WHEN {_h('lkind', 'j')} < 0.5 THEN 'refund'
                 WHEN {_h('lkind', 'j')} < 0.6 THEN 'credit_purchase' ELSE 'credit_consumed' END AS kind,
            round((5 + {_h('lamount', 'j')} * 300)::numeric, 2) AS amount,
            {_h('lstorefront', 'j')} AS sh,
            (1 + floor({_h('lorder', 'j')} * %(orders)s))::bigint AS order_index,
            %(t0)s::timestamptz + (%(t1)s::timestamptz - %(t0)s::timestamptz)
                * (((j - %(first)s) + {_h('ltime', 'j')}) / (%(last)s - %(first)s + 1)) AS created_at
     FROM generate_series(%(start)s::bigint, %(stop)s::bigint) AS j) AS g"""


def _vary_ledger(probe: bool) -> dict[str, str]:
    owner = f"CASE WHEN g.guest THEN {_uuid('anon', 'g.j')} ELSE {_uuid('user', 'g.customer')} END"
    storefront = "'default'" if probe else _storefront("g.sh")
    money = "g.kind IN ('payment', 'refund', 'credit_purchase')"
    return {
        "id": "g.id", "owner_id": owner, "user_id": f"CASE WHEN g.guest THEN NULL ELSE {_uuid('user', 'g.customer')} END",
        "storefront": storefront, "kind": "g.kind",
        "amount": ("CASE g.kind WHEN 'payment' THEN g.amount WHEN 'refund' THEN -g.amount "
                   "WHEN 'credit_purchase' THEN 19.99 END"),
        "currency": f"CASE WHEN NOT ({money}) THEN NULL WHEN {storefront} = 'storybook' THEN 'GEL' ELSE 'USD' END",
        "credits": "CASE g.kind WHEN 'credit_purchase' THEN 100 WHEN 'credit_consumed' THEN -(1 + mod(g.j, 10))::int END",
        "payment_id": f"CASE WHEN {money} THEN {_uuid('payment', 'g.n')} END",
        "order_id": f"CASE WHEN g.kind IN ('payment', 'refund') THEN {_uuid('order', 'g.order_index')} END",
        "reference_id": "CASE WHEN g.kind = 'credit_consumed' THEN 'job_' || g.n ELSE 'pi_bench_' || g.n END",
        "description": ("CASE g.kind WHEN 'payment' THEN 'Payment' WHEN 'refund' THEN 'Refund' "
                        "WHEN 'credit_purchase' THEN 'Credit pack' ELSE 'Generation' END"),
        "created_at": "g.created_at",
    }


def clone_statement(conn: psycopg.Connection[Any], table: str, template: str, source: str,
                    varied: dict[str, str]) -> str:
    """`INSERT INTO table SELECT … FROM source, (the template row) t`: every column of the table as
    information_schema lists it now, `varied[column]` where given, else the template's value;
    serial and generated columns take their default."""
    rows = conn.execute("SELECT column_name, column_default, is_identity, is_generated FROM information_schema.columns "
                        "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
                        (table,)).fetchall()
    if not rows:
        raise SystemExit(f"no table {table}")
    columns, values = [], []
    for name, default, identity, generated in rows:
        if name not in varied and (generated == "ALWAYS" or identity == "YES" or "nextval(" in (default or "")):
            continue
        columns.append(f'"{name}"')
        values.append(varied.get(name, f't."{name}"'))
    missing = set(varied) - {r[0] for r in rows}
    if missing:  # a column this benchmark varies was dropped or renamed: say so rather than guess
        raise SystemExit(f"{table} has no column {', '.join(sorted(missing))}: update bench/data_scale.py")
    return (f'INSERT INTO "{table}" ({", ".join(columns)}) SELECT {", ".join(values)} FROM {source}, '
            f'(SELECT * FROM "{table}" WHERE {template} LIMIT 1) AS t')


# A read's statements as its service sends them (`_captured`), with their parameters.
Statements = list[tuple[str, dict[str, Any]]]
Explainer = Callable[["Databases"], Coroutine[Any, Any, Statements]]


# -- the databases ------------------------------------------------------------------------------

@dataclass
class Databases:
    server: str
    prefix: str

    def url(self, service: str) -> str:
        return f"{self.server.rstrip('/')}/{self.prefix}{service}"

    def connect(self, service: str) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url(service), autocommit=True)


@dataclass
class Templates:
    user_id: uuid.UUID
    address_id: uuid.UUID
    order_id: uuid.UUID
    item_id: uuid.UUID
    history_id: int
    ledger_id: uuid.UUID
    product_id: str


def _seeded(conn: psycopg.Connection[Any], table: str, kind: str) -> int:
    """How many rows of `kind` are seeded: indexes run 1..n without a gap, so a binary search on
    the primary key of `_uuid(kind, i)` finds n in ~25 lookups."""
    def exists(i: int) -> bool:
        row = conn.execute(f'SELECT EXISTS (SELECT 1 FROM "{table}" WHERE id = md5(%s)::uuid)',
                           (f"bench-{kind}-{i}",)).fetchone()
        return bool(row and row[0])

    if not exists(1):
        return 0
    low, high = 1, 2
    while exists(high):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if exists(middle) else (low, middle)
    return low


def _chunks(start: int, stop: int, size: int) -> list[tuple[int, int]]:
    return [(a, min(a + size - 1, stop)) for a in range(start, stop + 1, size)]


def _say(message: str) -> None:
    print(message, flush=True)


def grow(dbs: Databases, templates: Templates, scale: float, anchor: datetime) -> None:
    """Grow every table to `scale`; what is already there stays."""
    t1 = anchor
    t0 = anchor - timedelta(days=730)
    want = {name: max(1, round(count * scale)) for name, count in FULL.items()}
    with dbs.connect("identity") as conn:
        have = _seeded(conn, "user", "user")
        if have < want["customers"]:
            started = time.perf_counter()
            users = clone_statement(conn, "user", f"id = '{templates.user_id}'", _user_series(), {
                "id": "g.id", "email": "g.email", "first_name": "g.first_name", "last_name": "g.last_name",
                "username": "NULL", "display_name": "NULL", "phone": "NULL", "company_name": "NULL",
                "is_staff": "false", "staff_roles": "'[]'::jsonb", "is_active": "true",
                "signup_storefront": "g.storefront", "email_verified_at": "g.created_at + interval '10 minutes'",
                "last_login_at": "NULL", "created_at": "g.created_at", "updated_at": "g.created_at"})
            book = clone_statement(conn, "address_book", f"owner_id = (SELECT owner_id FROM address WHERE id = "
                                   f"'{templates.address_id}')", _user_series(),
                                   {"owner_id": "g.id", "created_at": "g.created_at"})
            address = clone_statement(conn, "address", f"id = '{templates.address_id}'", _user_series(), {
                "id": "gen_random_uuid()", "owner_id": "g.id", "first_name": "g.first_name",
                "last_name": "g.last_name", "email": "g.email", "is_primary": "true",
                "created_at": "g.created_at", "updated_at": "g.created_at"})
            for a, b in _chunks(have + 1, want["customers"], 100_000):
                with conn.transaction():
                    for statement in (users, book, address):
                        conn.execute(statement, {"start": a, "stop": b, "t1": t1})
            _say(f"  customers: {have:,} → {want['customers']:,} in {time.perf_counter() - started:.1f} s")
        _vacuum(conn, ("user", "address_book", "address"))
    with dbs.connect("orders") as conn:
        have = _seeded(conn, "customer_order", "order")
        started = time.perf_counter()
        template = {"customer_order": f"id = '{templates.order_id}'", "order_item": f"id = '{templates.item_id}'",
                    "order_status_history": f"id = {templates.history_id}"}
        steps = []
        for probe in (False, True):
            steps.append([
                clone_statement(conn, "customer_order", template["customer_order"], _order_series(probe),
                                _vary_order(probe)),
                clone_statement(conn, "order_item", template["order_item"], _item_series(probe), _vary_item()),
                clone_statement(conn, "order_status_history", template["order_status_history"],
                                _history_series(probe), _vary_history())])
        params = {"customers": want["customers"], "t0": t0, "t1": t1}
        if have < want["orders"]:
            for a, b in _chunks(have + 1, want["orders"], 50_000):
                with conn.transaction():
                    for statement in steps[0]:
                        conn.execute(statement, {**params, "start": a, "stop": b, "first": have + 1,
                                                 "last": want["orders"]})
                _say(f"  orders: {b:,} of {want['orders']:,} ({time.perf_counter() - started:.0f} s)")
        if not _seeded(conn, "customer_order", "probe-order"):
            with conn.transaction():
                for statement in steps[1]:
                    conn.execute(statement, {**params, "start": 1, "stop": HEAVY_ORDERS, "first": 1,
                                             "last": HEAVY_ORDERS})
        _vacuum(conn, ("customer_order", "order_item", "order_status_history"))
    with dbs.connect("payments") as conn:
        have = _seeded(conn, "ledger_entry", "ledger")
        started = time.perf_counter()
        params = {"customers": want["customers"], "orders": want["orders"], "t0": t0, "t1": t1}
        ledger = f"id = '{templates.ledger_id}'"
        if have < want["ledger"]:
            statement = clone_statement(conn, "ledger_entry", ledger, _ledger_series(False), _vary_ledger(False))
            for a, b in _chunks(have + 1, want["ledger"], 200_000):
                conn.execute(statement, {**params, "start": a, "stop": b, "first": have + 1, "last": want["ledger"]})
                _say(f"  ledger: {b:,} of {want['ledger']:,} ({time.perf_counter() - started:.0f} s)")
        if not _seeded(conn, "ledger_entry", "probe-ledger"):
            conn.execute(clone_statement(conn, "ledger_entry", ledger, _ledger_series(True), _vary_ledger(True)),
                         {**params, "start": 1, "stop": HEAVY_LEDGER, "first": 1, "last": HEAVY_LEDGER})
        _vacuum(conn, ("ledger_entry",))
    catalog = dbs.url("catalog").replace("postgresql://", "postgresql+psycopg://", 1)
    asyncio.run(grow_catalog(catalog, want["products"]))


def _vacuum(conn: psycopg.Connection[Any], tables: tuple[str, ...]) -> None:
    """VACUUM ANALYZE: fresh statistics, and a visibility map for index-only scans, as autovacuum
    keeps a table that grew over two years."""
    for table in tables:
        conn.execute(f'VACUUM ANALYZE "{table}"')


# -- templates: real rows, made through the API -------------------------------------------------

def make_templates(client: httpx.Client, dbs: Databases, staff: dict[str, str]) -> Templates:
    """A registered customer with an address, and a guest's order paid through the local provider:
    the rows every table is cloned from. Made once per set of databases (found again with --keep)."""
    with dbs.connect("orders") as conn:
        row = conn.execute("SELECT id FROM customer_order WHERE email = %s AND status = 'paid' LIMIT 1",
                           (TEMPLATE_GUEST_EMAIL,)).fetchone()
    if row is None:
        _place_template_order(client, staff)
    with dbs.connect("identity") as conn:
        if conn.execute('SELECT 1 FROM "user" WHERE email = %s', (TEMPLATE_EMAIL,)).fetchone() is None:
            client.post("/api/v1/auth/register", json={
                "email": TEMPLATE_EMAIL, "password": PASSWORD, "password_confirm": PASSWORD,
                "first_name": "Template", "last_name": "Customer"}).raise_for_status()
    deadline = time.monotonic() + 120
    while True:
        with dbs.connect("identity") as identity, dbs.connect("orders") as orders, dbs.connect("payments") as payments:
            user = identity.execute('SELECT id FROM "user" WHERE email = %s', (TEMPLATE_EMAIL,)).fetchone()
            address = identity.execute("SELECT id FROM address WHERE email = %s LIMIT 1",
                                       (TEMPLATE_GUEST_EMAIL,)).fetchone()
            order = orders.execute("SELECT id FROM customer_order WHERE email = %s AND status = 'paid' LIMIT 1",
                                   (TEMPLATE_GUEST_EMAIL,)).fetchone()
            item = history = ledger = None
            if order:
                item = orders.execute("SELECT id, product_id FROM order_item WHERE order_id = %s ORDER BY position "
                                      "LIMIT 1", (order[0],)).fetchone()
                history = orders.execute("SELECT min(id) FROM order_status_history WHERE order_id = %s",
                                         (order[0],)).fetchone()
                ledger = payments.execute("SELECT id FROM ledger_entry WHERE order_id = %s AND kind = 'payment'",
                                          (order[0],)).fetchone()
        if user and address and order and item and history and history[0] and ledger:
            return Templates(user_id=user[0], address_id=address[0], order_id=order[0], item_id=item[0],
                             history_id=history[0], ledger_id=ledger[0], product_id=str(item[1]))
        if time.monotonic() > deadline:
            raise SystemExit("the template rows did not all appear within 120 s (user, address, paid order, "
                             f"item, history, ledger line): {user, address, order, item, history, ledger}")
        time.sleep(0.5)


def _product(client: httpx.Client, staff: dict[str, str]) -> str:
    """The product the API's orders buy (enough stock for every run): created once."""
    found = client.get("/api/v1/products", params={"search": "Data scale slab", "limit": 1}).json()["results"]
    if found:
        return str(found[0]["id"])
    response = client.post("/api/v1/products", headers=staff, json={
        "name": "Data scale slab", "sku": f"DATASCALE-{uuid.uuid4().hex[:8]}", "price": "25.00",
        "stock_quantity": 10_000_000, "kind": "physical", "description": "Benchmark product"})
    response.raise_for_status()
    return str(response.json()["id"])


def _guest_ready(client: httpx.Client, product_id: str, email: str) -> tuple[dict[str, str], str]:
    """A new guest with one line in the cart and a shipping address: its headers and address id."""
    client.cookies.clear()
    token = client.get("/api/v1/cart").headers["x-anonymous-token"]
    headers = {"X-Anonymous-Token": token}
    client.post("/api/v1/cart/items", headers=headers, json={"product_id": product_id, "quantity": 1}).raise_for_status()
    address = client.post("/api/v1/addresses", headers=headers, json={**ADDRESS, "email": email})
    address.raise_for_status()
    return headers, str(address.json()["id"])


def _place_template_order(client: httpx.Client, staff: dict[str, str]) -> None:
    product_id = _product(client, staff)
    headers, address_id = _guest_ready(client, product_id, TEMPLATE_GUEST_EMAIL)
    order = client.post("/api/v1/orders", headers=headers, json={"shipping_address_id": address_id,
                                                                  "email": TEMPLATE_GUEST_EMAIL})
    order.raise_for_status()
    order_id = order.json()["id"]
    session = client.post("/api/v1/payments/checkout", headers=headers, json={
        "order_id": order_id, "success_url": "http://localhost/ok", "cancel_url": "http://localhost/no"})
    session.raise_for_status()
    client.post(f"{session.json()['checkout_url']}/pay", headers={"Accept": "application/json"}).raise_for_status()
    client.cookies.clear()


# -- measuring ----------------------------------------------------------------------------------

@dataclass
class Page:
    name: str
    path: str
    who: str  # staff, customer or anyone
    explain: Explainer | None = None

    @property
    def service(self) -> str:
        return "payments" if self.path.startswith("/api/v1/staff/ledger") else "orders"


@dataclass
class Figures:
    reads: dict[str, dict[str, float]] = field(default_factory=dict)
    writes: dict[str, dict[str, float]] = field(default_factory=dict)
    housekeeping: dict[str, float] = field(default_factory=dict)


def _login(client: httpx.Client, email: str, password: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    response.raise_for_status()
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['access']}"}


def pages(dbs: Databases, anchor: datetime) -> list[Page]:
    """The reads, with what each one asks; ids and numbers found in the seeded data."""
    with dbs.connect("orders") as conn:
        middle = _seeded(conn, "customer_order", "order") // 2
        row = conn.execute("SELECT order_number FROM customer_order WHERE id = md5(%s)::uuid",
                           (f"bench-order-{middle}",)).fetchone()
    number = row[0] if row else "ORD-20260101-AAAAAA"
    heavy = uuid.UUID(hashlib.md5(b"bench-user-1").hexdigest())  # PostgreSQL's md5('bench-user-1')::uuid
    regular_email = "customer2@example.net"  # customer 2 is one of the regulars (mod(2, 4) → the third domain)
    day = (anchor - timedelta(days=100)).replace(hour=0, minute=0, second=0, microsecond=0)
    window = {"created_after": day.strftime("%Y-%m-%dT%H:%M:%SZ"),
              "created_before": (day + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    return [
        Page("orders: staff, by e-mail", "/api/v1/staff/orders?" + urlencode({"email": regular_email}), "staff",
             _explain_orders_search(email=regular_email)),
        Page("orders: staff, by number", "/api/v1/staff/orders?" + urlencode({"number": number}), "staff",
             _explain_orders_search(number=number)),
        Page("orders: staff, one day", "/api/v1/staff/orders?" + urlencode(window), "staff",
             _explain_orders_search(created_after=day, created_before=day + timedelta(days=1))),
        Page("orders: staff, no filter", "/api/v1/staff/orders", "staff", _explain_orders_search()),
        Page("orders: customer history", "/api/v1/orders", "customer", _explain_history(heavy)),
        Page("ledger: staff, no filter", "/api/v1/staff/ledger", "staff", _explain_ledger()),
        Page("ledger: staff, by customer", "/api/v1/staff/ledger?" + urlencode({"customer": str(heavy)}), "staff",
             _explain_ledger(customer=heavy)),
        Page("ledger: staff, shop payments, one day",
             "/api/v1/staff/ledger?" + urlencode({"storefront": "shop", "kind": "payment", **window}), "staff",
             _explain_ledger(storefront="shop", kind="payment", created_after=day,
                             created_before=day + timedelta(days=1))),
        Page("catalog: list page", "/api/v1/products?limit=20", "anyone"),
        Page("catalog: category page", "/api/v1/products?category=natural-stone&ordering=-price&limit=20&offset=100",
             "anyone"),
    ]


def measure_reads(base: str, read_pages: list[Page], headers: dict[str, dict[str, str]], seconds: int,
                  concurrency: int) -> dict[str, dict[str, float]]:
    # wrk's own 2 s timeout would drop the slowest requests from the figures, the very ones looked for.
    load = partial(wrk, timeout_seconds=60) if shutil.which("wrk") else python_load
    out = {}
    for page in read_pages:
        sent = headers[page.who]
        first = httpx.get(base + page.path, headers=sent, timeout=60)
        first.raise_for_status()
        load(base + page.path, 2, concurrency, sent)  # warm: prepared statements, the pages in the cache
        figures = load(base + page.path, seconds, concurrency, sent)
        figures["count"] = first.json().get("count", 0)
        out[page.name] = figures
        _say(f"  {page.name:40s} p50 {figures['p50_ms']:7.2f} ms  p99 {figures['p99_ms']:7.2f} ms "
             f"{figures['rps']:7.0f} req/s  errors {figures['errors']}  ({figures['count']:,} found)")
    return out


async def _placements(base: str, product_id: str, count: int, parallel: int) -> dict[str, float]:
    """`count` guest orders, `parallel` at a time; each guest's cart and address are made first,
    only the POST /orders is timed."""
    timings: list[float] = []
    failed = 0
    queue = list(range(count))

    async def guest(client: httpx.AsyncClient) -> None:
        nonlocal failed
        while queue:
            queue.pop()
            client.cookies.clear()
            try:
                token = (await client.get("/api/v1/cart")).headers["x-anonymous-token"]
                headers = {"X-Anonymous-Token": token}
                (await client.post("/api/v1/cart/items", headers=headers,
                                   json={"product_id": product_id, "quantity": 1})).raise_for_status()
                email = f"placement-{uuid.uuid4().hex[:10]}@example.com"
                address = await client.post("/api/v1/addresses", headers=headers, json={**ADDRESS, "email": email})
                address.raise_for_status()
                started = time.perf_counter()
                placed = await client.post("/api/v1/orders", headers=headers,
                                           json={"shipping_address_id": address.json()["id"], "email": email})
                elapsed = time.perf_counter() - started
                placed.raise_for_status()
                timings.append(elapsed)
            except httpx.HTTPError:
                failed += 1

    async with httpx.AsyncClient(base_url=base, timeout=60) as first:
        await guest_once(first, product_id)  # warm the path
    clients = [httpx.AsyncClient(base_url=base, timeout=60) for _ in range(parallel)]
    started = time.perf_counter()
    try:
        await asyncio.gather(*(guest(client) for client in clients))
    finally:
        for client in clients:
            await client.aclose()
    elapsed = time.perf_counter() - started
    if len(timings) < 2:
        raise SystemExit(f"order placements failed ({failed} of {count})")
    q = statistics.quantiles(timings, n=100)
    return {"p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000, "rps": len(timings) / elapsed, "errors": failed,
            "count": len(timings)}


async def guest_once(client: httpx.AsyncClient, product_id: str) -> None:
    token = (await client.get("/api/v1/cart")).headers["x-anonymous-token"]
    headers = {"X-Anonymous-Token": token}
    await client.post("/api/v1/cart/items", headers=headers, json={"product_id": product_id, "quantity": 1})
    address = (await client.post("/api/v1/addresses", headers=headers,
                                 json={**ADDRESS, "email": "warm@example.com"})).json()
    await client.post("/api/v1/orders", headers=headers, json={"shipping_address_id": address["id"]})


_PASS = re.compile(r"housekeeping of (\S+) removed (\d+) rows in ([\d.]+)s")


def housekeeping_pass(env: dict[str, str], service: str, passes: int = 3, timeout: float = 900) -> tuple[float, int]:
    """`passes` housekeeping passes of `service` back to back, as its housekeeping role runs them:
    the quickest one's seconds (a pass is timed once each; on a shared machine the quickest is the
    nearest to its cost) and the rows the first removed. Each pass's own log line is read; the
    process's start is not counted."""
    from atelier_platform.processes import CLI

    env = {**env, "ATELIER_HOUSEKEEPING_START_DELAY_SECONDS": "0", "ATELIER_HOUSEKEEPING_INTERVAL_SECONDS": "0.01",
           "ATELIER_LOG_LEVEL": "INFO", "ATELIER_LOG_JSON": "false"}
    proc = subprocess.Popen([*CLI, "worker", service, "--role", "housekeeping"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    seen: list[tuple[float, int]] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if (found := _PASS.search(line)) and found.group(1) == service:
                seen.append((float(found.group(3)), int(found.group(2))))
                if len(seen) == passes:
                    return min(t for t, _ in seen), seen[0][1]
        raise SystemExit(f"{service}'s housekeeping printed {len(seen)} passes of {passes} within {timeout:.0f} s "
                         f"(exit {proc.poll()})")
    finally:
        timer.cancel()
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- EXPLAIN: the services' own statements, captured -------------------------------------------

async def _captured(url: str, service: str, call: Callable[[Any], Awaitable[object]]) -> Statements:
    """Run `call(session)` (a queries module's read) on `url` and return the statements it sent,
    with their parameters."""
    from sqlalchemy import event

    from atelier_common.db import Database

    db = Database(url.replace("postgresql://", "postgresql+psycopg://", 1), service=service)
    sent: Statements = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        sent.append((statement, dict(parameters or {})))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with db.read_only() as session:
            await call(session)
    finally:
        await db.dispose()
    return sent


def _explain_orders_search(**where: Any) -> Explainer:
    async def statements(dbs: Databases) -> Statements:
        from atelier_orders.domain import StaffOrderFilter
        from atelier_orders.queries import OrderQueries

        async def call(session: Any) -> None:
            await OrderQueries(session).search(StaffOrderFilter(**where), limit=20, offset=0)

        return await _captured(dbs.url("orders"), "orders", call)

    return statements


def _explain_history(owner: uuid.UUID) -> Explainer:
    async def statements(dbs: Databases) -> Statements:
        from atelier_orders.domain import parse_ordering
        from atelier_orders.queries import OrderQueries

        ordering = parse_ordering(None)  # the route's default, newest first
        assert ordering is not None

        async def call(session: Any) -> None:
            await OrderQueries(session).list(owner_id=owner, status=None, ordering=ordering, limit=20, offset=0,
                                             storefront="default")

        return await _captured(dbs.url("orders"), "orders", call)

    return statements


def _explain_ledger(**where: Any) -> Explainer:
    async def statements(dbs: Databases) -> Statements:
        from atelier_payments.queries import PaymentQueries
        from atelier_payments.schemas import StaffLedgerQuery

        async def call(session: Any) -> None:
            await PaymentQueries(session).ledger_search(StaffLedgerQuery(**where), limit=20, offset=0)

        return await _captured(dbs.url("payments"), "payments", call)

    return statements


def buffers(dbs: Databases, page: Page) -> float:
    """The 8 kB pages the read's statements touch (shared hit + read, planning left out): what the
    read costs the database, whatever else runs on the machine. NaN without a statement mapping."""
    if page.explain is None:
        return float("nan")
    total = 0
    with dbs.connect(page.service) as conn:
        for statement, parameters in asyncio.run(page.explain(dbs)):
            if statement.startswith("EXPLAIN"):  # a count estimate (atelier_common.counting): reads no rows
                continue
            row = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters).fetchone()
            plan = row[0][0]["Plan"] if row else {}
            total += plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0)
    return float(total)


def explain(dbs: Databases, page: Page) -> None:
    _say(f"\n== {page.name}: GET {page.path}")
    if page.explain is None:
        _say("   (no statement mapping here: see the service's queries module)")
        return
    statements = asyncio.run(page.explain(dbs))
    with dbs.connect(page.service) as conn:
        for statement, parameters in statements:
            _say("\n" + statement.strip())
            for (line,) in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).fetchall():
                _say("   " + line)


# -- the run ------------------------------------------------------------------------------------

def _ratio(small: float, large: float) -> float:
    if small != small or large != large:  # NaN: not measured
        return float("nan")
    return large / small if small > 0 else float("inf")


def report(scales: list[float], figures: dict[float, Figures], read_pages: list[Page]) -> list[str]:
    """Print the table; return the names of the flagged reads. Flatness is judged on the p50 and
    on the pages the statements touch ('buffers', from EXPLAIN): on a shared machine one stall
    moves a p99 more than data does, and buffers do not depend on the machine at all."""
    small, large = figures[scales[0]], figures[scales[-1]]
    flagged: list[str] = []
    nan = float("nan")
    _say(f"\n{'':38} {'scale ' + format(scales[0], 'g'):>31} {'scale ' + format(scales[-1], 'g'):>31}"
         f"\n{'measurement':38} {'p50':>6} {'p99':>7} {'found':>8} {'buffers':>8} {'p50':>6} {'p99':>7} {'found':>8}"
         f" {'buffers':>8}   {'ratio p50':>9} {'p99':>6} {'buffers':>7}  flag")

    def row(name: str, s: dict[str, float], b: dict[str, float], read: bool) -> bool:
        r50, r99 = _ratio(s["p50_ms"], b["p50_ms"]), _ratio(s["p99_ms"], b["p99_ms"])
        rbuf = _ratio(s.get("buffers", nan), b.get("buffers", nan))
        flags = [f"p99 > {P99_LIMIT_MS:.0f} ms"] if read and max(s["p99_ms"], b["p99_ms"]) > P99_LIMIT_MS else []
        flags += [f"p50 ratio > {RATIO_LIMIT:g}"] if r50 > RATIO_LIMIT else []
        flags += [f"buffers ratio > {RATIO_LIMIT:g}"] if rbuf > RATIO_LIMIT else []
        # A failed request is answered early: its latency is not the read's.
        flags += [f"{s['errors'] + b['errors']:.0f} errors (figures invalid)"] if s["errors"] or b["errors"] else []
        _say(f"{name:38} {s['p50_ms']:6.1f} {s['p99_ms']:7.1f} {s['count']:8.0f} {s.get('buffers', nan):8.0f}"
             f" {b['p50_ms']:6.1f} {b['p99_ms']:7.1f} {b['count']:8.0f} {b.get('buffers', nan):8.0f}"
             f"   {r50:9.2f} {r99:6.2f} {rbuf:7.2f}  {', '.join(flags)}")
        return bool(flags)

    for page in read_pages:
        if row(page.name, small.reads[page.name], large.reads[page.name], read=True):
            flagged.append(page.name)
    for name in large.writes:
        row(name, small.writes[name], large.writes[name], read=False)
    for service in large.housekeeping:
        # The pass's log line counts in 10 ms; a pass under HOUSEKEEPING_FLOOR_MS is no concern.
        s_ms, b_ms = (max(f.housekeeping[service] * 1000, HOUSEKEEPING_FLOOR_MS) for f in (small, large))
        ratio = b_ms / s_ms
        _say(f"{'housekeeping pass: ' + service:38} {small.housekeeping[service] * 1000:6.0f} {'':7} {'':8} {'':8}"
             f" {large.housekeeping[service] * 1000:6.0f} {'':7} {'':8} {'':8}   {ratio:9.2f}"
             f"{'':16}{f'  ratio > {RATIO_LIMIT:g}' if ratio > RATIO_LIMIT else ''}")
    _say(f"(ms. Reads: wrk through the gateway, 'found' the page's count, 'buffers' the pages its statements touch "
         f"(EXPLAIN; nan: no mapping here); flagged when p99 > {P99_LIMIT_MS:.0f} ms or a ratio > {RATIO_LIMIT:g}. "
         f"Placements: guests' POST /orders. Housekeeping: the quickest of 3 passes, in the p50 column; under "
         f"{HOUSEKEEPING_FLOOR_MS:.0f} ms counts as {HOUSEKEEPING_FLOOR_MS:.0f} in its ratio)")
    return flagged


def main() -> None:
    parser = command_line(__doc__)
    parser.add_argument("--scale", type=float, nargs="+", default=[0.1, 1.0],
                        help="sizes to measure at, smallest first (1.0: 1M customers, 5M orders, 10M ledger lines, "
                             "1M products)")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--placements", type=int, default=200, help="guest orders placed at each size")
    parser.add_argument("--parallel", type=int, default=4, help="placements at a time")
    parser.add_argument("--keep", metavar="NAME", help="keep (and reuse, growing) databases named atelier_NAME_*")
    parser.add_argument("--explain", action="store_true",
                        help="EXPLAIN (ANALYZE, BUFFERS) the statements behind each flagged read")
    args = parser.parse_args()
    if args.scale != sorted(args.scale):
        raise SystemExit("--scale: smallest first (the databases only grow)")

    trial = Run.new("data", name=args.keep)
    prefix = trial.prefix
    dbs = Databases(args.postgres, prefix)
    gateway = trial.url
    topology = trial.topology(args.postgres, args.amqp, split=False, env={
        "ATELIER_DEV_ENDPOINTS": "true",  # the local provider's checkout page (the template order)
        "ATELIER_PUBLIC_BASE_URL": gateway,
        "ATELIER_ACCESS_LOG": "false",
        # Every read from the database, none from the gateway's cache.
        "ATELIER_CACHE_ENABLED": "false",
        "ATELIER_CATALOG_RESERVATION_SWEEP_SECONDS": "0",
        # Housekeeping runs when this script times it, not in the middle of a load.
        "ATELIER_HOUSEKEEPING_START_DELAY_SECONDS": "86400",
        "ATELIER_GATEWAY_RATE_LIMIT_DEFAULT": "1000000000/hour",
        "ATELIER_GATEWAY_RATE_LIMIT_PER_IP": "1000000000/hour",
        # One staff member makes every staff read: ~20,000 of them at 0.1 already.
        "ATELIER_GATEWAY_RATE_LIMIT_STAFF": "1000000000/hour",
        "ATELIER_GATEWAY_RATE_LIMIT_CREDENTIALS_PER_IP": "1000000000/minute",
        "ATELIER_IDENTITY_PASSWORD_HASH_TIME_COST": "1",
        "ATELIER_IDENTITY_PASSWORD_HASH_MEMORY_COST_KIB": "1024",
    })
    # The seeded days end before today: the API's orders are numbered today.
    anchor = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    figures: dict[float, Figures] = {}
    read_pages: list[Page] = []
    with trial.cleanup(args.postgres, args.amqp, topology, keep=bool(args.keep)):
        topology.prepare()
        topology.start()
        if not topology.wait_ready(240):
            raise SystemExit("the platform did not become healthy")
        with httpx.Client(base_url=gateway, timeout=60) as client:
            staff = _login(client, STAFF_EMAIL, STAFF_PASSWORD)
            templates = make_templates(client, dbs, staff)
        for scale in args.scale:
            started = time.perf_counter()
            _say(f"scale {scale}: growing the databases")
            grow(dbs, templates, scale, anchor)
            _say(f"  grown in {time.perf_counter() - started:.0f} s")
            read_pages = pages(dbs, anchor)
            with httpx.Client(base_url=gateway, timeout=60) as client:
                headers = {"staff": _login(client, STAFF_EMAIL, STAFF_PASSWORD),
                           "customer": _login(client, HEAVY_EMAIL, PASSWORD),
                           "anyone": {"X-Anonymous-Token": client.get("/api/v1/cart").headers["x-anonymous-token"]}}
            _say(f"scale {scale}, through the gateway, {args.concurrency} connections, {args.seconds} s each:")
            result = Figures(reads=measure_reads(gateway, read_pages, headers, args.seconds, args.concurrency))
            for page in read_pages:
                result.reads[page.name]["buffers"] = buffers(dbs, page)
            placed = asyncio.run(_placements(gateway, templates.product_id, args.placements, args.parallel))
            result.writes["order placement (POST /orders)"] = placed
            _say(f"  order placement: p50 {placed['p50_ms']:.1f} ms  p99 {placed['p99_ms']:.1f} ms "
                 f"({placed['count']:.0f} placed, {placed['errors']:.0f} failed, {args.parallel} at a time)")
            for service in SERVICES:
                seconds, removed = housekeeping_pass(topology.env(), service)
                result.housekeeping[service] = seconds
                _say(f"  housekeeping of {service}: a pass in {seconds * 1000:.0f} ms, the quickest of three "
                     f"({removed} rows removed by the first)")
            figures[scale] = result
        flagged = report(args.scale, figures, read_pages) if len(args.scale) > 1 else []
        if args.explain:
            for page in read_pages:
                if page.name in flagged:
                    explain(dbs, page)


if __name__ == "__main__":
    main()
