"""`atelier import`: a product's Django `manage.py dumpdata` JSON, read with that product's own
app labels and fields, handed to the owning services' import entry points.

A profile only translates rows (`<app>.<model>` → each service's import schema); the rules, the
source-key table and the writes are the services' (`atelier_identity.imports`,
`atelier_catalog.imports`). Rows that cannot be read are refused here with their model, pk and
reason, and the rest go on.
"""

from __future__ import annotations

import json
import reprlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from atelier_catalog.imports import ImportedCategory, ImportedImage, ImportedProduct
from atelier_common.imports import DUPLICATE_KEY, RowOutcome, repeated
from atelier_generation.imports import (
    ImportedBook,
    ImportedCredits,
    ImportedItem,
    ImportedRestoration,
    ImportedVersion,
)
from atelier_identity.imports import ImportedAddress, ImportedUser
from atelier_orders.imports import ImportedLine, ImportedOrder, ImportedStatus

# Django's own tables and the product's single-use tokens: nothing of theirs moves.
NOT_CARRIED = ("auth.", "contenttypes.", "sessions.", "admin.", "authtoken.", "token_blacklist.")


class DumpUnreadable(Exception):
    """The file is not a dumpdata list (malformed JSON, or another shape)."""


@dataclass
class Batch:
    """What a profile read from a dump, per owning service, and what it refused on the way."""

    users: list[ImportedUser] = field(default_factory=list)
    addresses: list[ImportedAddress] = field(default_factory=list)
    categories: list[ImportedCategory] = field(default_factory=list)
    products: list[ImportedProduct] = field(default_factory=list)
    # Owned by a source user: the CLI fills in the account each user became before handing them on.
    credits: list[ImportedCredits] = field(default_factory=list)
    books: list[ImportedBook] = field(default_factory=list)
    orders: list[ImportedOrder] = field(default_factory=list)
    restorations: list[ImportedRestoration] = field(default_factory=list)
    refused: list[RowOutcome] = field(default_factory=list)

    @property
    def size(self) -> int:
        return (len(self.users) + len(self.addresses) + len(self.categories) + len(self.products)
                + len(self.credits) + len(self.books) + len(self.orders) + len(self.restorations))

    def owned(self) -> list[ImportedCredits | ImportedBook | ImportedOrder | ImportedRestoration]:
        return [*self.credits, *self.books, *self.orders, *self.restorations]


# A dumpdata file is a list of rows of fields; a JSONField's value nests further, never this far.
# Deeper JSON would fail later (Python's recursion limit: in the parser, or reading a value) as a
# traceback: it is refused whole, like malformed JSON.
MAX_DUMP_DEPTH = 64


def read_dump(path: Path) -> Any:
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DumpUnreadable(f"cannot read {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise DumpUnreadable(f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    except RecursionError as exc:
        raise DumpUnreadable(f"JSON nested deeper than {MAX_DUMP_DEPTH} levels") from exc
    if _deeper_than(rows, MAX_DUMP_DEPTH):
        raise DumpUnreadable(f"JSON nested deeper than {MAX_DUMP_DEPTH} levels")
    return rows


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether `value` nests lists and objects past `limit` levels (iteratively: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            stack.extend((inner, depth + 1) for inner in (item.values() if isinstance(item, dict) else item))
    return False


def _flag(fields: dict[str, Any], name: str, default: bool | None = False) -> bool:
    """A BooleanField as dumpdata writes it: true or false (0 or 1 from a hand-made export; null or
    absent is `default`, and None means the field is required). Anything else refuses the row
    rather than read truthiness into it: `"false"` and `"no"` are not staff."""
    value = fields[name] if default is None else fields.get(name)
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or (type(value) is int and value in (0, 1)):
        return bool(value)
    raise ValueError(f"{name} must be true or false, not {reprlib.repr(value)}")


def _staff(fields: dict[str, Any]) -> bool:
    """Django's staff or superuser flag (each one read, so a bad one refuses the row either way)."""
    staff, superuser = _flag(fields, "is_staff"), _flag(fields, "is_superuser")
    return staff or superuser


# -- marbelle (KiroVasilovski/marbelle, backend/{users,products}/models.py) -----------------------

def _marbelle_user(pk: str, f: dict[str, Any]) -> ImportedUser:
    # Marbelle keeps a new account inactive until its email is verified (users/serializers.py):
    # `is_active` is its verified flag, and the account is active here either way.
    return ImportedUser(source_pk=pk, email=f["email"], password_hash=f["password"] or None,
                        first_name=f.get("first_name") or "", last_name=f.get("last_name") or "",
                        phone=f.get("phone") or None, company_name=f.get("company_name") or None,
                        is_staff=_staff(f), is_active=True,
                        email_verified=_flag(f, "is_active", None), joined_at=f.get("date_joined"))


def _marbelle_address(pk: str, f: dict[str, Any]) -> ImportedAddress:
    return ImportedAddress(source_pk=pk, user_source_pk=str(f["user"]), label=f["label"],
                           first_name=f["first_name"], last_name=f.get("last_name") or "",
                           company=f.get("company") or None, address_line_1=f["address_line_1"],
                           address_line_2=f.get("address_line_2") or None, city=f["city"],
                           state=f.get("state") or "", postal_code=f.get("postal_code") or "",
                           country=f["country"], phone=f.get("phone") or None,
                           is_primary=_flag(f, "is_primary"))


def _marbelle_category(pk: str, f: dict[str, Any]) -> ImportedCategory:
    return ImportedCategory(source_pk=pk, name=f["name"], description=f.get("description") or "",
                            is_active=_flag(f, "is_active", True))


def _marbelle_product(pk: str, f: dict[str, Any], currency: str) -> ImportedProduct:
    return ImportedProduct(source_pk=pk, category_source_pk=str(f["category"]), name=f["name"], sku=f["sku"],
                           description=f.get("description") or "", price=Decimal(str(f["price"])),
                           currency=currency, stock_quantity=int(f.get("stock_quantity") or 0),
                           is_active=_flag(f, "is_active", True),
                           attributes={"unit_of_measure": f["unit_of_measure"]})


def _image_url(name: str, media_url: str) -> str:
    """An ImageField/CloudinaryField value is a name under the product's media root."""
    if name.startswith(("http://", "https://")):
        return name
    return f"{media_url.rstrip('/')}/{name.lstrip('/')}"


def read_marbelle(rows: Iterable[Any], *, currency: str = "USD", media_url: str = "/media") -> Batch:
    images: dict[str, list[ImportedImage]] = {}

    def image(pk: str, f: dict[str, Any]) -> None:
        images.setdefault(str(f["product"]), []).append(ImportedImage(
            url=_image_url(f["image"], media_url), alt_text=f.get("alt_text") or "",
            display_order=int(f.get("display_order") or 0), is_primary=_flag(f, "is_primary")))

    lines: dict[str, list[tuple[str, dict[str, Any]]]] = {}

    def order(pk: str, f: dict[str, Any]) -> ImportedOrder:
        # marbelle keeps no history, addresses or number of its own on an order: its id is its number.
        return ImportedOrder(source_pk=pk, owner_source_pk=str(f["user"]), number=f"MB-{pk}",
                             status=f["status"], currency=currency, total_amount=Decimal(str(f["total_amount"])),
                             created_at=f.get("created_at"), updated_at=f.get("updated_at"))

    def line(pk: str, f: dict[str, Any]) -> None:
        lines.setdefault(str(f["order"]), []).append((pk, {
            "product_source_pk": str(f["product"]), "quantity": int(f["quantity"]),
            "unit_price": Decimal(str(f["unit_price"]))}))

    batch = _read(rows, "marbelle", {
        "users.user": _marbelle_user, "users.address": _marbelle_address, "products.category": _marbelle_category,
        "products.product": lambda pk, f: _marbelle_product(pk, f, currency), "products.productimage": image,
        "orders.order": order, "orders.orderitem": line})
    _attach_lines(batch, lines, "orders.orderitem")
    for product in batch.products:
        product.images = sorted(images.pop(product.source_pk, []), key=lambda found: found.display_order)
    for product_pk, orphans in images.items():
        batch.refused.extend(RowOutcome("products.productimage", "?", "refused",
                                        f"its product {product_pk} is not in the dump") for _ in orphans)
    return batch


def _attach_lines(batch: Batch, lines: dict[str, list[tuple[str, dict[str, Any]]]], model: str) -> None:
    """Each order's lines, read from their own rows; a line names its product by its source key and
    takes the product's name and SKU from the dump (the product moved in with it), as its snapshot."""
    products = {product.source_pk: product for product in batch.products}
    emails = {user.source_pk: user.email for user in batch.users}
    whole: list[ImportedOrder] = []
    for imported in batch.orders:
        imported.email = imported.email or emails.get(imported.owner_source_pk)
        broken = False
        for pk, fields in lines.pop(imported.source_pk, []):
            product = products.get(fields["product_source_pk"])
            try:
                imported.lines.append(ImportedLine(**{
                    "name": product.name if product else f"Product {fields['product_source_pk']}",
                    "sku": product.sku if product else "", **fields}))
            except ValidationError as exc:
                batch.refused.append(RowOutcome(model, pk, "refused", f"invalid row: {_reason(exc)}"))
                broken = True
        if broken:  # never an order with some of its lines
            batch.refused.append(RowOutcome("order", imported.source_pk, "refused", "a line of it was refused"))
        else:
            whole.append(imported)
    batch.orders = whole
    for order_pk, orphans in lines.items():
        batch.refused.extend(RowOutcome(model, pk, "refused", f"its order {order_pk} is not in the dump")
                             for pk, _ in orphans)


def _read(rows: Iterable[Any], profile: str, readers: dict[str, Callable[[str, dict[str, Any]], Any]]) -> Batch:
    """Each dumpdata row through its model's reader; a reader's answer (or each of a list of them:
    reviv's user is an account and a balance) lands in the batch by type (a reader that answers
    None keeps the row itself, as marbelle's images)."""
    if not isinstance(rows, list):
        raise DumpUnreadable("not a dumpdata list: the top level must be a JSON array")
    batch = Batch()
    twice = repeated((str(row["model"]).lower(), str(row.get("pk"))) for row in rows
                     if isinstance(row, dict) and "model" in row and "fields" in row)
    targets: dict[type, list[Any]] = {ImportedUser: batch.users, ImportedAddress: batch.addresses,
                                      ImportedCategory: batch.categories, ImportedProduct: batch.products,
                                      ImportedCredits: batch.credits, ImportedBook: batch.books,
                                      ImportedOrder: batch.orders, ImportedRestoration: batch.restorations}
    for index, row in enumerate(rows):
        if not isinstance(row, dict) or "model" not in row or "fields" not in row:
            batch.refused.append(RowOutcome("?", f"#{index}", "refused", "not a dumpdata row (model, pk, fields)"))
            continue
        model, pk, fields = str(row["model"]).lower(), str(row.get("pk")), row["fields"]
        if (model, pk) in twice:
            batch.refused.append(RowOutcome(model, pk, "refused", DUPLICATE_KEY))
            continue
        reader = readers.get(model)
        if reader is None:
            reason = ("not carried over" if model.startswith((*NOT_CARRIED, "users.", f"{profile}."))
                      else f"a model the {profile} profile does not know")
            batch.refused.append(RowOutcome(model, pk, "refused", reason))
            continue
        try:
            read = reader(pk, fields)
        except KeyError as exc:
            batch.refused.append(RowOutcome(model, pk, "refused", f"missing field {exc.args[0]!r}"))
            continue
        except (ValidationError, ValueError, TypeError, AttributeError, ArithmeticError) as exc:
            batch.refused.append(RowOutcome(model, pk, "refused", f"invalid row: {_reason(exc)}"))
            continue
        for each in read if isinstance(read, list) else [read] if read is not None else []:
            targets[type(each)].append(each)
    return batch


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        return f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
    return str(exc)


# -- shop (Andrewkwame1/ecommerce-backend, e-commerce/apps/users/models.py): users and addresses ----

def _shop_user(pk: str, f: dict[str, Any]) -> ImportedUser:
    return ImportedUser(source_pk=pk, email=f["email"], password_hash=f["password"] or None,
                        first_name=f.get("first_name") or "", last_name=f.get("last_name") or "",
                        phone=f.get("phone_number") or None,
                        is_staff=_staff(f), is_active=_flag(f, "is_active", None),
                        email_verified=_flag(f, "is_verified", None), joined_at=f.get("date_joined"))


def _shop_address(pk: str, f: dict[str, Any]) -> ImportedAddress:
    first, _, last = f["full_name"].strip().partition(" ")
    kind = f["address_type"]
    # shop has no label and allows several addresses of a type; Atelier's label is unique per owner.
    return ImportedAddress(source_pk=pk, user_source_pk=str(f["user"]), type=kind,
                           label=f"{kind.title()}: {f['street_address']}"[:50], first_name=first, last_name=last,
                           address_line_1=f["street_address"], address_line_2=f.get("apartment") or None,
                           city=f["city"], state=f.get("state") or "", postal_code=f.get("zip_code") or "",
                           country=f["country"], phone=f.get("phone_number") or None,
                           is_primary=_flag(f, "is_default"))


def _shop_category(pk: str, f: dict[str, Any]) -> ImportedCategory:
    # shop's tree (`parent`) comes in flat: Atelier's categories are re-parented by staff if wanted.
    return ImportedCategory(source_pk=pk, name=f["name"], description=f.get("description") or "",
                            is_active=_flag(f, "is_active", True))


def _shop_product(pk: str, f: dict[str, Any], currency: str) -> ImportedProduct:
    attributes = {key: str(f[key]) for key in ("weight", "dimensions", "barcode") if f.get(key)}
    category = f.get("category")
    return ImportedProduct(source_pk=pk, category_source_pk=str(category) if category else None, name=f["name"],
                           sku=f["sku"], description=f.get("description") or "", price=Decimal(str(f["price"])),
                           currency=currency, stock_quantity=int(f.get("quantity") or 0),
                           is_active=_flag(f, "is_active", True), attributes=attributes)


_SNAPSHOT = ("first_name", "last_name", "company", "address_line_1", "address_line_2", "city", "state",
             "postal_code", "country", "phone", "type")


def read_shop(rows: Iterable[Any], *, currency: str = "USD", media_url: str = "/media", **_: Any) -> Batch:
    images: dict[str, list[ImportedImage]] = {}
    lines: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    history: dict[str, list[ImportedStatus]] = {}
    addressed: dict[str, tuple[str, str]] = {}  # order pk → (shipping, billing) address pks

    def image(pk: str, f: dict[str, Any]) -> None:
        images.setdefault(str(f["product"]), []).append(ImportedImage(
            url=_image_url(f["image"], media_url), alt_text=f.get("alt_text") or "",
            display_order=int(f.get("order") or 0), is_primary=_flag(f, "is_primary")))

    def order(pk: str, f: dict[str, Any]) -> ImportedOrder:
        addressed[pk] = (str(f.get("shipping_address")), str(f.get("billing_address")))
        return ImportedOrder(source_pk=pk, owner_source_pk=str(f["user"]), number=f.get("order_number"),
                             status=f["status"], currency=currency, subtotal=Decimal(str(f["subtotal"])),
                             tax_amount=Decimal(str(f.get("tax") or 0)),
                             shipping_cost=Decimal(str(f.get("shipping_cost") or 0)),
                             discount=Decimal(str(f.get("discount") or 0)),
                             total_amount=Decimal(str(f["total_amount"])), tracking_number=f.get("tracking_number"),
                             shipped_at=f.get("shipped_at"), delivered_at=f.get("delivered_at"),
                             created_at=f.get("created_at"), updated_at=f.get("updated_at"))

    def line(pk: str, f: dict[str, Any]) -> None:
        lines.setdefault(str(f["order"]), []).append((pk, {
            "product_source_pk": str(f["product"]), "quantity": int(f["quantity"]),
            "unit_price": Decimal(str(f["price"])), "name": f["product_name"], "sku": f.get("product_sku") or ""}))

    def status(pk: str, f: dict[str, Any]) -> None:
        history.setdefault(str(f["order"]), []).append(ImportedStatus(
            status=f["status"], note=f.get("note") or "", at=f.get("created_at")))

    batch = _read(rows, "shop", {
        "users.user": _shop_user, "users.address": _shop_address, "products.category": _shop_category,
        "products.product": lambda pk, f: _shop_product(pk, f, currency), "products.productimage": image,
        "orders.order": order, "orders.orderitem": line, "orders.orderstatushistory": status})
    for product in batch.products:
        product.images = sorted(images.pop(product.source_pk, []), key=lambda found: found.display_order)
    addresses = {address.source_pk: address for address in batch.addresses}
    for imported in batch.orders:
        imported.history = sorted(history.pop(imported.source_pk, []), key=lambda entry: str(entry.at))
        shipping, billing = addressed.get(imported.source_pk, ("", ""))
        imported.shipping_address = _snapshot(addresses.get(shipping))
        imported.billing_address = _snapshot(addresses.get(billing))
    _attach_lines(batch, lines, "orders.orderitem")
    return batch


def _snapshot(address: ImportedAddress | None) -> dict[str, Any] | None:
    """The order's copy of an address (orders keeps snapshots, never a reference)."""
    if address is None:
        return None
    return {key: value for key, value in address.model_dump(include=set(_SNAPSHOT)).items() if value is not None}


# -- reviv (dim-gggl/reviv, server/reviv/models/user.py): users and their credits ---------------

def _reviv_user(pk: str, f: dict[str, Any]) -> list[ImportedUser | ImportedCredits]:
    # reviv is passwordless (its save() sets an unusable password): its customers sign in here by
    # magic link or passkey. An OAuth sign-in proved the address; the others are left to prove it.
    user = ImportedUser(source_pk=pk, email=f["email"], password_hash=f.get("password") or None,
                        first_name=f.get("first_name") or "", last_name=f.get("last_name") or "",
                        is_staff=_staff(f), is_active=_flag(f, "is_active", None),
                        email_verified=bool(f.get("oauth_provider")), joined_at=f.get("date_joined"))
    # `credit_balance` is a DecimalField holding whole credits (packs add integers): anything else
    # is refused rather than rounded away.
    balance = Decimal(str(f.get("credit_balance") or 0))
    if balance != balance.to_integral_value():
        raise ValueError(f"credit_balance {balance} is not a whole number of credits")
    return [user, ImportedCredits(source_pk=pk, owner_source_pk=pk, balance=int(balance),
                                  as_of=f.get("updated_at"))]


def _reviv_restoration(pk: str, f: dict[str, Any]) -> ImportedRestoration:
    # reviv's pictures live on Cloudinary (absolute URLs): they stay there.
    method = {"paid": "credits", "social_share": "social_share"}.get(f.get("unlock_method") or "")
    return ImportedRestoration(source_pk=pk, owner_source_pk=str(f["user"]), original_url=f["original_image_url"],
                               preview_url=f.get("restored_preview_url") or None,
                               full_url=f.get("restored_full_url") or None, completed=f.get("status") == "completed",
                               unlock_method=method, unlocked_at=f.get("unlocked_at"),
                               created_at=f.get("created_at"), expires_at=f["expires_at"])


def read_reviv(rows: Iterable[Any], **_: Any) -> Batch:
    return _read(rows, "reviv", {"reviv.user": _reviv_user, "reviv.restorationjob": _reviv_restoration})


# -- storybook (60T-main/mycomics, backend/{customers,products}/models.py) ----------------------

# mycomics is a Georgian shop (prices in GEL) whose addresses have no country field.
STORYBOOK_COUNTRY = "Georgia"
STORYBOOK_CURRENCY = "GEL"
# Its version statuses that mean a finished picture (CharacterVersion/CoverVersion: SUCCESS, PageVersion: COMPLETED).
_FINISHED = {"SUCCESS", "COMPLETED"}


def _storybook_user(pk: str, f: dict[str, Any]) -> ImportedUser:
    # mycomics never verifies an address (no such flow, and its customers sign in right away):
    # an active customer counts as verified, else every one of them would be locked out here.
    return ImportedUser(source_pk=pk, email=f["email"], password_hash=f["password"] or None,
                        first_name=f.get("first_name") or "", last_name=f.get("last_name") or "",
                        phone=f.get("phone") or None, is_staff=_staff(f),
                        is_active=_flag(f, "is_active", None), email_verified=_flag(f, "is_active", None),
                        joined_at=f.get("date_joined"))


def _storybook_address(pk: str, f: dict[str, Any]) -> ImportedAddress:
    if f.get("user") is None:
        raise ValueError("an anonymous visitor's address (session_key only): not carried over")
    first, _, last = f["full_name"].strip().partition(" ")
    return ImportedAddress(source_pk=pk, user_source_pk=str(f["user"]),
                           label=f"{f['full_name']}: {f['address_line1']}"[:50], first_name=first, last_name=last,
                           address_line_1=f["address_line1"], address_line_2=f.get("address_line2") or None,
                           city=f["city"], country=STORYBOOK_COUNTRY, phone=f.get("phone") or None,
                           is_primary=_flag(f, "is_default"))


def read_storybook(rows: Iterable[Any], *, media_url: str = "/media", **_: Any) -> Batch:
    """Books arrive whole: each book with its characters, cover and pages and their versions,
    gathered from their own rows (a version or item whose book is not in the dump is refused)."""
    books: dict[str, ImportedBook] = {}
    items: dict[str, tuple[str, ImportedItem]] = {}  # item pk → (book pk, item)
    covers: dict[str, ImportedItem] = {}  # book pk → its cover
    current: dict[str, str | None] = {}  # item pk (cover: book pk) → the version the source shows
    versions: list[tuple[str, str, str, dict[str, Any]]] = []  # (model, pk, parent pk, fields), placed at the end

    def url(name: Any) -> str | None:
        return _image_url(str(name), media_url) if name else None

    def book(pk: str, f: dict[str, Any]) -> None:
        if f.get("user") is None:
            raise ValueError("an anonymous visitor's book (session_key only): not carried over")
        books[pk] = ImportedBook(source_pk=pk, owner_source_pk=str(f["user"]), title=f["title"],
                                 style=f.get("art_style") or "", style_version=f.get("style_version"),
                                 status=str(f.get("status") or "DRAFT").lower(), print_size=f.get("print_size"),
                                 paper_type=f.get("paper_type"), binding_type=f.get("binding_type"),
                                 created_at=f.get("created_at"))
        current[pk] = _pk(f.get("current_cover_version"))

    def character(pk: str, f: dict[str, Any]) -> None:
        items[pk] = (str(f["book"]), ImportedItem(source_pk=pk, content_type="CHARACTER", number=0, name=f["name"],
                                                  reference_url=url(f.get("reference_photo"))))
        current[pk] = _pk(f.get("current_version"))

    def page(pk: str, f: dict[str, Any]) -> None:
        items[pk] = (str(f["book"]), ImportedItem(
            source_pk=pk, content_type="PAGE", number=int(f["page_number"]), text=f.get("text_content") or "",
            illustration_prompt=f.get("scene_description") or ""))
        current[pk] = _pk(f.get("current_version"))

    def version(model: str, parent: str) -> Callable[[str, dict[str, Any]], None]:
        def keep(pk: str, f: dict[str, Any]) -> None:
            versions.append((model, pk, str(f[parent]), f))  # placed once every book and item is read
        return keep

    lines: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    delivered_to: dict[str, str] = {}

    def order(pk: str, f: dict[str, Any]) -> ImportedOrder:
        if f.get("customer") is None:
            raise ValueError("an anonymous visitor's order (session_key only): not carried over")
        if f.get("delivery_address") is not None:
            delivered_to[pk] = str(f["delivery_address"])
        # Print orders, in GEL (mycomics' only currency); the order id is its number.
        return ImportedOrder(source_pk=pk, owner_source_pk=str(f["customer"]), number=f"SB-{pk}",
                             status=f["status"], currency=STORYBOOK_CURRENCY,
                             shipping_cost=Decimal(str(f.get("delivery_cost") or 0)),
                             total_amount=Decimal(str(f["total_amount"])), paid_at=f.get("paid_at"),
                             created_at=f.get("order_date"), updated_at=f.get("updated_at"))

    def order_line(pk: str, f: dict[str, Any]) -> None:
        book_pk = str(f["book"])
        lines.setdefault(str(f["order"]), []).append((pk, {
            "product_source_pk": f"book:{book_pk}", "book_source_pk": book_pk, "kind": "print_tier",
            "quantity": int(f.get("quantity") or 1), "unit_price": Decimal(str(f["unit_price"]))}))

    batch = _read(rows, "storybook", {
        "orders.order": order, "orders.orderitem": order_line,
        "customers.customer": _storybook_user, "customers.address": _storybook_address, "products.book": book,
        "products.character": character, "products.page": page,
        "products.characterversion": version("products.characterversion", "character"),
        "products.coverversion": version("products.coverversion", "book"),
        "products.pageversion": version("products.pageversion", "page")})

    for model, pk, parent, f in sorted(versions, key=lambda v: (v[3].get("version_number") or 0,
                                                                str(v[3].get("created_at")))):
        if model == "products.coverversion":
            book_pk = parent
            if book_pk not in books:
                batch.refused.append(RowOutcome(model, pk, "refused", f"its book {book_pk} is not imported"))
                continue
            owner = covers.setdefault(book_pk, ImportedItem(source_pk=book_pk, content_type="COVER", number=0))
            picked = current.get(book_pk)
        else:
            item_pk = parent
            if item_pk not in items or items[item_pk][0] not in books:
                batch.refused.append(RowOutcome(model, pk, "refused", f"its item {item_pk} is not imported"))
                continue
            owner, picked = items[item_pk][1], current.get(item_pk)
        number = int(f.get("version_number") or len(owner.versions) + 1)
        owner.versions.append(ImportedVersion(
            source_pk=pk, version_number=number, image_url=url(f.get("generated_image") or f.get("image")),
            thumbnail_url=url(f.get("thumbnail")), prompt=f.get("prompt") or "",
            prompt_snapshot=f.get("prompt_snapshot"), title_text=f.get("title_text"),
            subtitle_text=f.get("subtitle_text"), author_name=f.get("author_name"),
            completed=str(f.get("status") or "") in _FINISHED, created_at=f.get("created_at")))
        if picked == pk:
            owner.selected_version_pk = pk
    characters: dict[str, int] = {}
    for item_pk, (book_pk, item) in items.items():
        if book_pk not in books:
            batch.refused.append(RowOutcome(f"products.{item.content_type.lower()}", item_pk, "refused",
                                            f"its book {book_pk} is not imported"))
            continue
        if item.content_type == "CHARACTER":
            # mycomics does not number characters; Atelier does, within the book, in the order read.
            characters[book_pk] = item.number = characters.get(book_pk, 0) + 1
        books[book_pk].items.append(item)
    for book_pk, cover in covers.items():
        books[book_pk].items.append(cover)
    batch.books = list(books.values())
    addresses = {address.source_pk: address for address in batch.addresses}
    for imported in batch.orders:
        imported.shipping_address = _snapshot(addresses.get(delivered_to.get(imported.source_pk, "")))
        for _line_pk, fields in lines.get(imported.source_pk, []):
            title = books[fields["book_source_pk"]].title if fields["book_source_pk"] in books else "a book"
            fields["name"] = f"Print of {title}"[:200]
    _attach_lines(batch, lines, "orders.orderitem")
    return batch


def _pk(value: Any) -> str | None:
    return str(value) if value is not None else None


# -- FigureForge: `aws cognito-idp list-users` JSON (users only) ----------------------------------

def read_figureforge(document: Any, **_: Any) -> Batch:
    """`{"Users": [{"Username", "Attributes": [{"Name", "Value"}], "UserCreateDate", "Enabled",
    "UserStatus"}]}` (several pages of `list-users` may be concatenated as a list of such objects).
    Cognito never hands out password hashes: every account signs in by magic link or reset."""
    pages = document if isinstance(document, list) else [document]
    if not all(isinstance(page, dict) and isinstance(page.get("Users"), list) for page in pages):
        raise DumpUnreadable("not `aws cognito-idp list-users` output: expected {\"Users\": [...]}")
    batch = Batch()
    entries = [(str(user.get("Username") or f"#{index}") if isinstance(user, dict) else f"#{index}", user)
               for index, user in enumerate(user for page in pages for user in page["Users"])]
    twice = repeated(pk for pk, _ in entries)
    for pk, entry in entries:
        if pk in twice:
            batch.refused.append(RowOutcome("cognito.user", pk, "refused", DUPLICATE_KEY))
            continue
        try:
            attributes = {a["Name"]: a.get("Value") for a in entry.get("Attributes") or []}
            batch.users.append(_cognito_user(pk, entry, attributes))
        except KeyError as exc:
            batch.refused.append(RowOutcome("cognito.user", pk, "refused", f"missing field {exc.args[0]!r}"))
        except (ValidationError, ValueError, TypeError, AttributeError) as exc:
            batch.refused.append(RowOutcome("cognito.user", pk, "refused", f"invalid row: {_reason(exc)}"))
    return batch


def _cognito_user(pk: str, entry: dict[str, Any], attributes: dict[str, Any]) -> ImportedUser:
    first = attributes.get("given_name") or ""
    last = attributes.get("family_name") or ""
    if not (first or last) and attributes.get("name"):
        first, _, last = str(attributes["name"]).strip().partition(" ")
    return ImportedUser(source_pk=pk, email=attributes["email"], password_hash=None, first_name=first,
                        last_name=last, phone=attributes.get("phone_number") or None,
                        is_active=_flag(entry, "Enabled", True),
                        email_verified=str(attributes.get("email_verified")).lower() == "true",
                        joined_at=entry.get("UserCreateDate"))


PROFILES: dict[str, Callable[..., Batch]] = {"marbelle": read_marbelle, "shop": read_shop, "reviv": read_reviv,
                                             "storybook": read_storybook, "figureforge": read_figureforge}


# -- the report ----------------------------------------------------------------------------------

@dataclass
class Report:
    outcomes: list[RowOutcome] = field(default_factory=list)
    dry_run: bool = False

    def counts(self) -> dict[str, dict[str, int]]:
        tally: dict[str, Counter[str]] = {}
        for outcome in self.outcomes:
            tally.setdefault(outcome.model, Counter())[outcome.status] += 1
        return {model: {status: counter[status] for status in ("imported", "skipped", "refused")}
                for model, counter in sorted(tally.items())}

    @property
    def changed(self) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == "imported")

    def as_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "counts": self.counts(),
                "refused": [{"model": o.model, "pk": o.pk, "reason": o.reason}
                            for o in self.outcomes if o.status == "refused"]}

    def lines(self) -> list[str]:
        out = [f"{model}: {c['imported']} imported, {c['skipped']} skipped (already present), "
               f"{c['refused']} refused" for model, c in self.counts().items()]
        out += [f"refused {o.model} pk={o.pk}: {o.reason}" for o in self.outcomes if o.status == "refused"]
        if self.dry_run:
            out.append(f"dry run: {self.changed} rows would be imported; nothing was written")
        elif self.changed == 0:
            out.append("nothing changed: every row was already imported or refused")
        return out
