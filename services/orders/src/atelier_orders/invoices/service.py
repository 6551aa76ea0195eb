"""Invoices and credit notes: issued with the payment and the refunds they document, read
and downloaded as PDF by the order's readers.

Each number comes from its storefront's gap-free sequence (`InvoiceRepository.next_number`),
drawn in the transaction that writes the document. Every issue happens under the order's row lock
(`OrderRepository.lock`), so an order's documents are decided one at a time; the unique
constraints (one invoice per order, one credit note per refund) back that up, and the inbox drops
an event delivered twice.

The events of an order commute: a refund heard before the payment is credited when the invoice is
issued (from orders' record of the refund, `PaymentRecords`), and nothing is credited before there
is an invoice to credit.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import outbox
from atelier_common.auth import ORDER_READERS, Principal
from atelier_common.contracts.orders import CreditNoteIssued, InvoiceIssued
from atelier_common.service import UseCase
from atelier_common.storefronts import UnknownStorefront
from atelier_orders import domain
from atelier_orders.bootstrap import OrdersContext
from atelier_orders.errors import CreditNoteNotFound, InvoiceNotFound
from atelier_orders.invoices import documents
from atelier_orders.invoices import rules as invoice_rules
from atelier_orders.invoices.rules import DocumentKind
from atelier_orders.models import CreditNote, Invoice, OrderEdit, utcnow
from atelier_orders.queries import InvoiceQueries
from atelier_orders.repository import InvoiceRepository, OrderRepository
from atelier_orders.rows import LockedOrder, OrderDetails
from atelier_orders.service._shared import order_id_of, reload
from atelier_orders.service.payment_records import PaymentRecords
from atelier_orders.service.reading import reader_of

log = logging.getLogger("atelier.orders.invoices")


@dataclass(frozen=True)
class Seller:
    """Who sells, as an invoice snapshots it (`Storefront.legal`, else the storefront's name)."""

    name: str
    address: list[str] | None = None
    tax_number: str | None = None
    registration_number: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Refund:
    """A refund of an order's payment, as payments announced it (`payment.refunded`)."""

    payment_id: uuid.UUID
    refund_id: uuid.UUID | None
    amount: Decimal
    currency: str
    reason: str | None = None
    # The return, claim, edit or exchange it is for (`payment.refunded`'s `return_id`).
    return_id: uuid.UUID | None = None


class Invoicing(UseCase[OrdersContext]):
    def __init__(self, session: AsyncSession, context: OrdersContext) -> None:
        super().__init__(session, context)
        self.invoices = InvoiceRepository(session)

    async def issue(self, order: LockedOrder) -> None:
        """The invoice of `order`, just paid (its row locked by the caller): numbered, written and
        announced in this transaction, then the refunds heard before it credited. What it reads
        comes first: the storefront's counter stays locked from the number to the commit."""
        details = await reload(self.session, order.id)
        seller = await self._seller(order.storefront)
        # Refunds heard before the payment (the events of an order arrive in any order): none has
        # its credit note yet, since there was no invoice to credit.
        early = [Refund(payment_id=r.payment_id, refund_id=r.refund_id, amount=r.amount,
                        currency=r.currency or details.currency, reason=r.reason)
                 for r in await PaymentRecords(self.session, self.context).of_order(order.id)
                 if r.kind == "refund" and r.amount is not None]
        now = utcnow()
        number = invoice_rules.document_number(DocumentKind.INVOICE, order.storefront,
                                        await self.invoices.next_number(order.storefront, DocumentKind.INVOICE))
        invoice = Invoice(
            number=number, order_id=order.id, order_number=order.order_number, storefront=order.storefront,
            seller_name=seller.name, seller_address=seller.address, seller_tax_number=seller.tax_number,
            seller_registration_number=seller.registration_number, seller_email=seller.email,
            email=details.email, billing_address=details.billing_address,
            shipping_address=details.shipping_address, buyer_tax_number=details.buyer_tax_number, lines=invoice_rules.invoice_lines(details.items),
            currency=details.currency, subtotal=details.subtotal, tax_amount=details.tax_amount,
            shipping_cost=details.shipping_cost, discount=details.discount, total_amount=details.total_amount,
            shipping_method_name=details.shipping_method_name, tax_rate=details.tax_rate,
            taxes=invoice_rules.tax_breakdown(details), issued_at=now)
        await self.invoices.insert_invoice(invoice.model_dump())
        await outbox.add(self.session, InvoiceIssued(
            storefront=order.storefront, invoice_id=invoice.id, number=number, order_id=order.id,
            order_number=order.order_number, owner_id=order.owner_id, user_id=order.user_id, email=details.email,
            currency=invoice.currency, total_amount=invoice.total_amount, tax_amount=invoice.tax_amount,
            issued_at=now))
        log.info("invoice %s issued for order %s", number, order.order_number)
        for refund in early:
            await self._credit(order, invoice, refund)

    async def issue_supplementary(self, order: LockedOrder, *, before: OrderDetails, edit: OrderEdit) -> None:
        """The supplementary invoice of a paid edit of `order` (its row locked by the caller, the
        edit just applied): numbered in the storefront's invoice sequence like any invoice, its lines
        the lines the edit changed and its totals the difference (`before` → the order now), which
        is what the customer paid; it names the order's original invoice. Once per edit (the unique
        `edit_id`; the caller applies an edit once)."""
        after = await reload(self.session, order.id)
        seller = await self._seller(order.storefront)
        original = await self.invoices.invoice_of(order.id)
        now = utcnow()
        number = invoice_rules.document_number(DocumentKind.INVOICE, order.storefront,
                                               await self.invoices.next_number(order.storefront, DocumentKind.INVOICE))
        invoice = Invoice(
            number=number, order_id=order.id, order_number=order.order_number, storefront=order.storefront,
            seller_name=seller.name, seller_address=seller.address, seller_tax_number=seller.tax_number,
            seller_registration_number=seller.registration_number, seller_email=seller.email,
            email=after.email, billing_address=after.billing_address, shipping_address=after.shipping_address,
            buyer_tax_number=after.buyer_tax_number,
            lines=invoice_rules.supplementary_lines(before.items, after.items), currency=after.currency,
            subtotal=after.subtotal - before.subtotal, tax_amount=after.tax_amount - before.tax_amount,
            shipping_cost=after.shipping_cost - before.shipping_cost, discount=after.discount - before.discount,
            total_amount=after.total_amount - before.total_amount, shipping_method_name=after.shipping_method_name,
            tax_rate=after.tax_rate, taxes=invoice_rules.tax_difference(before, after), issued_at=now,
            kind="supplementary", edit_id=edit.id, original_number=original.number if original else None)
        await self.invoices.insert_invoice(invoice.model_dump())
        await outbox.add(self.session, InvoiceIssued(
            storefront=order.storefront, invoice_id=invoice.id, number=number, order_id=order.id,
            order_number=order.order_number, owner_id=order.owner_id, user_id=order.user_id, email=after.email,
            currency=invoice.currency, total_amount=invoice.total_amount, tax_amount=invoice.tax_amount,
            issued_at=now, kind="supplementary", original_number=invoice.original_number, edit_id=edit.id))
        log.info("supplementary invoice %s issued for order %s (edit v%s)", number, order.order_number, edit.version)

    async def credit_refund(self, order_id: uuid.UUID, refund: Refund) -> None:
        """A credit note for `refund`, once per refund; none before the order has its invoice (its
        issue credits the refund then)."""
        order = await OrderRepository(self.session).lock(order_id)
        if order is None:
            return
        invoice = await self.invoices.invoice_of(order.id)
        if invoice is None:
            # Heard before the payment (credited when the invoice is issued), or money the order
            # never took (paid after its cancellation: never invoiced, nothing to credit).
            log.info("refund of order %s, which has no invoice, not credited now", order.order_number)
            return
        if refund.refund_id is not None and refund.refund_id in await self.invoices.credited_refunds(order.id):
            return
        if refund.return_id is not None and await self.invoices.credit_note_of_return(refund.return_id) is not None:
            # An exchange's refund: its credit note (the lines that came back) was issued when they
            # came back; the refund is the part of that credit the new items did not take.
            return
        await self._credit(order, invoice, refund)

    async def credit_exchange(self, order: LockedOrder, *, return_id: uuid.UUID, amount: Decimal, currency: str,
                              lines: list[dict[str, str | int]], reason: str | None) -> None:
        """The credit note of an exchange's lines that came back (their share of what was charged,
        line by line), once per exchange; the exchange's order is invoiced for the new items. An
        order never invoiced (nothing was charged here) has nothing to credit."""
        invoice = await self.invoices.invoice_of(order.id)
        if invoice is None or await self.invoices.credit_note_of_return(return_id) is not None:
            return
        payments = [r.payment_id for r in await PaymentRecords(self.session, self.context).of_order(order.id)
                    if r.kind == "payment"]
        # The payment the lines were charged by; an order marked paid by staff has none recorded: its invoice.
        await self._credit(order, invoice, Refund(payment_id=payments[0] if payments else invoice.id, refund_id=None,
                                                  amount=amount, currency=currency, reason=reason,
                                                  return_id=return_id), lines=lines)

    async def _credit(self, order: LockedOrder, invoice: Invoice, refund: Refund,
                      lines: list[dict[str, str | int]] | None = None) -> None:
        now = utcnow()
        number = invoice_rules.document_number(DocumentKind.CREDIT_NOTE, order.storefront,
                                        await self.invoices.next_number(order.storefront, DocumentKind.CREDIT_NOTE))
        note = CreditNote(number=number, invoice_id=invoice.id, order_id=order.id, storefront=order.storefront,
                          refund_id=refund.refund_id, payment_id=refund.payment_id, amount=refund.amount,
                          currency=refund.currency, reason=(refund.reason or None) and refund.reason[:500],
                          return_id=refund.return_id if lines is not None else None, lines=lines, issued_at=now)
        await self.invoices.insert_credit_note(note.model_dump())
        await outbox.add(self.session, CreditNoteIssued(
            storefront=order.storefront, credit_note_id=note.id, number=number, invoice_id=invoice.id,
            invoice_number=invoice.number, order_id=order.id, order_number=order.order_number,
            owner_id=order.owner_id, user_id=order.user_id, refund_id=refund.refund_id, amount=note.amount,
            currency=note.currency, reason=note.reason, issued_at=now))
        log.info("credit note %s issued for invoice %s", number, invoice.number)

    async def _seller(self, slug: str) -> Seller:
        """The seller as the invoice names it: the storefront's legal details, else its name alone
        (a storefront deleted since: its slug)."""
        try:
            storefront = await self.context.storefronts.get(slug)
        except UnknownStorefront:
            return Seller(name=slug)
        legal = storefront.legal
        if legal is None:
            return Seller(name=storefront.name)
        return Seller(name=legal.name, address=list(legal.address) or None, tax_number=legal.tax_number,
                      registration_number=legal.registration_number, email=legal.email)


@dataclass(frozen=True)
class InvoicePicture:
    """An order's invoice with the credit notes issued against it so far, oldest first."""

    invoice: Invoice
    credit_notes: Sequence[CreditNote]
    # The order's paid edits' supplementary invoices, oldest first.
    supplementary: Sequence[Invoice] = ()


@dataclass(frozen=True)
class Pdf:
    number: str
    filename: str
    content: bytes


def _scoped(where: domain.DocumentFilter, staff: Principal) -> domain.DocumentFilter:
    if staff.storefronts is None:
        return where
    return dataclasses.replace(where, storefronts=tuple(sorted(staff.storefronts)))


class InvoiceReader(UseCase[OrdersContext]):
    """What the readers of an order see of its documents: the readers `GET /orders/{id}` has (its
    owner, the anonymous id a claim moved it from, order readers), and staff through
    `/staff/orders` (the route checks the role). An unpaid order, or another customer's, has no
    invoice to show (404)."""

    def __init__(self, session: AsyncSession, context: OrdersContext) -> None:
        super().__init__(session, context)
        self.invoices = InvoiceQueries(session)

    async def issued(self, where: domain.DocumentFilter, *, limit: int, offset: int,
                     staff: Principal) -> tuple[int, Sequence[Invoice]]:
        """Accounting's list: invoices issued in the window, oldest first; only the storefronts
        `staff`'s API key may touch."""
        return await self.invoices.issued(_scoped(where, staff), limit=limit, offset=offset)

    async def credited(self, where: domain.DocumentFilter, *, limit: int, offset: int,
                       staff: Principal) -> tuple[int, Sequence[tuple[CreditNote, str]]]:
        """Credit notes issued in the window, oldest first, each with its invoice's number."""
        return await self.invoices.credited(_scoped(where, staff), limit=limit, offset=offset)

    async def invoice(self, order_ref: str, viewer: Principal) -> InvoicePicture:
        invoice = await self._invoice(order_ref, viewer)
        return InvoicePicture(invoice=invoice, credit_notes=await self.invoices.credit_notes(invoice.order_id),
                              supplementary=await self.invoices.supplementary(invoice.order_id))

    async def supplementary_pdf(self, order_ref: str, number: str, viewer: Principal) -> Pdf:
        """A supplementary invoice of an order `viewer` may read (the original's readers)."""
        invoice = await self._invoice(order_ref, viewer)
        supplementary = await self.invoices.supplementary_one(invoice.order_id, number)
        if supplementary is None:
            raise InvoiceNotFound()
        content = await asyncio.to_thread(documents.invoice_pdf, supplementary,
                                          await self.invoices.locale_of(invoice.order_id))
        return Pdf(number=supplementary.number, filename=f"{supplementary.number}.pdf", content=content)

    async def invoice_pdf(self, order_ref: str, viewer: Principal) -> Pdf:
        invoice = await self._invoice(order_ref, viewer)
        content = await asyncio.to_thread(documents.invoice_pdf, invoice, await self.invoices.locale_of(invoice.order_id))
        return Pdf(number=invoice.number, filename=f"{invoice.number}.pdf", content=content)

    async def credit_note_pdf(self, order_ref: str, number: str, viewer: Principal) -> Pdf:
        invoice = await self._invoice(order_ref, viewer)
        note = await self.invoices.credit_note(invoice.id, number)
        if note is None:
            raise CreditNoteNotFound()
        content = await asyncio.to_thread(documents.credit_note_pdf, note, invoice,
                                          await self.invoices.locale_of(invoice.order_id))
        return Pdf(number=note.number, filename=f"{note.number}.pdf", content=content)

    async def _invoice(self, order_ref: str, viewer: Principal) -> Invoice:
        """The order's invoice if `viewer` may read the order: order readers (support, finance,
        admin) any order's of the storefronts they may touch (an API key's scope), anyone else only
        their own's (`OrderService.get`'s rule)."""
        order_id = order_id_of(order_ref)
        if viewer.has_role(*ORDER_READERS):
            invoice = await self.invoices.of_order(order_id)
        else:
            invoice = await self.invoices.of_order(order_id, owner_id=viewer.owner_id, reader=reader_of(viewer))
        if invoice is None or not viewer.may_touch(invoice.storefront):
            raise InvoiceNotFound()
        return invoice
