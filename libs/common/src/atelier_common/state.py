"""What an app's lifespan put on `app.state`, read back typed and checked.

Starlette's `app.state` takes any attribute and gives back `Any`: a misspelt key, or a lifespan that
never ran, surfaces later as an AttributeError or a wrong object deep in a request. Every read goes
through `app_state(app, key, kind)`, which says which key is missing or of which other type.
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


def app_state(app: Any, key: str, kind: type[T]) -> T:
    value = getattr(app.state, key, None)
    if not isinstance(value, kind):
        raise RuntimeError(f"app.state.{key} is {type(value).__name__}, not {kind.__name__}: "
                           "is the app's lifespan running?")
    return value
