"""The pure rules of identity, no I/O."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from atelier_common.contracts.identity import StorefrontPasskey
from atelier_identity import domain
from atelier_identity.domain import RefreshState
from atelier_testing.storefronts import make_storefront

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


class TestSignInBackoff:
    def test_one_second_after_the_first_failure_doubling_with_each(self) -> None:
        assert [domain.sign_in_backoff_seconds(n, 60) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]

    def test_never_more_than_the_cap_nor_less_than_a_second(self) -> None:
        assert domain.sign_in_backoff_seconds(10_000, 30) == 30
        assert domain.sign_in_backoff_seconds(0, 30) == 1
        assert domain.sign_in_backoff_seconds(3, 1) == 1


class TestAccounts:
    def test_emails_are_compared_lower_case_and_trimmed(self) -> None:
        assert domain.normalise_email("  Ada.Lovelace@Example.COM ") == "ada.lovelace@example.com"

    def test_every_account_is_a_customer_and_staff_adds_staff_and_its_roles(self) -> None:
        assert domain.roles_of([]) == ["customer"]
        assert domain.roles_of(["support", "finance", "support"]) == ["customer", "staff", "finance", "support"]

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


class TestReturnTo:
    FRONTEND = "http://localhost:3000/app"

    @pytest.mark.parametrize(("given", "resolved"), [
        ("/auth/callback", "http://localhost:3000/auth/callback"),
        ("/a?b=1", "http://localhost:3000/a?b=1"),
        ("http://localhost:3000/x", "http://localhost:3000/x"),
        ("HTTP://LOCALHOST:3000/x", "HTTP://LOCALHOST:3000/x"),
    ])
    def test_relative_paths_and_the_frontends_origin_are_accepted(self, given: str, resolved: str) -> None:
        assert domain.resolve_return_to(given, self.FRONTEND) == resolved

    @pytest.mark.parametrize("given", ["", "//evil.example", "/\\evil.example", "https://localhost:3000/x",
                                       "http://localhost:3001/x", "http://evil.example/", "javascript:alert(1)",
                                       "/a\nb", "relative/path"])
    def test_anything_else_is_refused(self, given: str) -> None:
        with pytest.raises(ValueError):
            domain.resolve_return_to(given, self.FRONTEND)

    def test_none_means_no_redirect(self) -> None:
        assert domain.resolve_return_to(None, self.FRONTEND) is None

    def test_a_storefronts_other_origins_are_accepted_too(self) -> None:
        origins = ["https://shop.example", "https://www.shop.example"]
        assert domain.resolve_return_to("https://WWW.shop.example/x", "https://shop.example", origins) == \
            "https://WWW.shop.example/x"
        assert domain.resolve_return_to("/x", "https://shop.example/app", origins) == "https://shop.example/x"
        with pytest.raises(ValueError):
            domain.resolve_return_to("http://localhost:3000/x", "https://shop.example", origins)

    def test_with_query_adds_or_replaces_one_parameter(self) -> None:
        assert domain.with_query("http://f/cb?x=1&ticket=old", ticket="new") == "http://f/cb?x=1&ticket=new"


class TestMagicCodes:
    def test_six_digits_with_leading_zeros_kept(self) -> None:
        codes = {domain.new_magic_code() for _ in range(200)}
        assert all(len(c) == 6 and c.isdigit() for c in codes) and len(codes) > 150

    def test_codes_are_compared_by_digest(self) -> None:
        assert domain.same_digest("012345", domain.digest("012345"))
        assert not domain.same_digest("012346", domain.digest("012345"))


class TestClaims:
    def test_only_another_anonymous_id_is_claimed(self) -> None:
        user = uuid.uuid4()
        assert domain.needs_claim(uuid.uuid4(), user)
        assert not domain.needs_claim(None, user)
        assert not domain.needs_claim(user, user)


class TestAddressRules:
    def test_full_name_is_split_at_the_first_space(self) -> None:
        assert domain.split_full_name(" Grace Brewster Hopper ") == ("Grace", "Brewster Hopper")
        assert domain.split_full_name("Cher") == ("Cher", "")

    def test_a_taken_label_gets_the_first_free_suffix(self) -> None:
        assert domain.unique_label("Home", ["Office"]) == "Home"
        assert domain.unique_label("Home", ["home", "Home (2)"]) == "Home (3)"

    def test_a_suffixed_label_stays_within_the_length(self) -> None:
        assert len(domain.unique_label("x" * 50, ["x" * 50])) == 50

    def test_default_labels_follow_the_type(self) -> None:
        assert domain.default_label("billing", []) == "Billing"
        assert domain.default_label("shipping", ["Shipping"]) == "Shipping (2)"

    @pytest.mark.parametrize(("kept", "incoming", "adopted"), [(0, 3, 3), (8, 3, 2), (10, 3, 0), (12, 1, 0)])
    def test_adoption_fills_up_to_the_limit_oldest_first(self, kept: int, incoming: int, adopted: int) -> None:
        assert domain.addresses_to_adopt(kept, list(range(incoming)), 10) == list(range(adopted))


class TestRelyingParty:
    def test_the_storefronts_passkey_settings_and_name(self) -> None:
        storefront = make_storefront("b", name="Bee", passkey=StorefrontPasskey(rp_id="b.example",
                                                                               origins=["https://id.b.example"]))
        assert domain.relying_party(storefront) == domain.RelyingParty(
            id="b.example", name="Bee", origins=["https://id.b.example"])

    def test_origins_fall_back_to_the_storefronts_then_to_its_frontend(self) -> None:
        with_origins = make_storefront("b", origins=["https://b.example", "https://www.b.example"],
                                       passkey=StorefrontPasskey(rp_id="b.example"))
        assert domain.relying_party(with_origins).origins == ["https://b.example", "https://www.b.example"]
        bare = make_storefront("c", origins=[], passkey=None, frontend_url="https://shop.c.example:8443/app")
        assert domain.relying_party(bare) == domain.RelyingParty(
            id="shop.c.example", name="Storefront C", origins=["https://shop.c.example:8443"])


class TestCustomerGroup:
    """The token's group is the one staff assigned on its storefront: nothing a customer sends."""

    @pytest.mark.parametrize(("assigned", "staff_roles", "group"), [
        ("wholesale", [], "wholesale"), (None, [], None), ("wholesale", ["support"], None)])
    def test_the_group_is_the_assigned_one_and_staff_have_none(self, assigned, staff_roles, group) -> None:
        assert domain.token_group(assigned, staff_roles) == group

    def test_a_company_name_is_only_shown(self) -> None:
        assert domain.is_business_customer("Stone Works Ltd") and not domain.is_business_customer("  ")

    def test_bulk_entries_are_ids_or_emails_each_once(self) -> None:
        user_id = uuid.uuid4()
        refs = domain.member_references([str(user_id), " Ada@Example.com ", "ada@example.com", "", str(user_id).upper()])
        assert (refs.ids, refs.emails) == ([user_id], ["ada@example.com"])
