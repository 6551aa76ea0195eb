"""A paid order's invoice and its credit notes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from atelier_common.money import Money
from atelier_orders.schemas._shared import Rate, StorefrontSlug, _Input, _Read
from atelier_orders.schemas.orders import _ADDRESS_EXAMPLE

if TYPE_CHECKING:
    from atelier_orders.models import CreditNote, Invoice


_CREDIT_NOTE_EXAMPLE: dict[str, Any] = {
    "number": "CN-DEFAULT-000007", "invoice_number": "INV-DEFAULT-000042",
    "refund_id": "8e2f4a6b-1c3d-4e5f-a7b9-0c1d2e3f4a5b", "amount": "5.00", "currency": "USD",
    "reason": "Damaged corner", "issued_at": "2026-11-27T09:30:12.418503Z"}
_INVOICE_EXAMPLE: dict[str, Any] = {
    "number": "INV-DEFAULT-000042", "order_id": "d9a1128a-05bd-4d8e-aa4e-cd386132471e",
    "order_number": "ORD-20261126-NNKSU0", "storefront": "default",
    "seller": {"name": "Atelier Trading Ltd", "address": ["12 Harbour Street", "Leith EH6 6QB", "United Kingdom"],
               "tax_number": "GB123456789", "registration_number": "SC123456", "email": "accounts@atelier.example"},
    "buyer": {"email": "ada.lovelace@example.com", "billing_address": _ADDRESS_EXAMPLE,
              "shipping_address": _ADDRESS_EXAMPLE, "tax_number": "GB 987 6543 21"},
    "lines": [{"sku": "SEAL-PRO-1L", "name": "Stone Sealer 1 L", "variant_name": None, "kind": "physical",
               "quantity": 1, "unit_price": "24.99", "line_total": "24.99"}],
    "currency": "USD", "subtotal": "24.99", "tax_amount": "2.25", "shipping_cost": "5.00", "discount": "0.00",
    "total_amount": "32.24", "shipping_method_name": "Standard", "tax_rate": "0.09",
    "issued_at": "2026-11-26T02:15:25.279874Z", "credited": "5.00",
    "credit_notes": [_CREDIT_NOTE_EXAMPLE]}


class InvoiceLineRead(BaseModel):
    sku: str
    name: str
    variant_name: str | None = None
    kind: str
    quantity: int
    unit_price: Money
    line_total: Money
    # The line's discount and tax (absent on invoices issued before they were kept).
    discount_amount: Money = Decimal("0.00")
    tax_rate: Rate = Decimal("0")
    tax_amount: Money = Decimal("0.00")
    tax_inclusive: bool = False


class InvoiceTaxRead(BaseModel):
    """The tax of one rate: on `base` (lines and shipping after their discounts), added or included."""

    rate: Rate
    inclusive: bool = Field(description="true: the prices include this tax (nothing was added for it)")
    base: Money
    tax: Money


class CreditNoteLineRead(BaseModel):
    order_item_id: uuid.UUID
    sku: str
    name: str
    quantity: int
    amount: Money


class CreditNoteRead(_Read):
    """A credit note of the invoice: one per refund; its PDF is `…/credit-notes/{number}.pdf`."""

    number: str
    invoice_number: str
    refund_id: uuid.UUID | None
    amount: Money
    currency: str
    reason: str | None
    issued_at: datetime
    return_id: uuid.UUID | None = Field(default=None, description=(
        "An exchange's credit note: the exchange (its lines coming back credit the exchange's order)"))
    lines: list[CreditNoteLineRead] | None = Field(default=None, description=(
        "An exchange's credit note: the lines coming back, each with what it credits"))


class CreditNoteLink(BaseModel):
    """A credit note in `GET /orders/{id}/credit-notes`: its number, amount, date and PDF."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"number": "CN-DEFAULT-000007", "amount": "10.00", "currency": "USD", "created_at": "2026-11-28T10:02:11Z",
         "url": "/api/v1/orders/d9a1128a-05bd-4d8e-aa4e-cd386132471e/credit-notes/CN-DEFAULT-000007.pdf"}]})

    number: str
    amount: Money
    currency: str
    created_at: datetime
    url: str

    @classmethod
    def of(cls, note: Any, url: str) -> CreditNoteLink:
        return cls(number=note.number, amount=note.amount, currency=note.currency, created_at=note.issued_at, url=url)


class SupplementaryInvoiceLink(BaseModel):
    """A paid edit's supplementary invoice (docs/back-office.md#order-edits): its number in the
    storefront's invoice sequence, what the edit charged, and its PDF."""

    number: str
    edit_id: uuid.UUID | None
    total_amount: Money = Field(description="what the edit charged (the difference of the order's totals)")
    tax_amount: Money
    currency: str
    issued_at: datetime
    url: str


class SellerRead(BaseModel):
    """Who sold, as the storefront's legal details said when the invoice was issued."""

    name: str = Field(description="the storefront's legal name when the invoice was issued, else its name")
    address: list[str] = Field(default=[], description="the seller's address lines, in print order")
    tax_number: str | None = Field(default=None, description="the seller's tax or VAT number")
    registration_number: str | None = Field(default=None, description="the seller's company registration number")
    email: str | None = None


class BuyerRead(BaseModel):
    email: str | None
    billing_address: dict[str, Any] | None
    shipping_address: dict[str, Any] | None
    tax_number: str | None = Field(default=None, description="the business buyer's tax or VAT number (the order's)")


class InvoiceRead(_Read):
    """A paid order's invoice: what it snapshotted when the order was paid, and the credit
    notes of its refunds; its PDF is `…/invoice.pdf`."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_INVOICE_EXAMPLE]})

    number: str = Field(description="INV-<STOREFRONT>-<NNNNNN>, gap-free per storefront")
    order_id: uuid.UUID
    order_number: str
    storefront: str
    seller: SellerRead
    buyer: BuyerRead
    lines: list[InvoiceLineRead]
    currency: str
    subtotal: Money
    tax_amount: Money
    shipping_cost: Money
    discount: Money
    total_amount: Money
    shipping_method_name: str | None = Field(default=None, description="the order's shipping method")
    tax_rate: Rate | None = Field(default=None, description="the tax rate applied, 0.0725 for 7.25 %")
    taxes: list[InvoiceTaxRead] = Field(default=[], description="the tax per rate, added or included")
    issued_at: datetime
    credited: Money = Field(description="the credit notes' total so far")
    credit_notes: list[CreditNoteRead]
    supplementary: list[SupplementaryInvoiceLink] = Field(default=[], description=(
        "the supplementary invoices of the order's paid edits, oldest first (each supplements this invoice)"))

    @classmethod
    def of(cls, invoice: Invoice, credit_notes: Sequence[CreditNote], supplementary: Sequence[Invoice] = (), *,
           base: str = "") -> InvoiceRead:
        """The invoice with the credit notes issued against it so far, oldest first, and the order's
        supplementary invoices (their PDFs under `base`, the order's path)."""
        return cls.model_validate({
            **{name: getattr(invoice, name) for name in (
                "number", "order_id", "order_number", "storefront", "lines", "currency", "subtotal", "tax_amount",
                "shipping_cost", "discount", "total_amount", "shipping_method_name", "tax_rate", "taxes",
                "issued_at")},
            "seller": {"name": invoice.seller_name, "address": invoice.seller_address or [],
                       "tax_number": invoice.seller_tax_number,
                       "registration_number": invoice.seller_registration_number, "email": invoice.seller_email},
            "buyer": {"email": invoice.email, "billing_address": invoice.billing_address,
                      "shipping_address": invoice.shipping_address, "tax_number": invoice.buyer_tax_number},
            "credited": sum((note.amount for note in credit_notes), Decimal("0")),
            "credit_notes": [{**note.model_dump(), "invoice_number": invoice.number} for note in credit_notes],
            "supplementary": [{"number": s.number, "edit_id": s.edit_id, "total_amount": s.total_amount,
                               "tax_amount": s.tax_amount, "currency": s.currency, "issued_at": s.issued_at,
                               "url": f"{base}/supplementary-invoices/{s.number}.pdf"} for s in supplementary]})


class DocumentQuery(_Input):
    """The accounting lists' filters: documents issued in [`issued_after`, `issued_before`) (a month:
    its first instant and the next month's), each with its offset."""

    issued_after: AwareDatetime | None = None
    issued_before: AwareDatetime | None = None
    storefront: StorefrontSlug | None = None


class InvoiceSummaryRead(BaseModel):
    """A line of `GET /staff/invoices`: an invoice's number, order, money and PDF."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"number": "INV-DEFAULT-000042", "order_id": "d9a1128a-05bd-4d8e-aa4e-cd386132471e",
         "order_number": "ORD-7K2M9Q4X", "storefront": "default", "currency": "USD", "subtotal": "30.00",
         "tax_amount": "2.24", "shipping_cost": "5.00", "discount": "0.00", "total_amount": "37.24",
         "issued_at": "2026-11-28T10:00:02Z",
         "pdf_url": "/api/v1/staff/orders/d9a1128a-05bd-4d8e-aa4e-cd386132471e/invoice.pdf"}]})

    number: str
    order_id: uuid.UUID
    order_number: str
    storefront: str
    currency: str
    subtotal: Money
    tax_amount: Money
    shipping_cost: Money
    discount: Money
    total_amount: Money
    issued_at: datetime
    pdf_url: str

    @classmethod
    def of(cls, invoice: Any) -> InvoiceSummaryRead:
        return cls(number=invoice.number, order_id=invoice.order_id, order_number=invoice.order_number,
                   storefront=invoice.storefront, currency=invoice.currency, subtotal=invoice.subtotal,
                   tax_amount=invoice.tax_amount, shipping_cost=invoice.shipping_cost, discount=invoice.discount,
                   total_amount=invoice.total_amount, issued_at=invoice.issued_at,
                   pdf_url=f"/api/v1/staff/orders/{invoice.order_id}/invoice.pdf"
                   if getattr(invoice, "kind", "invoice") != "supplementary" else
                   f"/api/v1/staff/orders/{invoice.order_id}/supplementary-invoices/{invoice.number}.pdf")


class CreditNoteSummaryRead(BaseModel):
    """A line of `GET /staff/credit-notes`: a credit note's number, the invoice it credits, the amount
    given back and its PDF."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"number": "CN-DEFAULT-000007", "invoice_number": "INV-DEFAULT-000042",
         "order_id": "d9a1128a-05bd-4d8e-aa4e-cd386132471e", "storefront": "default", "amount": "10.00",
         "currency": "USD", "reason": "arrived broken", "issued_at": "2026-11-28T10:02:11Z",
         "pdf_url": "/api/v1/staff/orders/d9a1128a-05bd-4d8e-aa4e-cd386132471e/credit-notes/CN-DEFAULT-000007.pdf"}]})

    number: str
    invoice_number: str
    order_id: uuid.UUID
    storefront: str
    amount: Money
    currency: str
    reason: str | None
    issued_at: datetime
    pdf_url: str

    @classmethod
    def of(cls, note: Any, invoice_number: str) -> CreditNoteSummaryRead:
        return cls(number=note.number, invoice_number=invoice_number, order_id=note.order_id,
                   storefront=note.storefront, amount=note.amount, currency=note.currency, reason=note.reason,
                   issued_at=note.issued_at,
                   pdf_url=f"/api/v1/staff/orders/{note.order_id}/credit-notes/{note.number}.pdf")
