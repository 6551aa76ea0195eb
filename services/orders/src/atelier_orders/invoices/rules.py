"""The rules of invoices and credit notes, as pure functions: their numbers, their lines and the
tax per rate."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Any

from atelier_common.money import quantize

# -- invoices and credit notes ------------------------------------------------------------------

class DocumentKind(StrEnum):
    """The numbered documents of a storefront, each with a gap-free sequence of its own."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


DOCUMENT_PREFIXES: Mapping[DocumentKind, str] = {DocumentKind.INVOICE: "INV", DocumentKind.CREDIT_NOTE: "CN"}


def document_number(kind: DocumentKind, storefront: str, sequence: int) -> str:
    """`INV-DEFAULT-000042`: the kind's prefix, the storefront's slug in capitals and its number in
    the storefront's gap-free sequence of that kind (six digits at least), which runs on across years."""
    return f"{DOCUMENT_PREFIXES[kind]}-{storefront.upper()}-{sequence:06d}"


def invoice_lines(items: Iterable[Any]) -> list[dict[str, Any]]:
    """What an invoice keeps of an order's lines (`OrderItemRow`s): money as decimal strings, with
    each line's discount and tax (its rows)."""
    return [{"sku": i.sku, "name": i.name, "variant_name": i.variant_name, "kind": i.kind, "quantity": i.quantity,
             "unit_price": str(quantize(i.unit_price)), "line_total": str(quantize(i.line_total)),
             "discount_amount": str(quantize(i.discount_amount)), "tax_rate": str(i.tax_rate),
             "tax_amount": str(quantize(i.tax_amount)), "tax_inclusive": bool(i.tax_inclusive)} for i in items]


def tax_breakdown(order: Any) -> list[dict[str, Any]]:
    """An order's tax per rate, as an invoice states it: for each (rate, added or included) the
    taxable base (what the lines and the shipping cost after their discounts) and the tax, from the
    order's rows (`OrderDetails`). Untaxed charges (rate 0) form their own group; tax rounding is
    the pricing rule's, so the groups' taxes add up to the order's `tax_amount`."""
    groups: dict[tuple[Decimal, bool], list[Decimal]] = {}
    for item in order.items:
        group = groups.setdefault((Decimal(item.tax_rate), bool(item.tax_inclusive)), [Decimal("0"), Decimal("0")])
        group[0] += item.line_total - item.discount_amount
        group[1] += item.tax_amount
    if order.shipping_cost > 0 or order.shipping_tax > 0:
        rate = Decimal(order.tax_rate or 0) if order.shipping_tax > 0 else Decimal("0")
        group = groups.setdefault((rate, bool(order.shipping_tax_inclusive) if order.shipping_tax > 0 else False),
                                  [Decimal("0"), Decimal("0")])
        group[0] += order.shipping_cost
        group[1] += order.shipping_tax
    return [{"rate": str(rate), "inclusive": inclusive, "base": str(quantize(base)), "tax": str(quantize(tax))}
            for (rate, inclusive), (base, tax) in sorted(groups.items(), key=lambda kv: (-kv[0][0], kv[0][1]))]


# -- supplementary invoices ---------------------------------------------------------------------

def supplementary_lines(before: Iterable[Any], after: Iterable[Any]) -> list[dict[str, Any]]:
    """What a paid edit changed, as a supplementary invoice's lines: each order line whose units or
    charge differ between the order's rows `before` and `after` the edit (a line added, raised,
    lowered or whose discount moved), its quantity and money the difference (after − before)."""
    was, now = {i.id: i for i in before}, {i.id: i for i in after}
    zero = Decimal("0")
    lines = []
    for item_id in [*was, *(key for key in now if key not in was)]:
        old, new = was.get(item_id), now.get(item_id)
        ref: Any = new if new is not None else old
        differences = [(new.quantity if new else 0) - (old.quantity if old else 0)] + [
            (getattr(new, name) if new else zero) - (getattr(old, name) if old else zero)
            for name in ("line_total", "discount_amount", "tax_amount")]
        if not any(differences):
            continue
        quantity, line_total, discount, tax = differences
        lines.append({"sku": ref.sku, "name": ref.name, "variant_name": ref.variant_name, "kind": ref.kind,
                      "quantity": quantity, "unit_price": str(quantize(ref.unit_price)),
                      "line_total": str(quantize(line_total)), "discount_amount": str(quantize(discount)),
                      "tax_rate": str(ref.tax_rate), "tax_amount": str(quantize(tax)),
                      "tax_inclusive": bool(ref.tax_inclusive)})
    return lines


def tax_difference(before: Any, after: Any) -> list[dict[str, Any]]:
    """The tax per rate a paid edit added (`tax_breakdown` after − before), the groups that moved."""
    was = {(g["rate"], g["inclusive"]): g for g in tax_breakdown(before)}
    now = {(g["rate"], g["inclusive"]): g for g in tax_breakdown(after)}
    groups = []
    for key in [*now, *(k for k in was if k not in now)]:
        base = Decimal(now[key]["base"] if key in now else "0") - Decimal(was[key]["base"] if key in was else "0")
        tax = Decimal(now[key]["tax"] if key in now else "0") - Decimal(was[key]["tax"] if key in was else "0")
        if base or tax:
            groups.append({"rate": key[0], "inclusive": key[1], "base": str(quantize(base)),
                           "tax": str(quantize(tax))})
    return groups
