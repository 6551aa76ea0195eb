"""An order's invoice and credit notes, as JSON and as PDF: for the order's readers under
/api/v1/orders (anonymous buyers included), and for support and finance under /api/v1/staff/orders."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from atelier_common.auth import SCOPE_INVOICES_READ, AnonPrincipal, OrderReaderPrincipal, key_access
from atelier_common.pagination import Page, PageParamsDep, build_page
from atelier_common.responses import ErrorResponses
from atelier_orders.api.deps import ORDER_IN_SCOPE, InvoiceReaderDep
from atelier_orders.domain import DocumentFilter
from atelier_orders.invoices.service import Pdf
from atelier_orders.schemas import (
    CreditNoteLink,
    CreditNoteSummaryRead,
    DocumentQuery,
    InvoiceRead,
    InvoiceSummaryRead,
)

router = APIRouter(prefix="/api/v1", tags=["orders"])
staff = APIRouter(prefix="/api/v1/staff", tags=["staff"])
CreditNoteNumber = Annotated[str, Path(max_length=100,
                                        description="The credit note's number, e.g. CN-DEFAULT-000007")]
InvoiceNumber = Annotated[str, Path(max_length=100, description="The supplementary invoice's number, e.g. "
                                                                "INV-DEFAULT-000009")]

NO_INVOICE: ErrorResponses = {404: {"description": "NOT_FOUND: unknown order, another customer's, or not paid (no "
                                                   "invoice yet)"}}
NO_CREDIT_NOTE: ErrorResponses = {404: {"description": "NOT_FOUND: as the invoice's, or no such credit note of it"}}
NO_SUPPLEMENTARY: ErrorResponses = {404: {"description": "NOT_FOUND: as the invoice's, or no such supplementary "
                                                         "invoice of the order"}}
STAFF_ONLY: ErrorResponses = {401: {"description": "Authentication required"},
                              403: {"description": "Support or finance only"}}
PDF_ANSWER: ErrorResponses = {200: {"description": "The document as a PDF file (an attachment named after its number)",
                                    "content": {"application/pdf": {
                                        "schema": {"type": "string", "contentMediaType": "application/pdf"},
                                        "example": "%PDF-1.3 …"}}}}


def _pdf(document: Pdf, *, invoice: bool) -> Response:
    """A document's bytes: the caller's own (`private`), saved under its number; an invoice's number
    is in the `X-Invoice-Number` header too."""
    headers = {"Content-Disposition": f'attachment; filename="{document.filename}"', "Cache-Control": "private"}
    if invoice:
        headers["X-Invoice-Number"] = document.number
    return Response(document.content, media_type="application/pdf", headers=headers)


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "application/pdf" not in accept


INVOICE_ANSWER: ErrorResponses = {200: {
    "description": "The invoice as a PDF file (its number in `X-Invoice-Number`), or as JSON when the client "
                   "accepts `application/json` and not `application/pdf`",
    "content": {"application/pdf": {"schema": {"type": "string", "contentMediaType": "application/pdf"},
                                    "example": "%PDF-1.3 …"},
                "application/json": {"schema": {"$ref": "#/components/schemas/InvoiceRead"},
                                     "example": InvoiceRead.model_json_schema()["examples"][0]}}}}


@router.get("/orders/{order_id}/invoice", summary="Get an order's invoice", response_model=None,
            response_class=Response, responses={**INVOICE_ANSWER, **NO_INVOICE})
async def get_invoice(order_id: str, request: Request, viewer: AnonPrincipal,
                      invoices: InvoiceReaderDep) -> Response:
    """The invoice of one of the caller's paid orders (support and finance: any order's): a PDF by default; as
    JSON (seller, buyer, lines, tax, shipping and total as they were when it was paid, with the credit notes of
    its refunds) for a client that asks for `application/json`."""
    if _wants_json(request):
        picture = await invoices.invoice(order_id, viewer)
        read = InvoiceRead.of(picture.invoice, picture.credit_notes, picture.supplementary,
                              base=f"/api/v1/orders/{order_id}")
        return JSONResponse(read.model_dump(mode="json"), headers={"Cache-Control": "private"})
    document = await invoices.invoice_pdf(order_id, viewer)
    return _pdf(document, invoice=True)


@router.get("/orders/{order_id}/credit-notes", summary="List an order's credit notes",
            response_model=list[CreditNoteLink], responses=NO_INVOICE)
async def list_credit_notes(order_id: str, viewer: AnonPrincipal, invoices: InvoiceReaderDep) -> list[CreditNoteLink]:
    """One credit note per refund of one of the caller's paid orders, oldest first, each with the URL of its PDF."""
    picture = await invoices.invoice(order_id, viewer)
    return [CreditNoteLink.of(note, f"/api/v1/orders/{order_id}/credit-notes/{note.number}.pdf")
            for note in picture.credit_notes]


@router.get("/orders/{order_id}/invoice.pdf", summary="Download an order's invoice", response_class=Response,
            responses={**PDF_ANSWER, **NO_INVOICE})
async def get_invoice_pdf(order_id: str, viewer: AnonPrincipal, invoices: InvoiceReaderDep) -> Response:
    """The invoice of one of the caller's paid orders, as a PDF file."""
    document = await invoices.invoice_pdf(order_id, viewer)
    return _pdf(document, invoice=True)


@router.get("/orders/{order_id}/credit-notes/{number}.pdf", summary="Download a credit note",
            response_class=Response, responses={**PDF_ANSWER, **NO_CREDIT_NOTE})
async def get_credit_note_pdf(order_id: str, number: CreditNoteNumber, viewer: AnonPrincipal,
                              invoices: InvoiceReaderDep) -> Response:
    """A credit note of one of the caller's orders (one per refund; their numbers are in the invoice's
    `credit_notes`), as a PDF file."""
    return _pdf(await invoices.credit_note_pdf(order_id, number, viewer), invoice=False)


@router.get("/orders/{order_id}/supplementary-invoices/{number}.pdf", summary="Download a supplementary invoice",
            response_class=Response, responses={**PDF_ANSWER, **NO_SUPPLEMENTARY})
async def get_supplementary_invoice_pdf(order_id: str, number: InvoiceNumber, viewer: AnonPrincipal,
                                        invoices: InvoiceReaderDep) -> Response:
    """A supplementary invoice of one of the caller's orders (one per paid edit; their numbers are in the
    invoice's `supplementary`), as a PDF file."""
    return _pdf(await invoices.supplementary_pdf(order_id, number, viewer), invoice=True)


@staff.get("/invoices", summary="List invoices issued in a period", response_model=Page[InvoiceSummaryRead],
           responses=STAFF_ONLY)
@key_access(SCOPE_INVOICES_READ)
async def list_invoices(request: Request, query: Annotated[DocumentQuery, Query()], page: PageParamsDep,
                        reader: OrderReaderPrincipal, invoices: InvoiceReaderDep) -> dict[str, Any]:
    """Invoices issued in [`issued_after`, `issued_before`), oldest first, each with its money and
    its PDF's URL: a month's sales for accounting (support, finance)."""
    count, found = await invoices.issued(_documents(query), limit=page.limit, offset=page.offset, staff=reader)
    return build_page(request, page, count, [InvoiceSummaryRead.of(i) for i in found])


@staff.get("/credit-notes", summary="List credit notes issued in a period",
           response_model=Page[CreditNoteSummaryRead], responses=STAFF_ONLY)
@key_access(SCOPE_INVOICES_READ)
async def list_credit_notes_issued(request: Request, query: Annotated[DocumentQuery, Query()],
                                   page: PageParamsDep, reader: OrderReaderPrincipal,
                                   invoices: InvoiceReaderDep) -> dict[str, Any]:
    """Credit notes (one per refund) issued in [`issued_after`, `issued_before`), oldest first, each
    with the invoice it credits and its PDF's URL (support, finance)."""
    count, found = await invoices.credited(_documents(query), limit=page.limit, offset=page.offset, staff=reader)
    return build_page(request, page, count, [CreditNoteSummaryRead.of(note, number) for note, number in found])


def _documents(query: DocumentQuery) -> DocumentFilter:
    return DocumentFilter(issued_after=query.issued_after, issued_before=query.issued_before,
                          storefront=query.storefront)


@staff.get("/orders/{order_id}/invoice", summary="Get any order's invoice", response_model=InvoiceRead,
           responses={**NO_INVOICE, **STAFF_ONLY}, dependencies=[ORDER_IN_SCOPE])
@key_access(SCOPE_INVOICES_READ)
async def get_staff_invoice(order_id: str, reader: OrderReaderPrincipal, invoices: InvoiceReaderDep) -> InvoiceRead:
    """Any customer's order's invoice with its credit notes (support, finance)."""
    picture = await invoices.invoice(order_id, reader)
    return InvoiceRead.of(picture.invoice, picture.credit_notes, picture.supplementary,
                          base=f"/api/v1/staff/orders/{order_id}")


@staff.get("/orders/{order_id}/invoice.pdf", summary="Download any order's invoice", response_class=Response,
           responses={**PDF_ANSWER, **NO_INVOICE, **STAFF_ONLY}, dependencies=[ORDER_IN_SCOPE])
@key_access(SCOPE_INVOICES_READ)
async def get_staff_invoice_pdf(order_id: str, reader: OrderReaderPrincipal, invoices: InvoiceReaderDep) -> Response:
    """Any customer's order's invoice as a PDF file (support, finance)."""
    document = await invoices.invoice_pdf(order_id, reader)
    return _pdf(document, invoice=True)


@staff.get("/orders/{order_id}/credit-notes/{number}.pdf", summary="Download any order's credit note",
           response_class=Response, responses={**PDF_ANSWER, **NO_CREDIT_NOTE, **STAFF_ONLY},
           dependencies=[ORDER_IN_SCOPE])
@key_access(SCOPE_INVOICES_READ)
async def get_staff_credit_note_pdf(order_id: str, number: CreditNoteNumber, reader: OrderReaderPrincipal,
                                    invoices: InvoiceReaderDep) -> Response:
    """A credit note of any customer's order as a PDF file (support, finance)."""
    return _pdf(await invoices.credit_note_pdf(order_id, number, reader), invoice=False)


@staff.get("/orders/{order_id}/supplementary-invoices/{number}.pdf", summary="Download any order's supplementary "
           "invoice", response_class=Response, responses={**PDF_ANSWER, **NO_SUPPLEMENTARY, **STAFF_ONLY},
           dependencies=[ORDER_IN_SCOPE])
@key_access(SCOPE_INVOICES_READ)
async def get_staff_supplementary_invoice_pdf(order_id: str, number: InvoiceNumber, reader: OrderReaderPrincipal,
                                              invoices: InvoiceReaderDep) -> Response:
    """A paid edit's supplementary invoice of any customer's order as a PDF file (support, finance)."""
    return _pdf(await invoices.supplementary_pdf(order_id, number, reader), invoice=True)
