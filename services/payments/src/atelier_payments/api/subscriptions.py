"""/api/v1/subscriptions (S4), /internal/subscriptions and the local provider's dev pages
(/api/dev/subscriptions: checkout, portal, advancing a period)."""

from __future__ import annotations

import uuid
from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atelier_common.auth import UserPrincipal, require_service
from atelier_common.cache import cached_route
from atelier_common.contracts.catalog import PRODUCT_LIST_KEY
from atelier_common.idempotency import IdempotencyDep
from atelier_common.money import quantize
from atelier_common.openapi import DEV_TAG
from atelier_common.pagination import Page, PageParamsDep, build_page
from atelier_common.responses import ErrorResponses
from atelier_common.service import use_case
from atelier_common.storefronts import CurrentStorefront, Storefront
from atelier_payments.api.deps import AUTH, NOT_FOUND, PROVIDER, require_dev_endpoints
from atelier_payments.schemas import (
    AdvanceSubscription,
    InvoiceRead,
    PaymentMethodUpdate,
    PlanList,
    PortalRead,
    SubscriptionCheckout,
    SubscriptionCheckoutRead,
    SubscriptionRead,
    SubscriptionTold,
)
from atelier_payments.service.subscriptions import SubscriptionService

SubscriptionServiceDep = Annotated[SubscriptionService, use_case(SubscriptionService)]
STATE: ErrorResponses = {400: {"description": "INVALID_STATE or validation error"},
         404: {"description": "NOT_FOUND: no subscription (or unknown plan)"}}

router = APIRouter(prefix="/api/v1/subscriptions", tags=["subscriptions"])
internal_router = APIRouter(prefix="/internal/subscriptions", tags=["internal"], dependencies=[require_service],
                            include_in_schema=False)
dev_router = APIRouter(prefix="/api/dev/subscriptions", tags=[DEV_TAG], dependencies=[require_dev_endpoints])
SessionId = Annotated[str, Path(max_length=64)]
# The dev pages' answers as the OpenAPI document shows them.
CHECKOUT_PAGE: ErrorResponses = {200: {"description": "The subscription checkout page", "content": {"text/html": {
    "example": ('<!doctype html><html><head><meta charset="utf-8"><title>Subscribe to pro_monthly</title></head>'
                '<body><h1>Plan pro_monthly (pro)</h1><p>Price: <strong>19.99 USD</strong> every 30 days</p>'
                '<form method="post" action="/api/dev/subscriptions/checkout/lsub_8f598e218470483e6e0f45fa/pay">'
                '<button type="submit">Subscribe for 19.99 USD</button></form></body></html>')}}}}
PORTAL_PAGE: ErrorResponses = {200: {"description": "The billing portal page", "content": {"text/html": {
    "example": ('<!doctype html><html><head><meta charset="utf-8"><title>Your plan</title></head><body>'
                '<h1>Plan pro_monthly (active)</h1><p>Current period ends 2026-12-26T02:15:38+00:00</p>'
                '<form method="post" action="/api/dev/subscriptions/portal/lsub_8f598e218470483e6e0f45fa/cancel">'
                '<button type="submit">Cancel</button></form></body></html>')}}}}
SUBSCRIBED: ErrorResponses = {
    200: {"model": SubscriptionCheckoutRead, "description": "With `Accept: application/json`: where to go next"},
    303: {"description": "Otherwise (a browser): to the storefront's success URL"}}


# The plans are catalog products: public, cacheable by a CDN and purged with the catalog's lists
# (answers built over HTTP from catalog: nothing here to store them against).
plans_router = APIRouter(prefix="/api/v1/subscriptions", tags=["subscriptions"],
                         route_class=cached_route(stored=False, keys=lambda _path, _body: (PRODUCT_LIST_KEY,)))


@plans_router.get("/plans", summary="List subscription plans", response_model=PlanList)
async def list_plans(subscriptions: SubscriptionServiceDep) -> dict[str, Any]:
    """The plans the request's storefront sells, with their price, interval and monthly quota."""
    return {"results": await subscriptions.plans()}


@router.get("/current", summary="Get my subscription", response_model=SubscriptionRead, responses=AUTH)
async def current_subscription(user: UserPrincipal, subscriptions: SubscriptionServiceDep) -> dict[str, Any]:
    """The caller's plan, its period and this period's quota (the free tier, `status: null`, when they have none)."""
    return await subscriptions.current(user.owner_id)


@router.post("/checkout", summary="Subscribe to a plan", response_model=SubscriptionCheckoutRead,
             responses={**AUTH, **NOT_FOUND, **PROVIDER,
                        409: {"description": "ALREADY_SUBSCRIBED, or IDEMPOTENCY_KEY_REUSED (the key with another body)"}})
async def start_checkout(data: SubscriptionCheckout, user: UserPrincipal, subscriptions: SubscriptionServiceDep,
                         idempotency: IdempotencyDep, storefront: CurrentStorefront) -> Any:
    """A checkout page for a plan: send the customer to `checkout_url`; the subscription starts when the provider
    confirms the payment."""
    return await idempotency.run(lambda: _checkout(subscriptions, user, data, storefront))


async def _checkout(subscriptions: SubscriptionService, user: UserPrincipal, data: SubscriptionCheckout,
                    storefront: Storefront) -> SubscriptionCheckoutRead:
    url = await subscriptions.checkout(user.owner_id, data.plan_id, success_url=str(data.success_url),
                                       cancel_url=str(data.cancel_url), storefront=storefront, email=user.email)
    return SubscriptionCheckoutRead(checkout_url=url)


@router.post("/portal", summary="Open the billing portal",
             response_model=PortalRead, responses={**AUTH, **STATE, **PROVIDER})
async def open_portal(user: UserPrincipal, subscriptions: SubscriptionServiceDep) -> PortalRead:
    """A link to the provider's portal where the customer manages their plan and card."""
    return PortalRead(portal_url=await subscriptions.portal(user.owner_id))


@router.post("/cancel", summary="Cancel my subscription",
             response_model=SubscriptionRead, responses={**AUTH, **STATE, **PROVIDER})
async def cancel_subscription(user: UserPrincipal, subscriptions: SubscriptionServiceDep) -> dict[str, Any]:
    """Cancel at the end of the current period (the plan stays until then)."""
    return await subscriptions.cancel(user.owner_id)


@router.post("/reactivate", summary="Reactivate my subscription",
             response_model=SubscriptionRead, responses={**AUTH, **STATE, **PROVIDER})
async def reactivate_subscription(user: UserPrincipal, subscriptions: SubscriptionServiceDep) -> dict[str, Any]:
    """Undo a cancellation before the period ends."""
    return await subscriptions.reactivate(user.owner_id)


@router.post("/payment-method", summary="Change my card", response_model=SubscriptionRead, responses={**AUTH, **STATE})
async def update_payment_method(data: PaymentMethodUpdate, user: UserPrincipal,
                                subscriptions: SubscriptionServiceDep) -> dict[str, Any]:
    """Set the card the next renewals are charged to."""
    return await subscriptions.set_payment_method(user.owner_id, data.payment_method_id)


@router.get("/history", summary="List my invoices", response_model=Page[InvoiceRead], responses=AUTH)
async def billing_history(request: Request, user: UserPrincipal, page: PageParamsDep,
                          subscriptions: SubscriptionServiceDep) -> dict[str, Any]:
    """The caller's subscription invoices, newest first."""
    count, invoices = await subscriptions.history(user.owner_id, limit=page.limit, offset=page.offset)
    return build_page(request, page, count, invoices)


@internal_router.get("/{user_id}", response_model=SubscriptionRead)
async def internal_subscription(user_id: uuid.UUID, subscriptions: SubscriptionServiceDep) -> dict[str, Any]:
    """Exactly GET /subscriptions/current of that user (identity's /users/me shows it)."""
    return await subscriptions.current(user_id)


@internal_router.get("/{user_id}/plan", response_model=SubscriptionTold)
async def internal_plan(user_id: uuid.UUID, subscriptions: SubscriptionServiceDep) -> dict[str, Any]:
    """The plan as `subscription.changed` tells it (404 while there is none): generation asks it
    when a job would be refused before that event has reached it."""
    event, changed_at = await subscriptions.as_told(user_id)
    return {"event": event, "changed_at": changed_at}


@dev_router.post("/advance", summary="Advance a subscription period", response_model=SubscriptionRead, responses=STATE)
async def advance_period(data: AdvanceSubscription, subscriptions: SubscriptionServiceDep) -> dict[str, Any]:
    """End a user's current period now (by `user_id` or `email`): renew it paid, or fail the renewal (`outcome`)."""
    return await subscriptions.advance(data.outcome, user_id=data.user_id, email=data.email)


@dev_router.get("/checkout/{session_id}", summary="Show the local subscription checkout",
                response_class=HTMLResponse, responses={**CHECKOUT_PAGE, **NOT_FOUND})
async def show_subscription_checkout(session_id: SessionId, subscriptions: SubscriptionServiceDep) -> HTMLResponse:
    """The `local` provider's page to subscribe to a plan (`checkout_url` of `POST /api/v1/subscriptions/checkout`)."""
    view = await subscriptions.local_checkout(session_id)
    sub = view.subscription
    price = f"{quantize(sub.amount)} {escape(sub.currency)}"
    action = (f'<form method="post" action="/api/dev/subscriptions/checkout/{escape(session_id)}/pay">'
              f'<button type="submit">Subscribe for {price}</button></form>'
              f'<p><a href="{escape(view.cancel_url)}">Cancel</a></p>') if sub.status == "incomplete" else (
        f"<p>This checkout is closed ({escape(sub.status)}).</p>")
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset=\"utf-8\"><title>Subscribe to {escape(sub.plan_sku)}</title>"
        f"</head><body><p class=\"storefront\">{escape(view.storefront_name)}</p>"
        f"<h1>Plan {escape(sub.plan_sku)} ({escape(sub.tier)})</h1>"
        f"<p>Price: <strong>{price}</strong> every {view.period_days} days</p>"
        f"<p>{sub.monthly_quota} generations per period</p>{action}"
        f"<p><small>Atelier local payment provider — no real money moves.</small></p></body></html>")


@dev_router.post("/checkout/{session_id}/pay", summary="Pay a local subscription checkout",
                 responses={**SUBSCRIBED, **NOT_FOUND, **STATE})
async def pay_subscription_checkout(session_id: SessionId, subscriptions: SubscriptionServiceDep,
                                    accept: Annotated[str, Header()] = "") -> Response:
    """What the page's Subscribe button does; a JSON caller gets the success URL, a browser a redirect to it."""
    subscription = await subscriptions.pay_local_checkout(session_id)
    redirect = (subscription.checkout_success_url or "/").replace("{CHECKOUT_SESSION_ID}", session_id)
    if "application/json" in accept:
        return Response(SubscriptionCheckoutRead(checkout_url=redirect).model_dump_json(),
                        media_type="application/json")
    return RedirectResponse(redirect, status_code=status.HTTP_303_SEE_OTHER)


def _portal_page(subscription: Any) -> str:
    base = f"/api/dev/subscriptions/portal/{escape(subscription.provider_subscription_id or '')}"
    end = subscription.current_period_end.isoformat() if subscription.current_period_end else "-"
    toggle = "reactivate" if subscription.cancel_at_period_end else "cancel"
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>Your plan</title></head><body>"
            f"<h1>Plan {escape(subscription.plan_sku)} ({escape(subscription.status)})</h1>"
            f"<p>Current period ends {escape(end)}"
            f"{' — cancelled at period end' if subscription.cancel_at_period_end else ''}</p>"
            f'<form method="post" action="{base}/{toggle}"><button type="submit">{toggle.title()}</button></form>'
            f'<form method="post" action="{base}/payment-method"><input name="payment_method_id" '
            f'value="pm_card_visa"><button type="submit">Change card</button></form>'
            f"<p><small>Atelier local payment provider — no real money moves.</small></p></body></html>")


@dev_router.get("/portal/{session_id}", summary="Show the local billing portal",
                response_class=HTMLResponse, responses={**PORTAL_PAGE, **NOT_FOUND})
async def show_portal(session_id: SessionId, subscriptions: SubscriptionServiceDep) -> HTMLResponse:
    """The `local` provider's portal (`portal_url` of `POST /api/v1/subscriptions/portal`): cancel, reactivate, change the
    card."""
    return HTMLResponse(_portal_page(await subscriptions.local_portal(session_id)))


@dev_router.post("/portal/{session_id}/{action}", summary="Act in the local billing portal",
                 response_class=HTMLResponse, responses={**PORTAL_PAGE, **NOT_FOUND, **STATE})
async def portal_action(session_id: SessionId, action: Annotated[str, Path(pattern="^(cancel|reactivate|payment-method)$")],
                        request: Request, subscriptions: SubscriptionServiceDep) -> HTMLResponse:
    """Cancel, reactivate or change the card (form field `payment_method_id`); answers the portal page."""
    form = await request.form() if action == "payment-method" else {}
    method = form.get("payment_method_id")
    subscription = await subscriptions.local_portal(session_id, action, str(method) if method else None)
    return HTMLResponse(_portal_page(subscription))
