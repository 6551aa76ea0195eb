"""docs/configuration.md is written from the settings classes (`atelier config-docs`): it names every
setting with its variable and default, and a change to a class that is not generated again fails here."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from atelier_common.settings import AtelierSettings
from atelier_gateway.settings import SERVICES, GatewaySettings
from atelier_platform.cli import app
from atelier_platform.configdocs import render
from atelier_platform.embedded import settings_class

DOC = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"


def test_the_committed_file_is_what_the_settings_classes_generate() -> None:
    assert DOC.read_text() == render(), "run: uv run atelier config-docs --output docs/configuration.md"


def test_every_setting_of_every_process_is_documented_with_its_variable() -> None:
    text = render()
    for field in AtelierSettings.model_fields:
        assert f"`ATELIER_{field.upper()}`" in text, field
    for name, cls in [*((s, settings_class(s)) for s in SERVICES), ("gateway", GatewaySettings)]:
        own = [f for f in cls.model_fields if f not in AtelierSettings.model_fields]
        for field in own:
            assert f"_{field.upper()}`" in text, (name, field)
    # Each row says what the setting is for, from the comment above it in the class.
    assert "| `ATELIER_GATEWAY_CORS_ORIGINS` | JSON list | " in text
    assert "Origins CORS allows" in text
    assert "`ATELIER_IDENTITY_SIGNING_KEY_PEM` (required in production)" in text


def test_check_fails_on_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "configuration.md"
    stale.write_text(render().replace("`ATELIER_BUS`", "`ATELIER_EVENT_BUS`"))
    result = CliRunner().invoke(app, ["config-docs", "--check", "--output", str(stale)])
    assert result.exit_code == 1 and "stale" in result.output
    assert CliRunner().invoke(app, ["config-docs", "--check", "--output", str(DOC)]).exit_code == 0
