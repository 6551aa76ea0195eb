"""The route table: the staff API's paths reach the service that owns their data."""

from __future__ import annotations

import pytest

from atelier_gateway.routing import resolve


@pytest.mark.parametrize(("path", "service"), [
    ("/api/v1/staff/customers", "identity"),
    ("/api/v1/staff/customers/6a1f/suspend", "identity"),
    ("/api/v1/staff/customers/6a1f", "identity"),
    # A customer's credits are generation's, under identity's prefix (the documented path, docs/back-office.md)…
    ("/api/v1/staff/customers/6a1f/credits", "generation"),
    ("/api/v1/staff/customers/{user_id}/credits", "generation"),  # …in the merged OpenAPI too
    ("/api/v1/staff/customers/6a1f/credits/more", "identity"),
    ("/api/v1/staff/credits/6a1f", "generation"),
    ("/api/v1/staff/mail/6a1f/resend", "identity"),
    ("/api/v1/staff/jobs/6a1f/retry", "generation"),
    ("/api/v1/staff/books", "generation"),
    ("/api/v1/staff/orders/6a1f", "orders"),
    ("/api/v1/staff/reports/daily", "orders"),
    ("/api/v1/staff/reports/failed-jobs", "generation"),
    ("/api/v1/staff/subscriptions", "payments"),
    ("/api/v1/products/a/b/c/credits", "catalog"),
])
def test_each_staff_path_reaches_its_owner(path: str, service: str) -> None:
    assert resolve(path) == service
