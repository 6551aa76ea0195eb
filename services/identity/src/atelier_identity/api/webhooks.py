"""Outbound webhooks, admin only: endpoints, their delivery log, replay (docs/webhooks.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from atelier_common.auth import AdminPrincipal, key_access
from atelier_common.errors import ERROR_RESPONSES
from atelier_common.inputs import InputModel
from atelier_common.pagination import Page, PageParamsDep, build_page
from atelier_common.service import use_case
from atelier_identity.api.deps import WebhookManagerPrincipal
from atelier_identity.api.outbound import WHAT
from atelier_identity.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from atelier_identity.service.webhooks import WebhookEndpoints
from atelier_identity.webhooks import EVENT_TYPES

router = APIRouter(prefix="/api/v1", tags=["webhooks"], responses=ERROR_RESPONSES)
EndpointsDep = Annotated[WebhookEndpoints, use_case(WebhookEndpoints)]
EndpointsReaderDep = Annotated[WebhookEndpoints, use_case(WebhookEndpoints, read_only=True)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "WEBHOOK_ENDPOINT_NOT_FOUND"}}
EVENTS_DOC = "event types: " + ", ".join(EVENT_TYPES)


def _url(value: str) -> str:
    """A well-formed http(s) URL; where it may point is the service's rule (`webhooks.check_url`)."""
    try:
        parts = urlsplit(value)
        _ = parts.port
    except ValueError as exc:
        raise ValueError(f"not a URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("an http or https URL with a host is required")
    return value


class EndpointCreate(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"url": "https://erp.example.com/hooks/atelier", "events": ["order.paid", "order.placed"],
         "description": "ERP sync"}]})

    url: str = Field(min_length=8, max_length=2048)
    events: list[str] = Field(min_length=1, max_length=len(EVENT_TYPES), description=EVENTS_DOC)
    storefront: str | None = Field(default=None, min_length=1, max_length=64)
    description: str | None = Field(default=None, max_length=500)

    _check_url = field_validator("url")(_url)


class EndpointChange(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"description": "ERP sync (orders)"}]})

    url: str | None = Field(default=None, min_length=8, max_length=2048)
    events: list[str] | None = Field(default=None, min_length=1, max_length=len(EVENT_TYPES), description=EVENTS_DOC)
    storefront: str | None = Field(default=None, min_length=1, max_length=64)
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = None

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        return None if value is None else _url(value)


class EndpointRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "ac7c553c-7f1b-4953-9f9c-eb25e81c754e", "url": "https://erp.example.com/hooks/atelier",
         "events": ["order.paid", "order.placed"], "storefront": None, "description": "ERP sync", "enabled": True,
         "disabled_reason": None, "owner_key_id": None, "created_at": "2026-11-26T02:15:40.771017Z",
         "updated_at": "2026-11-26T02:15:40.771026Z"}]})

    id: uuid.UUID
    url: str
    events: list[str]
    storefront: str | None
    description: str | None
    enabled: bool
    disabled_reason: str | None
    # The API key that registered it (only it and admins see it); None: a person did.
    owner_key_id: uuid.UUID | None = None
    created_at: datetime
    updated_at: datetime


class EndpointCreated(EndpointRead):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "ac7c553c-7f1b-4953-9f9c-eb25e81c754e", "url": "https://erp.example.com/hooks/atelier",
         "events": ["order.paid", "order.placed"], "storefront": None, "description": "ERP sync", "enabled": True,
         "disabled_reason": None, "owner_key_id": None, "created_at": "2026-11-26T02:15:40.771017Z",
         "updated_at": "2026-11-26T02:15:40.771026Z",
         "secret": "whsec_k5Ww4NJ2/tbc+jiPale0T+KZeTUeoPWXy1o6GbDe+cc="}]})

    # Shown once, here: the receiver verifies signatures with it.
    secret: str


class EventTypeRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"type": "order.paid", "description": "The payment provider confirmed an order's payment."}]})

    type: str
    description: str


class AttemptRead(BaseModel):
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "48306443-88a5-43e5-8b43-f96f867645b9", "endpoint_id": "ac7c553c-7f1b-4953-9f9c-eb25e81c754e",
         "event_id": "0c941c36-4942-440a-b3ea-a92ff1df5b9b", "event_type": "order.placed",
         "webhook_id": "msg_30e5eb00897159cd99673b46190375de", "status": "succeeded",
         "attempts": [{"at": "2026-11-26T02:15:41.107039Z", "status_code": 503, "error": "HTTP 503",
                       "duration_ms": 41},
                      {"at": "2026-11-26T02:15:46.210512Z", "status_code": 200, "error": None, "duration_ms": 38}],
         "last_status_code": 200, "last_error": None, "next_attempt_at": None,
         "created_at": "2026-11-26T02:15:41.049291Z"}]})

    id: uuid.UUID
    endpoint_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    webhook_id: str
    status: str
    attempts: list[AttemptRead]
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime


def _endpoint(endpoint: WebhookEndpoint, *, secret: bool = False) -> dict[str, Any]:
    out = endpoint.model_dump(exclude={"secret"})
    if secret:
        out["secret"] = endpoint.secret
    return out


def _delivery(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> dict[str, Any]:
    return {**delivery.model_dump(exclude={"payload", "message_id", "attempts"}), "webhook_id": delivery.message_id,
            "attempts": [a.model_dump() for a in attempts]}


@router.get("/staff/webhooks/events", summary="List webhook event types", response_model=list[EventTypeRead])
@key_access()
async def list_webhook_event_types(_: AdminPrincipal) -> list[dict[str, str]]:
    """Every event type an endpoint may subscribe to, with what it tells a receiver (the `webhooks`
    section of this document has each one's body)."""
    return [{"type": event_type, "description": WHAT[event_type]} for event_type in EVENT_TYPES]


@router.get("/webhook-endpoints", summary="List webhook endpoints", response_model=Page[EndpointRead])
@key_access()
async def list_webhook_endpoints(request: Request, staff: WebhookManagerPrincipal, endpoints: EndpointsReaderDep,
                                 params: PageParamsDep) -> dict[str, Any]:
    """The registered receivers of outbound webhooks (their secrets are never shown again); an API
    key's own alone when a key asks (admin, or an API key)."""
    count, rows = await endpoints.page(staff, limit=params.limit, offset=params.offset)
    page: dict[str, Any] = build_page(request, params, count, [_endpoint(e) for e in rows])
    return page


@router.post("/webhook-endpoints", summary="Register a webhook endpoint",
             response_model=EndpointCreated, status_code=201,
             responses={400: {"description": "WEBHOOK_URL_NOT_ALLOWED or VALIDATION_ERROR"},
                        403: {"description": "PERMISSION_DENIED: not an admin or an API key, or events or a "
                                             "storefront the key may not have"}})
@key_access()
async def create_webhook_endpoint(body: EndpointCreate, staff: WebhookManagerPrincipal, endpoints: EndpointsDep) -> Any:
    """Register a receiver for some event types (the `webhooks` section of this document describes each payload);
    the answer carries its signing secret (`whsec_…`), shown only here. An API key registers its own (only it
    and admins see it), for the events its roles may read and a storefront it may touch (docs/webhooks.md)."""
    endpoint = await endpoints.create(staff, url=body.url, events=body.events, storefront=body.storefront,
                                      description=body.description)
    return _endpoint(endpoint, secret=True)


@router.get("/webhook-endpoints/{endpoint_id}", summary="Get a webhook endpoint",
            response_model=EndpointRead, responses=NOT_FOUND)
@key_access()
async def get_webhook_endpoint(endpoint_id: uuid.UUID, staff: WebhookManagerPrincipal, endpoints: EndpointsReaderDep) -> Any:
    """One endpoint: its events, filter and whether it is enabled (and why not)."""
    return _endpoint(await endpoints.get(staff, endpoint_id))


@router.patch("/webhook-endpoints/{endpoint_id}", summary="Update a webhook endpoint",
              response_model=EndpointRead, responses=NOT_FOUND)
@key_access()
async def update_webhook_endpoint(endpoint_id: uuid.UUID, body: EndpointChange, staff: WebhookManagerPrincipal,
                                  endpoints: EndpointsDep) -> Any:
    """Change an endpoint; `enabled: true` turns one that was disabled back on."""
    changes = body.model_dump(exclude_unset=True)
    for required in ("url", "events", "enabled"):
        if changes.get(required, ...) is None:
            changes.pop(required)
    return _endpoint(await endpoints.update(staff, endpoint_id, changes))


@router.delete("/webhook-endpoints/{endpoint_id}", summary="Delete a webhook endpoint",
               status_code=204, response_class=Response, responses=NOT_FOUND)
@key_access()
async def delete_webhook_endpoint(endpoint_id: uuid.UUID, staff: WebhookManagerPrincipal, endpoints: EndpointsDep) -> Response:
    """Stop sending to this receiver; its deliveries go with it."""
    await endpoints.delete(staff, endpoint_id)
    return Response(status_code=204)


@router.get("/webhook-endpoints/{endpoint_id}/deliveries", summary="List an endpoint's deliveries",
            response_model=Page[DeliveryRead], responses=NOT_FOUND)
@key_access()
async def list_webhook_deliveries(endpoint_id: uuid.UUID, request: Request, staff: WebhookManagerPrincipal,
                                  endpoints: EndpointsReaderDep, params: PageParamsDep) -> dict[str, Any]:
    """The endpoint's deliveries, newest first: each attempt's status code, the next retry."""
    count, rows = await endpoints.deliveries_page(staff, endpoint_id, limit=params.limit, offset=params.offset)
    page: dict[str, Any] = build_page(request, params, count, [_delivery(d, a) for d, a in rows])
    return page


@router.post("/webhook-deliveries/{delivery_id}/replay", summary="Replay a delivery", response_model=DeliveryRead,
             responses={404: {"description": "WEBHOOK_DELIVERY_NOT_FOUND"}})
@key_access()
async def replay_webhook_delivery(delivery_id: uuid.UUID, staff: WebhookManagerPrincipal, endpoints: EndpointsDep) -> Any:
    """Send a delivery again now (the same `webhook-id`), with a fresh retry schedule."""
    delivery, attempts = await endpoints.replay(staff, delivery_id)
    return _delivery(delivery, attempts)
