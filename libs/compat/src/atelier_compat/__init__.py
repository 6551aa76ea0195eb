"""Compatibility profiles: each seed API served at its own paths and in its own shapes.

A profile lives in its own module, `atelier_compat.<name>`, which exposes `PROFILE` (a
`core.Profile`): its route table, its envelope and its error format, and a README listing the
choices made where its seed document is ambiguous. The gateway serves the enabled ones under
`/compat/<name>/` (setting `compat_profiles`), and one of them at the root as well
(`compat_root_profile`). `/compat/<name>/schema` is the profile's OpenAPI document, `/compat/<name>/docs` (Swagger UI) and
`/compat/<name>/redoc` show it.

This package uses only `atelier_common` and the gateway's public seams (`atelier_gateway.seams`);
the gateway does not import it: the platform calls `mount(settings)` and hands the result to the
gateway's `create_app(..., compat=...)`.
"""

from __future__ import annotations

import importlib

from atelier_compat.core import Profile
from atelier_compat.dispatch import Compat
from atelier_gateway.seams import GatewaySettings

# S0 … S4, in the seeds' order.
PROFILE_NAMES = ("storybook", "marbelle", "reviv", "shop", "figureforge")


def available() -> dict[str, Profile]:
    """The profiles this build has (a profile not written yet is simply absent)."""
    out: dict[str, Profile] = {}
    for name in PROFILE_NAMES:
        try:
            module = importlib.import_module(f"atelier_compat.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"atelier_compat.{name}":
                raise
            continue
        out[name] = module.PROFILE
    return out


def enabled(names: list[str]) -> dict[str, Profile]:
    """The profiles named by the setting (`["all"]`: every one); an unknown name is an error."""
    have = available()
    if "all" in names:
        return have
    unknown = [n for n in names if n not in PROFILE_NAMES]
    if unknown:
        raise ValueError(f"unknown compatibility profiles: {unknown} (known: {list(PROFILE_NAMES)})")
    return {n: have[n] for n in names if n in have}


def mount(settings: GatewaySettings) -> Compat | None:
    """What the gateway serves for the `compat_*` settings (None: no profile named), for
    `atelier_gateway.app.create_app(..., compat=...)`; an unknown name is an error here, at start."""
    root = settings.compat_root_profile
    names = [*settings.compat_profiles, *([root] if root else [])]
    if not names:
        return None
    return Compat(enabled(names), root, tuple(settings.cors_origins), settings.compat_options)
