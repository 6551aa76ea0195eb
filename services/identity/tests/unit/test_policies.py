"""The storefront policies' pure rules (`atelier_identity.policies`) and the demo storefronts' values."""

from __future__ import annotations

from datetime import timedelta

import pytest

from atelier_common.contracts.identity import StorefrontPolicies
from atelier_identity import demo, policies
from atelier_identity.settings import IdentitySettings
from atelier_testing.storefronts import make_storefront

EMAIL = "ada.lovelace@example.com"


def _on(**values: object):
    return make_storefront("b", policies=StorefrontPolicies(**values))


@pytest.fixture
def settings() -> IdentitySettings:
    return IdentitySettings()


class TestPasswords:
    @pytest.mark.parametrize("password", ["password1", "12345678", "qwerty123", "iloveyou", "Password1"])
    def test_strict_refuses_common_passwords(self, password: str) -> None:
        assert policies.password_problems(password, EMAIL, _on(password_policy="strict"))

    @pytest.mark.parametrize("password", ["ada.lovelace", "lovelace1", "AdaLovelace!", "ada.lovelace@example.com"])
    def test_strict_refuses_passwords_like_the_email(self, password: str) -> None:
        assert policies.password_problems(password, EMAIL, _on(password_policy="strict"))

    def test_strict_accepts_a_good_password(self) -> None:
        assert policies.password_problems("Tr1cky-Horse-88", EMAIL, _on(password_policy="strict")) == []

    def test_unset_is_the_install_rule(self) -> None:
        assert policies.password_problems("password1", EMAIL, _on()) == []
        assert policies.password_problems("password1", EMAIL, None) == []
        assert policies.password_problems("123456789", EMAIL, None)  # all digits

    def test_length_counts_characters_only(self) -> None:
        assert policies.password_problems("123456789", EMAIL, _on(password_policy="length")) == []
        assert policies.password_problems("1234567", EMAIL, _on(password_policy="length")) == [
            "Password must be at least 8 characters."]


class TestLifetimesAndLimits:
    def test_access_ttl(self, settings: IdentitySettings) -> None:
        assert policies.access_ttl(None, settings) == timedelta(minutes=15)
        assert policies.access_ttl(_on(access_token_minutes=60), settings) == timedelta(minutes=60)
        assert policies.longest_access_ttl(settings, [_on(), _on(access_token_minutes=5)]) == timedelta(minutes=15)
        assert policies.longest_access_ttl(settings, [_on(access_token_minutes=90)]) == timedelta(minutes=90)

    def test_lockout_rules(self, settings: IdentitySettings) -> None:
        assert policies.lockout_rule(None, settings) == settings.sign_in_failures_per_account_and_ip
        assert policies.lockout_rule(_on(signin_lockout_minutes=3), settings) == "10/3 minutes"
        assert policies.lockout_rules(settings, [_on(signin_lockout_minutes=3), _on()]) == [
            "10/15 minutes", "10/3 minutes"]

    def test_registrations_and_passkey_signup(self, settings: IdentitySettings) -> None:
        assert policies.registrations_rule(_on()) is None
        assert policies.registrations_rule(_on(registrations_per_hour_per_ip=3)) == "3/hour"
        assert policies.passkey_signup_signs_in(_on(), settings) is False
        assert policies.passkey_signup_signs_in(_on(passkey_signup_signs_in=True), settings) is True


def test_the_demo_storefronts_carry_their_products_values() -> None:
    values = {s.slug: s.policies.model_dump(exclude_defaults=True) for s in demo.DEMO_STOREFRONTS}
    budgets = {"anonymous_requests_per_minute": 20, "customer_requests_per_minute": 100}
    stock = {"cart_line_limit": 0, "low_stock_threshold": 10, "alert_emails": ["admin@atelier.example"],
             "tracking_number_required": True}
    assert values["shop"] == {"access_token_minutes": 60, "password_policy": "strict", "signin_lockout_minutes": 15,
                              "registrations_per_hour_per_ip": 3, **budgets, **stock}
    assert values["marbelle"] == {"access_token_minutes": 60, "cart_line_limit": 99}
    assert values["reviv"] == {"passkey_signup_signs_in": True}
    shop = next(s for s in demo.DEMO_STOREFRONTS if s.slug == "shop")
    # The suite's platform: no per-address limits, the rest kept.
    assert demo._without_limits(shop).policies.model_dump(exclude_defaults=True) == {
        "access_token_minutes": 60, "password_policy": "strict", **budgets, **stock}
