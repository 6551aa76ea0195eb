"""`atelier import`: a product's Django `manage.py dumpdata` JSON, read with that product's own
app labels and fields, handed to the owning services' import entry points.

A profile only translates rows (`<app>.<model>` → each service's import schema); the rules, the
source-key table and the writes are the services' (`atelier_identity.imports`,
`atelier_catalog.imports`). Rows that cannot be read are refused here with their model, pk and
reason, and the rest go on.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from atelier_catalog.imports import ImportedCategory, ImportedImage, ImportedProduct
from atelier_common.imports import RowOutcome
from atelier_identity.imports import ImportedAddress, ImportedUser

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
    refused: list[RowOutcome] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.users) + len(self.addresses) + len(self.categories) + len(self.products)


def read_dump(path: Path) -> list[dict[str, Any]]:
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DumpUnreadable(f"cannot read {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise DumpUnreadable(f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    if not isinstance(rows, list):
        raise DumpUnreadable("not a dumpdata list: the top level must be a JSON array")
    return rows


# -- marbelle (KiroVasilovski/marbelle, backend/{users,products}/models.py) -----------------------

def _marbelle_user(pk: str, f: dict[str, Any]) -> ImportedUser:
    # Marbelle keeps a new account inactive until its email is verified (users/serializers.py):
    # `is_active` is its verified flag, and the account is active here either way.
    return ImportedUser(source_pk=pk, email=f["email"], password_hash=f["password"] or None,
                        first_name=f.get("first_name") or "", last_name=f.get("last_name") or "",
                        phone=f.get("phone") or None, company_name=f.get("company_name") or None,
                        is_staff=bool(f.get("is_staff") or f.get("is_superuser")), is_active=True,
                        email_verified=bool(f["is_active"]), joined_at=f.get("date_joined"))


def _marbelle_address(pk: str, f: dict[str, Any]) -> ImportedAddress:
    return ImportedAddress(source_pk=pk, user_source_pk=str(f["user"]), label=f["label"],
                           first_name=f["first_name"], last_name=f.get("last_name") or "",
                           company=f.get("company") or None, address_line_1=f["address_line_1"],
                           address_line_2=f.get("address_line_2") or None, city=f["city"],
                           state=f.get("state") or "", postal_code=f.get("postal_code") or "",
                           country=f["country"], phone=f.get("phone") or None,
                           is_primary=bool(f.get("is_primary")))


def _marbelle_category(pk: str, f: dict[str, Any]) -> ImportedCategory:
    return ImportedCategory(source_pk=pk, name=f["name"], description=f.get("description") or "",
                            is_active=bool(f.get("is_active", True)))


def _marbelle_product(pk: str, f: dict[str, Any], currency: str) -> ImportedProduct:
    return ImportedProduct(source_pk=pk, category_source_pk=str(f["category"]), name=f["name"], sku=f["sku"],
                           description=f.get("description") or "", price=Decimal(str(f["price"])),
                           currency=currency, stock_quantity=int(f.get("stock_quantity") or 0),
                           is_active=bool(f.get("is_active", True)),
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
            display_order=int(f.get("display_order") or 0), is_primary=bool(f.get("is_primary"))))

    batch = _read(rows, "marbelle", {
        "users.user": _marbelle_user, "users.address": _marbelle_address, "products.category": _marbelle_category,
        "products.product": lambda pk, f: _marbelle_product(pk, f, currency), "products.productimage": image})
    for product in batch.products:
        product.images = sorted(images.pop(product.source_pk, []), key=lambda found: found.display_order)
    for product_pk, orphans in images.items():
        batch.refused.extend(RowOutcome("products.productimage", "?", "refused",
                                        f"its product {product_pk} is not in the dump") for _ in orphans)
    return batch


def _read(rows: Iterable[Any], profile: str, readers: dict[str, Callable[[str, dict[str, Any]], Any]]) -> Batch:
    """Each dumpdata row through its model's reader; a reader's answer lands in the batch by type
    (a reader that answers None keeps the row itself, as marbelle's images)."""
    batch = Batch()
    targets: dict[type, list[Any]] = {ImportedUser: batch.users, ImportedAddress: batch.addresses,
                                      ImportedCategory: batch.categories, ImportedProduct: batch.products}
    for index, row in enumerate(rows):
        if not isinstance(row, dict) or "model" not in row or "fields" not in row:
            batch.refused.append(RowOutcome("?", f"#{index}", "refused", "not a dumpdata row (model, pk, fields)"))
            continue
        model, pk, fields = str(row["model"]).lower(), str(row.get("pk")), row["fields"]
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
        if read is not None:
            targets[type(read)].append(read)
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
                        is_staff=bool(f.get("is_staff") or f.get("is_superuser")), is_active=bool(f["is_active"]),
                        email_verified=bool(f["is_verified"]), joined_at=f.get("date_joined"))


def _shop_address(pk: str, f: dict[str, Any]) -> ImportedAddress:
    first, _, last = f["full_name"].strip().partition(" ")
    kind = f["address_type"]
    # shop has no label and allows several addresses of a type; Atelier's label is unique per owner.
    return ImportedAddress(source_pk=pk, user_source_pk=str(f["user"]), type=kind,
                           label=f"{kind.title()}: {f['street_address']}"[:50], first_name=first, last_name=last,
                           address_line_1=f["street_address"], address_line_2=f.get("apartment") or None,
                           city=f["city"], state=f.get("state") or "", postal_code=f.get("zip_code") or "",
                           country=f["country"], phone=f.get("phone_number") or None,
                           is_primary=bool(f.get("is_default")))


def read_shop(rows: Iterable[Any], **_: Any) -> Batch:
    return _read(rows, "shop", {"users.user": _shop_user, "users.address": _shop_address})


# -- reviv (dim-gggl/reviv, server/reviv/models/user.py): users ----------------------------------

def _reviv_user(pk: str, f: dict[str, Any]) -> ImportedUser:
    # reviv is passwordless (its save() sets an unusable password): its customers sign in here by
    # magic link or passkey. An OAuth sign-in proved the address; the others are left to prove it.
    return ImportedUser(source_pk=pk, email=f["email"], password_hash=f.get("password") or None,
                        first_name=f.get("first_name") or "", last_name=f.get("last_name") or "",
                        is_staff=bool(f.get("is_staff") or f.get("is_superuser")), is_active=bool(f["is_active"]),
                        email_verified=bool(f.get("oauth_provider")), joined_at=f.get("date_joined"))


def read_reviv(rows: Iterable[Any], **_: Any) -> Batch:
    return _read(rows, "reviv", {"reviv.user": _reviv_user})


PROFILES: dict[str, Callable[..., Batch]] = {"marbelle": read_marbelle, "shop": read_shop, "reviv": read_reviv}


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
