"""The pure rules of an order: status machine, totals, order numbers, address snapshots."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from atelier_common.contracts.identity import GuestAccounts
from atelier_orders import domain
from atelier_orders.domain import OrderStatus as S
from atelier_orders.invoices import rules as invoice_rules
from atelier_testing.storefronts import make_storefront

D = Decimal


class TestWhatAStatusMeans:
    """Orders' reading of its statuses, carried on the internal answer (payments and generation read
    `is_payable`/`is_paid`, never a status list of their own)."""

    def test_only_an_order_waiting_for_its_money_is_payable(self) -> None:
        assert {s for s in S if domain.is_payable(s)} == {S.PENDING, S.AWAITING_PAYMENT}

    def test_an_order_whose_money_arrived_is_paid_whatever_happened_since(self) -> None:
        assert {s for s in S if domain.is_paid(s)} == {S.PAID, S.PROCESSING, S.SHIPPED, S.DELIVERED, S.RETURNED,
                                                      S.COMPLETED}


class TestStatusMachine:
    @pytest.mark.parametrize(("current", "target"), [
        (S.PENDING, S.AWAITING_PAYMENT), (S.AWAITING_PAYMENT, S.PAID), (S.PAID, S.PROCESSING),
        (S.PROCESSING, S.SHIPPED), (S.SHIPPED, S.DELIVERED), (S.DELIVERED, S.RETURNED),
        (S.PENDING, S.REJECTED), (S.PENDING, S.PAID), (S.AWAITING_PAYMENT, S.REJECTED),
        (S.PENDING, S.CANCELLED), (S.AWAITING_PAYMENT, S.CANCELLED), (S.PAID, S.CANCELLED),
        (S.PROCESSING, S.CANCELLED),
    ])
    def test_the_fulfilment_path_is_allowed(self, current: S, target: S) -> None:
        assert domain.transition_problem(current, target, digital_only=False, by_staff=True) is None

    @pytest.mark.parametrize(("current", "target"), [
        (S.PENDING, S.SHIPPED), (S.PENDING, S.PROCESSING), (S.AWAITING_PAYMENT, S.PROCESSING),
        (S.PAID, S.PENDING), (S.SHIPPED, S.CANCELLED), (S.SHIPPED, S.PROCESSING), (S.DELIVERED, S.SHIPPED),
        (S.RETURNED, S.DELIVERED), (S.COMPLETED, S.PAID), (S.REFUNDED, S.CANCELLED), (S.CANCELLED, S.PENDING),
        (S.REJECTED, S.PENDING), (S.PAID, S.PAID), (S.PROCESSING, S.DELIVERED),
    ])
    def test_anything_else_is_refused_with_a_reason(self, current: S, target: S) -> None:
        problem = domain.transition_problem(current, target, digital_only=False, by_staff=False)
        assert problem is not None and current.value in problem and target.value in problem

    def test_refunded_only_when_payments_confirms(self) -> None:
        for current in (S.CANCELLED, S.REJECTED):
            assert domain.transition_problem(current, S.REFUNDED, digital_only=False, by_staff=False) is None
            assert domain.transition_problem(current, S.REFUNDED, digital_only=False, by_staff=True) is not None
        assert domain.transition_problem(S.PAID, S.REFUNDED, digital_only=False, by_staff=False) is not None

    def test_only_digital_orders_complete_and_they_never_ship(self) -> None:
        assert domain.transition_problem(S.PAID, S.COMPLETED, digital_only=True, by_staff=False) is None
        assert domain.transition_problem(S.PAID, S.COMPLETED, digital_only=False, by_staff=False) is not None
        assert domain.transition_problem(S.PAID, S.PROCESSING, digital_only=True, by_staff=True) is not None
        assert domain.allowed_targets(S.PAID, digital_only=True, by_staff=True) == ["cancelled", "completed"]
        assert domain.allowed_targets(S.PAID, digital_only=False, by_staff=True) == ["cancelled", "processing"]

    @pytest.mark.parametrize("status", [S.PENDING, S.AWAITING_PAYMENT, S.PAID, S.PROCESSING])
    def test_cancellable_before_shipping(self, status: S) -> None:
        assert domain.cancel_problem(status) is None

    @pytest.mark.parametrize("status", [S.SHIPPED, S.DELIVERED, S.RETURNED, S.COMPLETED, S.CANCELLED, S.REJECTED,
                                        S.REFUNDED])
    def test_not_cancellable_afterwards_and_the_reason_names_the_status(self, status: S) -> None:
        problem = domain.cancel_problem(status)
        assert problem is not None
        assert status.value in problem or "already cancelled" in problem

    def test_every_status_has_its_transitions(self) -> None:
        assert set(domain.TRANSITIONS) == set(S)
        terminal = {s for s, targets in domain.TRANSITIONS.items() if not targets}
        assert terminal == {S.RETURNED, S.COMPLETED, S.REFUNDED}


class TestTotals:
    def test_line_total(self) -> None:
        assert domain.line_total(D("33.33"), 3) == D("99.99")


class TestWhatTheStorefrontDecides:
    def test_an_order_is_in_the_storefronts_currency(self) -> None:
        euro = make_storefront("b", currency="EUR")
        assert domain.currency_problem(["EUR"], euro) is None
        assert domain.currency_problem(["USD"], euro) == "This storefront sells in EUR, not USD"
        assert domain.currency_problem(["EUR", "USD"], euro) == "All lines of an order must be in one currency"

    def test_the_default_storefront_takes_any_one_currency_as_before(self) -> None:
        default = make_storefront("default", currency="USD", is_default=True)
        assert domain.currency_problem(["GEL"], default) is None
        assert domain.currency_problem(["GEL", "USD"], default) is not None

    def test_which_kinds_ship(self) -> None:
        assert domain.requires_shipping(["credit_pack", "physical"])
        assert domain.requires_shipping(["print_tier"])
        assert domain.is_digital_only(["credit_pack", "retry_pack", "subscription_plan"])
        assert domain.is_digital_only([])


class TestOrderNumber:
    def test_format(self) -> None:
        number = domain.new_order_number(date(2026, 11, 21))
        assert re.fullmatch(r"ORD-20261121-[A-Z0-9]{6}", number)
        assert domain.ORDER_NUMBER_PATTERN.fullmatch(number)

    def test_random_suffix(self) -> None:
        numbers = {domain.new_order_number(date(2026, 1, 2)) for _ in range(200)}
        assert len(numbers) == 200
        assert all(n.startswith("ORD-20260102-") for n in numbers)


class TestAddresses:
    RAW = {"id": "6f1c2c7e-0000-4000-8000-000000000001", "full_name": "Ada Lovelace", "email": "ada@example.com",
           "phone": "+1", "street_address": "1 Main St", "address_line_2": "Apt 4", "city": "Tbilisi",
           "state": None, "postal_code": "0108", "country": "GE", "type": "shipping", "is_primary": True,
           "label": "Home"}

    def test_the_snapshot_keeps_address_fields_only(self) -> None:
        snapshot = domain.address_snapshot(self.RAW)
        assert "is_primary" not in snapshot and "label" not in snapshot and "state" not in snapshot
        assert snapshot["full_name"] == "Ada Lovelace" and snapshot["address_line_2"] == "Apt 4"

    def test_anonymising_keeps_no_person(self) -> None:
        anonymous = domain.anonymised_address(domain.address_snapshot(self.RAW))
        assert anonymous == {"city": "Tbilisi", "postal_code": "0108", "country": "GE", "type": "shipping"}
        assert domain.anonymised_address(None) is None

    def test_contact_email_prefers_the_first_given(self) -> None:
        assert domain.contact_email(None, "", "b@example.com", "c@example.com") == "b@example.com"
        assert domain.contact_email(None, None) is None


class TestOrdering:
    @pytest.mark.parametrize(("value", "expected"), [
        (None, domain.Ordering("created_at", True)), ("created_at", domain.Ordering("created_at", False)),
        ("-total_amount", domain.Ordering("total_amount", True)), (" total_amount ", domain.Ordering("total_amount",
                                                                                                      False)),
    ])
    def test_known_fields(self, value: str | None, expected: domain.Ordering) -> None:
        assert domain.parse_ordering(value) == expected

    @pytest.mark.parametrize("value", ["price", "-", "status", "created_at,total_amount"])
    def test_unknown_fields(self, value: str) -> None:
        assert domain.parse_ordering(value) is None


class TestDocumentNumbers:
    """Invoices and credit notes: prefix, storefront, then the storefront's sequence."""

    def test_a_number_names_its_kind_storefront_and_place_in_the_sequence(self) -> None:
        assert invoice_rules.document_number(invoice_rules.DocumentKind.INVOICE, "default", 42) == "INV-DEFAULT-000042"
        assert invoice_rules.document_number(invoice_rules.DocumentKind.CREDIT_NOTE, "marbelle", 7) == "CN-MARBELLE-000007"

    def test_the_sequence_outgrows_six_digits_without_wrapping(self) -> None:
        assert invoice_rules.document_number(invoice_rules.DocumentKind.INVOICE, "b", 1_234_567) == "INV-B-1234567"

    def test_an_address_prints_as_its_lines_without_blanks(self) -> None:
        assert domain.address_lines({"first_name": "Ada", "last_name": "King", "street_address": "12 St James's Square",
                                     "city": "London", "postal_code": "SW1Y 4JH", "state": "", "country": "GB"}) == [
            "Ada King", "12 St James's Square", "SW1Y 4JH London", "GB"]
        assert domain.address_lines(None) == []

    def test_money_text_is_two_places_and_the_currency(self) -> None:
        assert domain.money_text(D("32.2"), "USD") == "32.20 USD"


class TestWhetherTheBuyerGetsAnAccount:
    """`registers_buyer`: decided when the order is placed (docs/storefronts.md#guest-accounts)."""

    @pytest.mark.parametrize(("policy", "asked", "registers"), [
        ("create", False, True), ("create", True, True),
        ("offer", False, False), ("offer", True, True),
        ("never", False, False), ("never", True, False),
    ])
    def test_a_guest_as_the_storefront_says_and_as_they_asked(self, policy: GuestAccounts, asked: bool,
                                                              registers: bool) -> None:
        assert domain.registers_buyer(policy, signed_in=False, asked=asked) is registers

    @pytest.mark.parametrize("policy", ["create", "offer", "never"])
    @pytest.mark.parametrize("asked", [False, True])
    def test_a_signed_in_buyer_never_whatever_they_asked(self, policy: GuestAccounts, asked: bool) -> None:
        assert domain.registers_buyer(policy, signed_in=True, asked=asked) is False

    def test_the_default_storefront_offers(self) -> None:
        policy = make_storefront().guest_accounts
        assert policy == "offer"
        assert (domain.registers_buyer(policy, signed_in=False, asked=False),
                domain.registers_buyer(policy, signed_in=False, asked=True)) == (False, True)
