"""`app_state`: what a lifespan put on `app.state`, read back typed, or an error that names the key."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from atelier_common.state import app_state


def test_a_value_of_the_expected_type_is_returned() -> None:
    app = FastAPI()
    app.state.limit = 3
    assert app_state(app, "limit", int) == 3


@pytest.mark.parametrize("value", [None, "3"])
def test_a_missing_or_mistyped_value_names_the_key(value: object) -> None:
    app = FastAPI()
    if value is not None:
        app.state.limit = value
    with pytest.raises(RuntimeError, match=r"app\.state\.limit is .*, not int"):
        app_state(app, "limit", int)
