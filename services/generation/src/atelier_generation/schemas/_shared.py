"""What every resource's requests share."""

from __future__ import annotations

from pydantic import ConfigDict

from atelier_common.inputs import InputModel


class _Input(InputModel):
    # docs/api.md: unknown request fields are ignored; wrong types are 400.
    model_config = ConfigDict(extra="ignore")
