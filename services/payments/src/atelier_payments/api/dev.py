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
from atelier_common.openapi import DEV_TAG
from atelier_payments.api.deps import NOT_FOUND, LocalCheckoutServiceDep, Responses, require_dev_endpoints
from atelier_payments.schemas import CheckoutPaid
from atelier_payments.service.local_checkout import CheckoutPage

router = APIRouter(prefix="/api/dev/checkout", tags=[DEV_TAG], dependencies=[require_dev_endpoints])
SessionId = Annotated[str, Path(max_length=64)]
# The answers as the OpenAPI document shows them: the page, and Pay's two answers.
PAGE: Responses = {200: {"description": "The checkout page", "content": {"text/html": {"example": (
    '<!doctype html><html><head><meta charset="utf-8"><title>Pay order ORD-20261126-NNKSU0 — Atelier</title></head>'
    '<body><h1>Order ORD-20261126-NNKSU0</h1><p>Total: <strong>32.24 USD</strong></p>'
    '<form method="post" action="/api/dev/checkout/lcs_35b693831d9765b9f787225e67b5dbd9/pay">'
    '<button type="submit">Pay 32.24 USD</button></form></body></html>')}}}}
PAID: Responses = {200: {"model": CheckoutPaid, "description": "With `Accept: application/json`: the order is paid"},
                   303: {"description": "Otherwise (a browser): to the storefront's success URL"}}


@router.get("/{session_id}", summary="Show the local checkout page", response_class=HTMLResponse,
            responses={**PAGE, **NOT_FOUND})
async def show_checkout(session_id: SessionId, checkout: LocalCheckoutServiceDep) -> HTMLResponse:
    """The `local` payment provider's checkout page for a session (`checkout_url` of `POST
    /api/v1/payments/checkout`): the order and a Pay button. No real money moves."""
    page = await checkout.page(session_id)
    return HTMLResponse(_render(page, cancel_url=checkout.cancel_url(page)))


@router.post("/{session_id}/pay", summary="Pay a local checkout",
             responses={**PAID, **NOT_FOUND, 409: {"description": "CHECKOUT_SESSION_CLOSED"}})
async def pay_checkout(session_id: SessionId, checkout: LocalCheckoutServiceDep,
                       accept: Annotated[str, Header()] = "") -> Response:
    """What the page's Pay button does: the order is paid (the provider's signed webhook follows). A JSON caller
    (`Accept: application/json`) gets the outcome, a browser a redirect to the storefront's success URL."""
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
