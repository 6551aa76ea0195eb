"""The pure rules of identity, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from atelier_identity import domain
from atelier_identity.domain import RefreshState

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


class TestPasswordPolicy:
    @pytest.mark.parametrize("password", ["correct horse", "Sup3rS3cret!", "12345678a", "ada.lovelace.x"])
    def test_acceptable_passwords_have_no_problems(self, password: str) -> None:
        assert domain.password_problems(password, "ada.lovelace@example.com") == []

    def test_shorter_than_eight_characters_is_refused(self) -> None:
        assert domain.password_problems("abc1234", "ada@example.com") == [
            "Password must be at least 8 characters."]

    def test_eight_characters_is_enough(self) -> None:
        assert domain.password_problems("abcd1234", "ada@example.com") == []

    def test_all_digits_is_refused(self) -> None:
        assert domain.password_problems("1234567890", "ada@example.com") == ["Password cannot be entirely numeric."]

    @pytest.mark.parametrize("password", ["ada@example.com", "ADA@Example.com", "my-ada@example.com-pw"])
    def test_the_email_or_a_password_containing_it_is_refused(self, password: str) -> None:
        assert domain.password_problems(password, "Ada@Example.com") == ["Password cannot be your email address."]

    def test_the_local_part_alone_is_refused(self) -> None:
        assert domain.password_problems("Ada.Lovelace", "ada.lovelace@example.com") == [
            "Password cannot be your email address."]

    def test_every_problem_is_reported(self) -> None:
        assert domain.password_problems("1234", "ada@example.com") == [
            "Password must be at least 8 characters.", "Password cannot be entirely numeric."]


class TestAccounts:
    def test_emails_are_compared_lower_case_and_trimmed(self) -> None:
        assert domain.normalise_email("  Ada.Lovelace@Example.COM ") == "ada.lovelace@example.com"

    def test_every_account_is_a_customer_and_staff_adds_staff(self) -> None:
        assert domain.roles_of(is_staff=False) == ["customer"]
        assert domain.roles_of(is_staff=True) == ["customer", "staff"]

    @pytest.mark.parametrize(("company", "business"), [("Acme", True), (None, False), ("", False), ("  ", False)])
    def test_a_company_name_makes_a_business_customer(self, company: str | None, business: bool) -> None:
        assert domain.is_business_customer(company) is business


class TestSecrets:
    def test_secrets_are_long_and_unique(self) -> None:
        secrets = {domain.new_secret() for _ in range(100)}
        assert len(secrets) == 100
        assert all(len(s) >= 43 for s in secrets)

    def test_only_a_stable_sha256_digest_is_stored(self) -> None:
        assert domain.digest("abc") == domain.digest("abc")
        assert len(domain.digest("abc")) == 64
        assert domain.digest("abc") != domain.digest("abd")


@dataclass
class Token:
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None


class TestRefreshState:
    def test_unknown_token(self) -> None:
        assert domain.refresh_state(None, NOW) is RefreshState.UNKNOWN

    def test_unused_unexpired_token_is_valid(self) -> None:
        assert domain.refresh_state(Token(expires_at=NOW + timedelta(seconds=1)), NOW) is RefreshState.VALID

    def test_token_at_its_expiry_is_expired(self) -> None:
        assert domain.refresh_state(Token(expires_at=NOW), NOW) is RefreshState.EXPIRED

    def test_a_rotated_token_presented_again_is_reuse(self) -> None:
        token = Token(expires_at=NOW + timedelta(days=1), used_at=NOW - timedelta(minutes=1))
        assert domain.refresh_state(token, NOW) is RefreshState.REUSED

    def test_reuse_is_detected_even_after_the_token_expired(self) -> None:
        token = Token(expires_at=NOW - timedelta(days=1), used_at=NOW - timedelta(days=2))
        assert domain.refresh_state(token, NOW) is RefreshState.REUSED

    def test_a_revoked_token_is_revoked_whatever_else(self) -> None:
        token = Token(expires_at=NOW + timedelta(days=1), used_at=NOW, revoked_at=NOW)
        assert domain.refresh_state(token, NOW) is RefreshState.REVOKED
