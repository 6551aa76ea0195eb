"""Pure rules: the monotonic status guard, minor units, provider events, signatures, settings."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from atelier_payments import domain
from atelier_payments.domain import EventAction
from atelier_payments.domain import PaymentStatus as S
from atelier_payments.settings import PaymentsSettings


class TestStatusGuard:
    @pytest.mark.parametrize("late", [S.CREATED, S.REQUIRES_PAYMENT, S.PROCESSING, S.FAILED, S.CANCELED])
    def test_nothing_moves_a_succeeded_payment_back(self, late: S) -> None:
        assert not domain.can_transition(S.SUCCEEDED, late)

    def test_only_a_succeeded_payment_is_refunded(self) -> None:
        assert domain.can_transition(S.SUCCEEDED, S.REFUNDED)
        assert not any(domain.can_transition(s, S.REFUNDED) for s in S if s != S.SUCCEEDED)
        assert not any(domain.can_transition(S.REFUNDED, s) for s in S)

    def test_a_failed_payment_can_still_succeed(self) -> None:
        assert domain.can_transition(S.FAILED, S.SUCCEEDED)
        assert domain.can_transition(S.PROCESSING, S.FAILED)


class TestMinorUnits:
    def test_two_decimal_and_zero_decimal_currencies(self) -> None:
        assert domain.to_minor_units(Decimal("85.50"), "USD") == 8550
        assert domain.to_minor_units(Decimal("2"), "GEL") == 200
        assert domain.to_minor_units(Decimal("0.005"), "USD") == 1  # half up
        assert domain.to_minor_units(Decimal("500"), "JPY") == 500


class TestStripeEvents:
    def _event(self, type_: str, obj: dict) -> dict:
        return {"id": "evt_1", "type": type_, "data": {"object": obj}}

    def test_intent_events(self) -> None:
        payment_id = uuid.uuid4()
        event = domain.stripe_event(self._event("payment_intent.succeeded", {
            "id": "pi_1", "amount": 100, "amount_received": 100, "currency": "usd", "latest_charge": "ch_1",
            "metadata": {"payment_id": str(payment_id), "order_id": "not-a-uuid"}}))
        assert (event.action, event.intent_id, event.charge_id, event.amount_minor, event.currency) == (
            EventAction.SUCCEEDED, "pi_1", "ch_1", 100, "USD")
        assert event.payment_id == payment_id and event.order_id is None
        failed = domain.stripe_event(self._event("payment_intent.payment_failed", {
            "id": "pi_1", "last_payment_error": {"message": "declined"}}))
        assert failed.action == EventAction.FAILED and failed.reason == "declined"
        assert domain.stripe_event(self._event("payment_intent.created", {"id": "pi_1"})).action == EventAction.IGNORED

    def test_checkout_and_charge_events(self) -> None:
        paid = domain.stripe_event(self._event("checkout.session.completed", {
            "id": "cs_1", "payment_status": "paid", "payment_intent": {"id": "pi_2"}, "amount_total": 5}))
        assert (paid.action, paid.session_id, paid.intent_id) == (EventAction.SUCCEEDED, "cs_1", "pi_2")
        unpaid = domain.stripe_event(self._event("checkout.session.completed", {"id": "cs_1", "payment_status": "unpaid"}))
        assert unpaid.action == EventAction.PROCESSING
        full = domain.stripe_event(self._event("charge.refunded", {"id": "ch_1", "refunded": True, "payment_intent": "pi"}))
        assert full.action == EventAction.REFUNDED and full.intent_id == "pi"
        partial = domain.stripe_event(self._event("charge.refunded", {"id": "ch_1", "refunded": False}))
        assert partial.action == EventAction.IGNORED

    @pytest.mark.parametrize(("type_", "status", "action"), [
        ("charge.refund.updated", "succeeded", EventAction.REFUND_SUCCEEDED),
        ("refund.updated", "succeeded", EventAction.REFUND_SUCCEEDED),
        ("charge.refund.updated", "failed", EventAction.REFUND_FAILED),
        ("refund.failed", "failed", EventAction.REFUND_FAILED),
        ("refund.updated", "canceled", EventAction.REFUND_FAILED),
        ("charge.refund.updated", "pending", EventAction.IGNORED),
    ])
    def test_refund_events(self, type_: str, status: str, action: EventAction) -> None:
        event = domain.stripe_event(self._event(type_, {
            "id": "re_1", "object": "refund", "status": status, "amount": 1000, "currency": "usd",
            "charge": "ch_1", "payment_intent": "pi_1", "failure_reason": "expired_or_canceled_card"
            if status == "failed" else None}))
        assert (event.action, event.refund_id, event.charge_id, event.intent_id, event.amount_minor) == (
            action, "re_1", "ch_1", "pi_1", 1000)

    def test_amount_must_match_the_payment(self) -> None:
        event = domain.ProviderEvent(provider="stripe", event_id="e", type="t", action=EventAction.SUCCEEDED,
                                     amount_minor=8550, currency="USD")
        assert domain.amount_matches(event, Decimal("85.50"), "USD")
        assert not domain.amount_matches(event, Decimal("85.51"), "USD")
        assert not domain.amount_matches(event, Decimal("85.50"), "EUR")


class TestSimpleSignature:
    def test_hmac_of_the_raw_body(self) -> None:
        body = b'{"order_id": "x", "status": "paid"}'
        header = domain.sign_simple_webhook(body, "secret")
        assert header.startswith("sha256=") and len(header) == 7 + 64
        assert domain.simple_signature_valid(body, header, "secret")
        assert domain.simple_signature_valid(body, header.upper().replace("SHA256=", "sha256="), "secret")
        assert not domain.simple_signature_valid(body + b" ", header, "secret")
        assert not domain.simple_signature_valid(body, header, "other")
        assert not domain.simple_signature_valid(body, None, "secret")


class TestDerivedEventId:
    def test_a_notification_is_known_by_what_it_says(self) -> None:
        order_id = uuid.uuid4()
        key = domain.derived_event_id(order_id, "paid", None, None, None)
        assert key == domain.derived_event_id(order_id, "paid", None, None, None)
        assert domain.derived_event_id(order_id, "paid", Decimal("30"), "gel", None) == \
            domain.derived_event_id(order_id, "paid", Decimal("30.00"), "GEL", None)
        assert len({key, domain.derived_event_id(order_id, "failed", None, None, None),
                    domain.derived_event_id(uuid.uuid4(), "paid", None, None, None),
                    domain.derived_event_id(order_id, "paid", None, None, "tx-1"),
                    domain.derived_event_id(order_id, "paid", Decimal("30"), "GEL", None)}) == 5
        assert len(key) <= 255

    def test_only_another_transaction_id_is_another_payment(self) -> None:
        assert domain.same_provider_payment("tx-1", None) and domain.same_provider_payment(None, "tx-1")
        assert domain.same_provider_payment("tx-1", "tx-1") and not domain.same_provider_payment("tx-1", "tx-2")


class TestOrderView:
    def test_buyer_from_the_shipping_address_else_the_order_email(self) -> None:
        order = domain.order_view({"id": str(uuid.uuid4()), "owner_id": str(uuid.uuid4()), "status": "pending",
                                   "is_payable": True, "currency": "usd", "total_amount": "4.5",
                                   "email": "o@example.com", "items": [],
                                   "shipping_address": {"full_name": "Ada King", "phone_number": "1"}})
        assert order.total_amount == Decimal("4.50") and order.currency == "USD" and order.is_payable
        assert domain.buyer_contact(order).model_dump() == {"email": "o@example.com", "first_name": "Ada",
                                                            "last_name": "King", "phone": "1"}

    def test_payable_is_what_orders_says_not_a_status_list_of_ours(self) -> None:
        base = {"id": str(uuid.uuid4()), "owner_id": str(uuid.uuid4()), "currency": "USD", "total_amount": "1"}
        assert not domain.order_view({**base, "status": "pending", "is_payable": False}).is_payable
        assert domain.order_view({**base, "status": "some_new_status", "is_payable": True}).is_payable
        assert not domain.order_view({**base, "status": "pending"}).is_payable  # unsaid: not payable

    def test_a_payment_charges_what_orders_says_is_due(self) -> None:
        """An exchange's order owes its total less the credit of the lines that came back."""
        base = {"id": str(uuid.uuid4()), "owner_id": str(uuid.uuid4()), "currency": "USD", "total_amount": "49.05"}
        assert domain.order_view({**base, "amount_due": "19.05"}).total_amount == Decimal("19.05")
        assert domain.order_view(base).total_amount == Decimal("49.05")  # unsaid (an older orders): the total

    def test_the_storefront_is_the_orders_and_the_default_when_unsaid(self) -> None:
        base = {"id": str(uuid.uuid4()), "owner_id": str(uuid.uuid4()), "currency": "USD", "total_amount": "1"}
        assert domain.order_view({**base, "storefront": "b"}).storefront == "b"
        assert domain.order_view(base).storefront == "default"
        assert domain.order_view({**base, "storefront": None}).storefront == "default"

    def test_whether_the_guest_is_registered_is_orders_word_and_no_when_unsaid(self) -> None:
        """docs/storefronts.md#guest-accounts: the order's decision, kept in the payment's snapshot; an
        order or a snapshot from before the policy registers nobody."""
        base = {"id": str(uuid.uuid4()), "owner_id": str(uuid.uuid4()), "currency": "USD", "total_amount": "1"}
        for said, registers in ((True, True), (False, False), ("true", False), (None, False)):
            order = domain.order_view({**base, "register_buyer": said})
            assert order.register_buyer is registers
            assert domain.snapshot_registers_buyer(domain.order_snapshot(order)) is registers
        assert domain.order_view(base).register_buyer is False
        assert domain.snapshot_registers_buyer({"order_number": "ORD-1", "lines": [], "buyer": None}) is False

    def test_credit_grants_count_units(self) -> None:
        lines = [domain.OrderLine(product_id=uuid.uuid4(), sku="PACK_5", kind="credit_pack", quantity=3,
                                  unit_price=Decimal("4.99"), attributes={"credits": 5}),
                 domain.OrderLine(product_id=uuid.uuid4(), sku="STONE", kind="physical", quantity=1,
                                  unit_price=Decimal("1"))]
        assert domain.credit_grants(lines) == [domain.CreditGrant(sku="PACK_5", credits=15)]


class TestStorefrontDetails:
    @pytest.mark.parametrize(("descriptor", "suffix"), [
        ("BSHOP", "BSHOP"),
        (None, None), ("", None), ("   ", None),
        ("12345", None),  # Stripe wants a letter
        ('<B*> "Shop\'s"', "B Shops"),
        ("Twenty-three characters", "Twenty-three character"),
        ("A" * 21 + " B", "A" * 21),  # cut, then trimmed
    ])
    def test_a_statement_descriptor_suffix_stripe_accepts(self, descriptor: str | None, suffix: str | None) -> None:
        made = domain.statement_descriptor_suffix(descriptor)
        assert made == suffix
        assert made is None or len(made) <= domain.STATEMENT_DESCRIPTOR_MAX

    def test_the_storefronts_pages_else_the_given_ones(self) -> None:
        from atelier_testing.storefronts import make_storefront

        given = ("http://given/ok", "http://given/no")
        assert domain.checkout_redirects(None, *given) == given
        assert domain.checkout_redirects(make_storefront("b"), *given) == given
        both = make_storefront("b", success_url="https://b/ok", cancel_url="https://b/no")
        assert domain.checkout_redirects(both, *given) == ("https://b/ok", "https://b/no")
        only_success = make_storefront("b", success_url="https://b/ok")
        assert domain.checkout_redirects(only_success, *given) == ("https://b/ok", "http://given/no")


class TestSettings:
    def test_production_refuses_the_dev_webhook_secret(self) -> None:
        with pytest.raises(ValueError, match="secret"):
            PaymentsSettings(environment="production", service_token="real-token")
        PaymentsSettings(environment="production", service_token="real-token", webhook_secrets={"local": "real"})

    def test_stripe_needs_its_keys(self) -> None:
        with pytest.raises(ValueError, match="stripe"):
            PaymentsSettings(provider="stripe")
        PaymentsSettings(provider="stripe", stripe_api_key="sk", stripe_webhook_secret="whsec")


class TestRefundAmounts:
    def test_omitted_is_the_rest_and_more_than_the_rest_is_refused(self) -> None:
        remaining = domain.refundable(Decimal("59.48"), Decimal("10.00"))
        assert remaining == Decimal("49.48")
        assert domain.refund_amount(None, remaining) == Decimal("49.48")
        assert domain.refund_amount(Decimal("49.48"), remaining) == Decimal("49.48")
        assert domain.refund_amount(Decimal("49.49"), remaining) is None
        assert domain.refund_amount(None, domain.refundable(Decimal("5"), Decimal("5"))) is None

    def test_minor_units_back_to_money(self) -> None:
        assert domain.from_minor_units(4948, "USD") == Decimal("49.48")
        assert domain.from_minor_units(500, "JPY") == Decimal("500")


class TestStripeSubscriptions:
    def test_the_period_is_read_from_the_subscription_or_its_item(self) -> None:
        old = domain.stripe_subscription({"id": "sub_1", "customer": "cus_1", "status": "trialing",
                                          "current_period_start": 100, "current_period_end": 200,
                                          "metadata": {"user_id": str(uuid.UUID(int=5))},
                                          "items": {"data": [{"price": {"id": "price_a"}}]}})
        assert (old.status, old.price_id, old.customer_id, old.user_id) == ("active", "price_a", "cus_1",
                                                                           uuid.UUID(int=5))
        assert old.current_period_end is not None and old.current_period_end.timestamp() == 200
        new = domain.stripe_subscription({"id": "sub_1", "customer": {"id": "cus_1"}, "status": "past_due",
                                          "cancel_at": 300, "items": {"data": [{
                                              "price": {"id": "price_b"}, "current_period_start": 200,
                                              "current_period_end": 300}]}})
        assert new.status == "past_due" and new.cancel_at_period_end and new.customer_id == "cus_1"
        assert new.current_period_start is not None and new.current_period_start.timestamp() == 200

    def test_statuses_without_access_are_canceled(self) -> None:
        for stripe_status in ("canceled", "incomplete_expired", "unpaid", "paused"):
            sub = domain.stripe_subscription({"id": "sub_1", "status": stripe_status, "cancel_at_period_end": True})
            assert sub.status == "canceled"
            # An ended subscription has nothing left to cancel; an unpaid one may still be paid.
            assert sub.cancel_at_period_end is (not sub.ended)
        assert domain.stripe_subscription({"id": "sub_1", "status": "canceled"}).ended
        assert not domain.stripe_subscription({"id": "sub_1", "status": "unpaid"}).ended

    def test_an_invoice_names_its_subscription_in_either_api_version(self) -> None:
        base = {"id": "in_1", "customer": "cus_1", "currency": "usd", "amount_due": 1999, "amount_paid": 0,
                "lines": {"data": [{"period": {"start": 100, "end": 200}}]}}
        old = domain.stripe_subscription_event({"type": "invoice.payment_failed", "data": {"object": {
            **base, "subscription": "sub_1", "subscription_details": {"metadata": {"user_id": str(uuid.UUID(int=3))}}}}})
        assert old.subscription_id == "sub_1" and old.user_id == uuid.UUID(int=3)
        assert old.invoice is not None and not old.invoice.paid and old.invoice.amount == Decimal("19.99")
        new = domain.stripe_subscription_event({"type": "invoice.paid", "data": {"object": {
            **base, "amount_paid": 1999, "parent": {"subscription_details": {"subscription": "sub_2"}}}}})
        assert new.subscription_id == "sub_2" and new.user_id is None and new.customer_id == "cus_1"
        assert new.invoice is not None and new.invoice.paid and new.invoice.period_end is not None

    def test_which_events_are_subscription_events(self) -> None:
        def event(type_: str, **obj: object) -> dict:
            return {"type": type_, "data": {"object": obj}}

        assert domain.is_stripe_subscription_event(event("checkout.session.completed", mode="subscription"))
        assert not domain.is_stripe_subscription_event(event("checkout.session.completed", mode="payment"))
        assert domain.is_stripe_subscription_event(event("customer.subscription.deleted"))
        assert domain.is_stripe_subscription_event(event("invoice.payment_failed"))
        assert not domain.is_stripe_subscription_event(event("payment_intent.succeeded"))


class TestGiftCards:
    def test_a_code_is_sixteen_unambiguous_characters_typed_any_way(self) -> None:
        code = domain.new_gift_card_code()
        raw = code.replace("-", "")
        assert len(raw) == 16 and set(raw) <= set(domain.GIFT_CARD_ALPHABET) and not set(raw) & set("01ILO")
        assert domain.gift_card_digest(code) == domain.gift_card_digest(f" {raw.lower()} ")
        assert domain.gift_card_digest(code) != domain.gift_card_digest(domain.new_gift_card_code())

    def test_a_refund_goes_to_the_provider_first_up_to_what_it_took(self) -> None:
        split = domain.split_refund(Decimal("50.00"), provider_paid=Decimal("39.48"), provider_refunded=Decimal("0"))
        assert (split.provider, split.gift_cards) == (Decimal("39.48"), Decimal("10.52"))
        rest = domain.split_refund(Decimal("9.48"), provider_paid=Decimal("39.48"),
                                   provider_refunded=Decimal("39.48"))
        assert (rest.provider, rest.gift_cards) == (Decimal("0.00"), Decimal("9.48"))
        small = domain.split_refund(Decimal("5.00"), provider_paid=Decimal("39.48"), provider_refunded=Decimal("0"))
        assert (small.provider, small.gift_cards) == (Decimal("5.00"), Decimal("0.00"))
