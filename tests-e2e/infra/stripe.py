"""The fake Stripe server payments' own tests use, loaded by path, and the platform settings that
point payments at it (the `stripe` provider)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

FAKE = Path(__file__).resolve().parents[2] / "services" / "payments" / "tests" / "fake_stripe.py"


def fake_stripe() -> ModuleType:
    name = "atelier_e2e_fakes_stripe"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, FAKE)
        assert spec and spec.loader, f"payments' fake Stripe not found at {FAKE}"
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def stripe_env(server_url: str) -> dict[str, str]:
    module = fake_stripe()
    return {"ATELIER_PAYMENTS_PROVIDER": "stripe", "ATELIER_PAYMENTS_STRIPE_API_KEY": module.API_KEY,
            "ATELIER_PAYMENTS_STRIPE_WEBHOOK_SECRET": module.WEBHOOK_SECRET,
            "ATELIER_PAYMENTS_STRIPE_API_BASE": server_url}
