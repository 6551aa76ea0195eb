"""The pure rules: costs, tags, credit-pack lines, tiers, quotas, share URLs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from atelier_common.contracts.catalog import credits_granted
from atelier_generation import domain


class TestModels:
    def test_flux_pro_costs_two_credits_per_image(self) -> None:
        model = domain.image_model("flux-pro")
        assert model is not None and model.credits == 2
        assert domain.job_cost(model, 2) == 4

    def test_only_image_models_generate(self) -> None:
        assert domain.image_model("restore-v1") is None
        assert domain.image_model("unknown") is None


class TestTags:
    def test_filters_become_key_value_tags(self) -> None:
        assert domain.tags_from_filters({"pose": " Standing ", "lighting": "", "clothing": "Casual  Wear",
                                         "extra": "x"}) == ["pose:standing", "clothing:casual wear"]

    def test_a_gallery_filter_is_split_and_deduplicated(self) -> None:
        assert domain.parse_tag_list("Lighting:Dramatic, pose:action,,lighting:dramatic") == [
            "lighting:dramatic", "pose:action"]
        assert domain.parse_tag_list(None) == []


class TestPackCredits:
    @pytest.mark.parametrize(("attributes", "quantity", "expected"), [
        ({"credits": 5}, 3, 15), ({"credits": "10"}, 1, 10), ({"credits": 0}, 1, None), ({}, 1, None),
        ({"credits": True}, 1, None), ({"credits": "many"}, 1, None), ({"credits": 5}, 0, None),
    ])
    def test_credits_times_quantity(self, attributes: dict, quantity: int, expected: int | None) -> None:
        assert credits_granted(attributes, quantity) == expected


class TestTiersAndQuotas:
    now = datetime(2026, 11, 21, tzinfo=UTC)

    def test_an_active_subscription_gives_its_tier(self) -> None:
        assert domain.effective_tier("pro", "active", self.now + timedelta(days=1), self.now) == "pro"
        assert domain.effective_tier("pro", "trialing", None, self.now) == "pro"

    def test_otherwise_the_tier_is_free(self) -> None:
        assert domain.effective_tier("pro", "canceled", None, self.now) == "free"
        assert domain.effective_tier("pro", "active", self.now - timedelta(seconds=1), self.now) == "free"
        assert domain.effective_tier(None, "active", None, self.now) == "free"

    def test_images_remaining_counts_quota_then_cheapest_credits(self) -> None:
        assert domain.quota_remaining(10, 12) == 0
        assert domain.images_remaining(3, 5) == 3 + 5 // domain.cheapest_image_cost()

    def test_unknown_tiers_use_the_free_limit(self) -> None:
        limits = {"free": "1/minute", "pro": "5/minute"}
        assert domain.rate_limit_for("pro", limits) == "5/minute"
        assert domain.rate_limit_for("enterprise", limits) == "1/minute"


class TestShareUrls:
    @pytest.mark.parametrize("platform", domain.SHARE_PLATFORMS)
    def test_each_platform_gets_the_target_url_encoded(self, platform: str) -> None:
        url = domain.platform_share_url(platform, "https://reviv.pics/?a=1")
        assert url.startswith("https://") and "https%3A%2F%2Freviv.pics%2F%3Fa%3D1" in url


def test_a_past_due_subscription_keeps_its_tier_until_the_period_ends() -> None:
    now = datetime(2026, 11, 22, tzinfo=UTC)
    assert domain.effective_tier("pro", "past_due", now + timedelta(days=3), now) == "pro"
    assert domain.effective_tier("pro", "past_due", now - timedelta(seconds=1), now) == "free"
    assert domain.effective_tier("pro", "canceled", now + timedelta(days=3), now) == "free"
