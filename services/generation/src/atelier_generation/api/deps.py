"""The dependencies generation's routes list, named once."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from atelier_common.auth import client_ip
from atelier_common.db import SessionDep
from atelier_common.responses import ErrorResponses
from atelier_common.service import context_of, use_case
from atelier_common.storefronts import CurrentStorefront
from atelier_generation.service import (
    AccountService,
    BookService,
    CreditService,
    ImageService,
    JobService,
    ProviderWebhookService,
    RestorationService,
    RetryService,
)


async def _client_ip(request: Request) -> str:
    return client_ip(request)


async def _book_service(request: Request, session: SessionDep, storefront: CurrentStorefront) -> BookService:
    """Storybooks know the caller's client: an anonymous owner's books are bound to it (S0); and
    the request's storefront, which the books and illustration jobs it makes carry."""
    context = context_of(request)
    client = context.signer.client_hash(client_ip(request), request.headers.get("user-agent", ""))
    return BookService(session, context, client=client, address=client_ip(request), storefront=storefront.slug)


CreditServiceDep = Annotated[CreditService, use_case(CreditService)]
JobServiceDep = Annotated[JobService, use_case(JobService)]
ImageServiceDep = Annotated[ImageService, use_case(ImageService)]
RestorationServiceDep = Annotated[RestorationService, use_case(RestorationService)]
AccountServiceDep = Annotated[AccountService, use_case(AccountService)]
BookServiceDep = Annotated[BookService, Depends(_book_service)]
RetryServiceDep = Annotated[RetryService, use_case(RetryService)]
ProviderWebhookServiceDep = Annotated[ProviderWebhookService, use_case(ProviderWebhookService)]


async def _raw_body(request: Request) -> bytes:
    """Webhooks are verified on the exact bytes the provider signed."""
    return await request.body()


RawBody = Annotated[bytes, Depends(_raw_body)]
ClientIpDep = Annotated[str, Depends(_client_ip)]

# Declared on routes so that the merged OpenAPI lists the error answers too.
USER: ErrorResponses = {401: {"description": "Authentication required"}}
NOT_FOUND: ErrorResponses = {404: {"description": "Not found (or not yours)"}}
INSUFFICIENT: ErrorResponses = {403: {"description": "INSUFFICIENT_CREDITS"}}
