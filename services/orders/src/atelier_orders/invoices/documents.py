"""Invoices and credit notes as PDF, drawn with fpdf2 from what the documents snapshotted:
nothing here reads the order as it is now.

Everything here is CPU-bound and synchronous: callers run it with `asyncio.to_thread`. The text is
set in DejaVu Sans (`fonts/`, subset to the scripts an address may be written in: Latin, Greek,
Cyrillic, Georgian), embedded in each file as the glyphs it uses; the file's title is the
document's number. Its words, dates and amounts are in the order's language (`labels.Labels`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from atelier_orders.domain import address_lines, percent
from atelier_orders.invoices.labels import Labels
from atelier_orders.models import CreditNote, Invoice

FONTS = Path(__file__).parent / "fonts"
FAMILY = "DejaVu"
# The lines' columns (mm: A4 less its margins): item, SKU, quantity, unit price, amount; a credit note's two.
_LINES = ((80, 30, 14, 28, 28), ("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"))
_CREDITED = ((152, 28), ("LEFT", "RIGHT"))


def invoice_pdf(invoice: Invoice, locale: str | None = None) -> bytes:
    """An order's invoice, in the order's language `locale`; a supplementary one (what a paid edit
    added: its lines are the change, its totals the difference) says so and names the original
    invoice it supplements."""
    t = Labels.of(locale)
    supplementary = invoice.kind == "supplementary"
    title = t("supplementary_invoice") if supplementary else t("invoice")
    pdf = _document(title, invoice.number, invoice, invoice.issued_at, t)
    facts = [(title, invoice.number), (t("issued"), t.day(invoice.issued_at)), (t("order"), invoice.order_number)]
    if supplementary:
        facts.append((t("supplements_invoice"), invoice.original_number or "-"))
        pdf.set_subject(t("supplementing", title=title, number=invoice.number, original=invoice.original_number or "-"))
    _facts(pdf, facts)
    _parties(pdf, invoice, t)
    rows = [(line["name"] if not line.get("variant_name") else f"{line['name']} ({line['variant_name']})",
             line["sku"], str(line["quantity"]), t.money(Decimal(line["unit_price"]), invoice.currency),
             t.money(Decimal(line["line_total"]), invoice.currency)) for line in invoice.lines]
    _table(pdf, _LINES, (t("item"), t("sku"), t("qty"), t("unit_price"), t("amount")), rows)
    shipping = (t("shipping") if not invoice.shipping_method_name
                else t("shipping_by", method=invoice.shipping_method_name))
    totals = [(t("subtotal"), invoice.subtotal)]
    if invoice.discount:
        totals.append((t("discount"), -invoice.discount))
    totals.append((shipping, invoice.shipping_cost))
    totals += _taxes(invoice, t)
    _totals(pdf, totals, (t("total_paid") if not supplementary else t("total_paid_edit"), invoice.total_amount),
            invoice.currency, t)
    return bytes(pdf.output())


def _taxes(invoice: Invoice, t: Labels) -> list[tuple[str, Decimal]]:
    """The tax per rate (`Invoice.taxes`): "VAT 20 % on 41.00", or "… included in 40.00" for a tax
    the prices hold (shown, not added). An invoice issued before the rates were kept: one line."""
    if not invoice.taxes:
        return [(t("tax") if invoice.tax_rate is None else t("tax_at", rate=percent(invoice.tax_rate)),
                 invoice.tax_amount)]
    rows = []
    for group in invoice.taxes:
        rate, base = Decimal(group["rate"]), t.money(Decimal(group["base"]), invoice.currency)
        if rate == 0:
            continue
        label = t("tax_included" if group["inclusive"] else "tax_on", rate=percent(rate), base=base)
        rows.append((label, Decimal(group["tax"])))
    return rows or [(t("tax"), invoice.tax_amount)]


def credit_note_pdf(note: CreditNote, invoice: Invoice, locale: str | None = None) -> bytes:
    """A credit note, in the order's language `locale`."""
    t = Labels.of(locale)
    pdf = _document(t("credit_note"), note.number, invoice, note.issued_at, t)
    _facts(pdf, [(t("credit_note"), note.number), (t("issued"), t.day(note.issued_at)),
                 (t("credits_invoice"), t("invoice_of", number=invoice.number, day=t.day(invoice.issued_at))),
                 (t("order"), invoice.order_number)])
    _parties(pdf, invoice, t)
    description = t("refund_of", order=invoice.order_number) + (f": {note.reason}" if note.reason else "")
    _table(pdf, _CREDITED, (t("description"), t("amount")), [(description, t.money(note.amount, note.currency))])
    _totals(pdf, [], (t("total_credited"), note.amount), note.currency, t)
    return bytes(pdf.output())


def _document(kind: str, number: str, invoice: Invoice, issued_at: datetime, t: Labels) -> FPDF:
    """A page headed by the document's kind and the seller as the invoice snapshotted it: its name,
    then its address, tax number, registration number and email where it had them."""
    pdf = FPDF(format="A4")
    pdf.set_title(number)
    pdf.set_subject(f"{kind} {number}")
    pdf.set_author(invoice.seller_name)
    pdf.set_creator("Atelier")
    pdf.set_creation_date(issued_at)
    pdf.add_font(FAMILY, "", FONTS / "DejaVuSans.ttf")
    pdf.add_font(FAMILY, "B", FONTS / "DejaVuSans-Bold.ttf")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 20)
    pdf.cell(0, 12, kind, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 12)
    pdf.cell(0, 7, invoice.seller_name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    details = _seller_details(invoice, t)
    if details:
        pdf.set_font(FAMILY, "", 10)
        pdf.multi_cell(0, 5, "\n".join(details), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    return pdf


def _seller_details(invoice: Invoice, t: Labels) -> list[str]:
    lines = list(invoice.seller_address or [])
    if invoice.seller_tax_number:
        lines.append(t("tax_number", number=invoice.seller_tax_number))
    if invoice.seller_registration_number:
        lines.append(t("registration_number", number=invoice.seller_registration_number))
    if invoice.seller_email:
        lines.append(invoice.seller_email)
    return lines


def _facts(pdf: FPDF, facts: Sequence[tuple[str, str]]) -> None:
    for label, value in facts:
        pdf.set_font(FAMILY, "B", 10)
        pdf.cell(40, 6, label)
        pdf.set_font(FAMILY, "", 10)
        pdf.cell(0, 6, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)


def _parties(pdf: FPDF, invoice: Invoice, t: Labels) -> None:
    """Who bought: the billing address (else the shipping one), a business's tax number and the
    email; where it was shipped."""
    bill_to = address_lines(invoice.billing_address or invoice.shipping_address)
    if invoice.buyer_tax_number:
        bill_to.append(t("tax_number", number=invoice.buyer_tax_number))
    if invoice.email:
        bill_to.append(invoice.email)
    blocks = [(t("bill_to"), bill_to or ["—"])]
    if invoice.shipping_address:
        blocks.append((t("ship_to"), address_lines(invoice.shipping_address)))
    top = pdf.get_y()
    bottom = top
    for column, (label, lines) in enumerate(blocks):
        pdf.set_xy(pdf.l_margin + column * 95, top)
        pdf.set_font(FAMILY, "B", 10)
        pdf.cell(90, 6, label, new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_font(FAMILY, "", 10)
        pdf.multi_cell(90, 5, "\n".join(lines), new_x=XPos.LEFT, new_y=YPos.NEXT)
        bottom = max(bottom, pdf.get_y())
    pdf.set_xy(pdf.l_margin, bottom + 6)


def _table(pdf: FPDF, columns: tuple[tuple[int, ...], tuple[str, ...]], heading: Sequence[str],
           rows: Sequence[Sequence[str]]) -> None:
    pdf.set_font(FAMILY, "", 10)
    widths, aligns = columns
    with pdf.table(col_widths=widths, text_align=aligns, line_height=6) as table:
        table.row(heading)
        for row in rows:
            table.row(row)
    pdf.ln(4)


def _totals(pdf: FPDF, lines: Sequence[tuple[str, Decimal]], total: tuple[str, Decimal], currency: str,
            t: Labels) -> None:
    label_width, value_width = 80, 40
    left = pdf.w - pdf.r_margin - label_width - value_width
    for (label, amount), bold in [*((line, False) for line in lines), (total, True)]:
        pdf.set_x(left)
        pdf.set_font(FAMILY, "B" if bold else "", 11 if bold else 10)
        pdf.cell(label_width, 7, label)
        pdf.cell(value_width, 7, t.money(amount, currency), align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
