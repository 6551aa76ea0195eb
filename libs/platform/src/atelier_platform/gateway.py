"""The gateway as the platform runs it: the edge with the enabled compatibility profiles mounted.

The gateway does not import the profiles (`atelier_compat`); this composition root builds them
from the gateway's `compat_*` settings (`ATELIER_GATEWAY_COMPAT_PROFILES`, `…_COMPAT_ROOT_PROFILE`,
`…_COMPAT_OPTIONS`) and hands them to the gateway's app factory. Every profile is served unless
the settings name the ones to serve (`[]`: none): in every run mode, `atelier dev`, `atelier up`,
compose and Kubernetes alike, a product's frontend finds its profile at `/compat/<profile>/`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

import atelier_compat
from atelier_gateway.app import create_app
from atelier_gateway.settings import GatewaySettings


def create_gateway(settings: GatewaySettings | None = None, **kwargs: Any) -> FastAPI:
    """`atelier_gateway.app.create_app` with the profiles the settings name (`kwargs`: its other arguments);
    also the uvicorn factory of `atelier gateway`."""
    settings = settings or GatewaySettings()
    if "compat_profiles" not in settings.model_fields_set:
        settings = settings.model_copy(update={"compat_profiles": ["all"]})
    return create_app(settings, compat=atelier_compat.mount(settings), **kwargs)
