"""The dependencies generation's routes list, named once."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from atelier_common.auth import client_ip
from atelier_generation.bootstrap import Generation
from atelier_generation.service import AccountService, CreditService, ImageService, JobService, RestorationService


async def _generation(request: Request) -> Generation:
    return request.app.state.runtime.generation


GenerationDep = Annotated[Generation, Depends(_generation)]


async def _credits(generation: GenerationDep) -> CreditService:
    return generation.credits


async def _jobs(generation: GenerationDep) -> JobService:
    return generation.jobs


async def _images(generation: GenerationDep) -> ImageService:
    return generation.images


async def _restorations(generation: GenerationDep) -> RestorationService:
    return generation.restorations


async def _accounts(generation: GenerationDep) -> AccountService:
    return generation.accounts


async def _client_ip(request: Request) -> str:
    return client_ip(request)


CreditServiceDep = Annotated[CreditService, Depends(_credits)]
JobServiceDep = Annotated[JobService, Depends(_jobs)]
ImageServiceDep = Annotated[ImageService, Depends(_images)]
RestorationServiceDep = Annotated[RestorationService, Depends(_restorations)]
AccountServiceDep = Annotated[AccountService, Depends(_accounts)]
ClientIpDep = Annotated[str, Depends(_client_ip)]

# Declared on routes so that the merged OpenAPI lists the error answers too.
USER = {401: {"description": "Authentication required"}}
NOT_FOUND = {404: {"description": "Not found (or not yours)"}}
INSUFFICIENT = {403: {"description": "INSUFFICIENT_CREDITS"}}
