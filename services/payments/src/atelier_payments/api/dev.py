"""/api/dev/checkout: the `local` provider's checkout page and its Pay action.

Only with `dev_endpoints` (else 404); never in production. The page is a plain HTML form so
that a browser, curl or a test can pay; JSON callers of Pay get JSON instead of the redirect.
"""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Header, Path, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atelier_common.money import quantize
from atelier_payments.api.deps import NOT_FOUND, LocalCheckoutServiceDep, require_dev_endpoints
from atelier_payments.schemas import CheckoutPaid
from atelier_payments.service.local_checkout import CheckoutPage

router = APIRouter(prefix="/api/dev/checkout", tags=["dev"], dependencies=[require_dev_endpoints],
                   include_in_schema=False)
SessionId = Annotated[str, Path(max_length=64)]


@router.get("/{session_id}", response_class=HTMLResponse, responses=NOT_FOUND)
async def show_checkout(session_id: SessionId, checkout: LocalCheckoutServiceDep) -> HTMLResponse:
    page = await checkout.page(session_id)
    return HTMLResponse(_render(page, cancel_url=checkout.cancel_url(page)))


@router.post("/{session_id}/pay", responses={**NOT_FOUND, 409: {"description": "CHECKOUT_SESSION_CLOSED"}})
async def pay_checkout(session_id: SessionId, checkout: LocalCheckoutServiceDep,
                       accept: Annotated[str, Header()] = "") -> Response:
    paid = await checkout.pay(session_id)
    if "application/json" in accept:
        body = CheckoutPaid(order_id=paid.checkout.order_id, session_id=paid.checkout.id,
                            redirect_url=paid.redirect_url)
        return Response(body.model_dump_json(), media_type="application/json")
    return RedirectResponse(paid.redirect_url, status_code=status.HTTP_303_SEE_OTHER)


def _render(page: CheckoutPage, *, cancel_url: str) -> str:
    payment, snapshot = page.payment, page.payment.order_snapshot
    number = escape(str(snapshot.get("order_number") or payment.order_id))
    shop = escape(page.storefront_name)
    total = f"{quantize(payment.amount)} {escape(payment.currency)}"
    rows = "".join(
        f"<tr><td>{escape(str(line.get('sku', '')))}</td><td>{int(line.get('quantity', 0))}</td>"
        f"<td>{escape(str(line.get('unit_price', '')))}</td></tr>" for line in snapshot.get("lines") or [])
    if page.is_payable:
        action = (f'<form method="post" action="/api/dev/checkout/{escape(page.checkout.id)}/pay">'
                  f'<button type="submit">Pay {total}</button></form>'
                  f'<p><a href="{escape(cancel_url)}">Cancel</a></p>')
    else:
        action = f"<p>This checkout is {escape(page.checkout.status)}.</p>"
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>Pay order {number} — {shop}</title>"
            f"</head><body><p class=\"storefront\">{shop}</p><h1>Order {number}</h1>"
            f"<table><tr><th>SKU</th><th>Qty</th><th>Unit price</th></tr>{rows}"
            f"</table><p>Total: <strong>{total}</strong></p>{action}"
            f"<p><small>Atelier local payment provider — no real money moves.</small></p></body></html>")
