"""The pure catalog rules (no I/O)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine, select

from atelier_catalog import domain, visibility
from atelier_catalog.domain import OrderKey, ProductKind
from atelier_catalog.errors import InvalidAttributes, InvalidOrdering
from atelier_common.contracts.identity import ALL_KINDS
from atelier_testing.storefronts import make_storefront


class TestSlugify:
    @pytest.mark.parametrize(("name", "slug"), [
        ("Carrara White Marble Slab", "carrara-white-marble-slab"),
        ("  Nero   Marquina -- 60×60 cm!  ", "nero-marquina-60-60-cm"),
        ("Crème brûlée Travertine", "creme-brulee-travertine"),
        ("PACK_5", "pack-5"),
        ("!!!", "item"),
        ("Straße", "stra-e"),
        ("მარმარილო", "item"),
    ])
    def test_names_become_lowercase_ascii_words_joined_by_dashes(self, name: str, slug: str) -> None:
        assert domain.slugify(name) == slug

    def test_long_names_are_cut_without_a_trailing_dash(self) -> None:
        slug = domain.slugify("a" * 199 + " b" * 50)
        assert len(slug) <= domain.SLUG_MAX_LENGTH and not slug.endswith("-")

    def test_a_slug_that_would_read_as_an_id_is_kept_apart_from_ids(self) -> None:
        slug = domain.slugify(str(uuid.uuid4()))
        assert domain.parse_uuid(slug) is None


class TestUniqueSlug:
    def test_free_slug_is_kept(self) -> None:
        assert domain.unique_slug("marble", {"granite"}) == "marble"

    def test_taken_slug_gets_the_first_free_number(self) -> None:
        assert domain.unique_slug("marble", {"marble", "marble-2", "marble-3"}) == "marble-4"

    def test_suffix_fits_in_the_maximum_length(self) -> None:
        base = "a" * domain.SLUG_MAX_LENGTH
        slug = domain.unique_slug(base, {base})
        assert slug.endswith("-2") and len(slug) == domain.SLUG_MAX_LENGTH


class TestParseUuid:
    def test_ids_and_slugs_are_told_apart(self) -> None:
        product_id = uuid.uuid4()
        assert domain.parse_uuid(str(product_id)) == product_id
        assert domain.parse_uuid("carrara-white") is None
        assert domain.parse_uuid("%%%") is None


class TestParseOrdering:
    def test_fields_with_optional_minus_in_order(self) -> None:
        assert domain.parse_ordering("-price,name") == (OrderKey("price", True), OrderKey("name", False))

    def test_rating_and_stock_are_orderable(self) -> None:
        assert [k.field for k in domain.parse_ordering("-rating, stock_quantity,created_at")] == [
            "rating", "stock_quantity", "created_at"]

    def test_nothing_means_the_default(self) -> None:
        assert domain.parse_ordering(None) == ()
        assert domain.parse_ordering(" , ") == ()

    def test_repeated_field_counts_once(self) -> None:
        assert domain.parse_ordering("price,-price") == (OrderKey("price", False),)

    @pytest.mark.parametrize("raw", ["cost", "-id", "+price", "price;drop table product", "Price"])
    def test_unknown_field_is_a_validation_error_naming_the_field(self, raw: str) -> None:
        with pytest.raises(InvalidOrdering) as caught:
            domain.parse_ordering(raw)
        assert caught.value.status == 400 and caught.value.code == "VALIDATION_ERROR"
        assert "ordering" in caught.value.details["fields"]


class TestValidateAttributes:
    def test_physical_products_take_any_attributes(self) -> None:
        attributes = {"weight": "2.1", "dimensions": "35 x 24 cm"}
        assert domain.validate_attributes(ProductKind.PHYSICAL, attributes) == attributes

    def test_credit_pack_needs_positive_integer_credits(self) -> None:
        assert domain.validate_attributes(ProductKind.CREDIT_PACK, {"credits": 5}) == {"credits": 5}

    @pytest.mark.parametrize("attributes", [{}, {"credits": 0}, {"credits": -1}, {"credits": "5"},
                                            {"credits": 5.0}, {"credits": True}, {"credits": None}])
    def test_credit_pack_without_valid_credits_is_refused(self, attributes: dict) -> None:
        with pytest.raises(InvalidAttributes) as caught:
            domain.validate_attributes(ProductKind.CREDIT_PACK, attributes)
        assert list(caught.value.details["fields"]) == ["attributes.credits"]

    def test_retry_pack_needs_retries(self) -> None:
        assert domain.validate_attributes(ProductKind.RETRY_PACK, {"retries": 3}) == {"retries": 3}
        with pytest.raises(InvalidAttributes):
            domain.validate_attributes(ProductKind.RETRY_PACK, {"credits": 3})

    def test_subscription_plan_needs_interval_tier_and_quota(self) -> None:
        plan = {"interval": "month", "tier": "pro", "monthly_quota": 200}
        assert domain.validate_attributes(ProductKind.SUBSCRIPTION_PLAN, plan) == plan
        assert domain.validate_attributes(ProductKind.SUBSCRIPTION_PLAN, {**plan, "provider_price_id": "price_1"})

    def test_subscription_plan_reports_every_bad_field(self) -> None:
        with pytest.raises(InvalidAttributes) as caught:
            domain.validate_attributes(ProductKind.SUBSCRIPTION_PLAN,
                                       {"interval": "fortnight", "tier": " ", "provider_price_id": 7})
        assert set(caught.value.details["fields"]) == {
            "attributes.interval", "attributes.tier", "attributes.monthly_quota", "attributes.provider_price_id"}

    def test_print_tier_needs_a_retry_limit_of_at_least_zero(self) -> None:
        assert domain.validate_attributes(ProductKind.PRINT_TIER, {"max_retries_per_unit": 0})
        with pytest.raises(InvalidAttributes):
            domain.validate_attributes(ProductKind.PRINT_TIER, {"max_retries_per_unit": -1})

    def test_extra_keys_are_kept(self) -> None:
        attributes = {"credits": 10, "badge": "best value"}
        assert domain.validate_attributes(ProductKind.CREDIT_PACK, attributes) == attributes


class TestPricesAndStock:
    @pytest.mark.parametrize(("price", "compare", "percent"), [
        ("2499.99", "2999.99", 17), ("85.50", "99.00", 14), ("50.00", "100.00", 50),
        ("10.00", None, 0), ("10.00", "10.00", 0), ("10.00", "8.00", 0), ("0.00", "0.00", 0),
    ])
    def test_discount_percentage_is_whole_percent_off_the_compare_price(self, price, compare, percent) -> None:
        assert domain.discount_percentage(Decimal(price), Decimal(compare) if compare else None) == percent

    def test_untracked_products_are_always_in_stock(self) -> None:
        assert domain.is_in_stock(track_inventory=False, stock_quantity=0)
        assert domain.is_in_stock(track_inventory=True, stock_quantity=1)
        assert not domain.is_in_stock(track_inventory=True, stock_quantity=0)

    def test_only_physical_goods_track_inventory_by_default(self) -> None:
        assert domain.default_track_inventory(ProductKind.PHYSICAL)
        assert not any(domain.default_track_inventory(kind) for kind in domain.DIGITAL_KINDS)

    def test_variant_without_a_price_sells_at_the_product_price(self) -> None:
        assert domain.effective_price(None, Decimal("85.50")) == Decimal("85.50")
        assert domain.effective_price(Decimal("97.00"), Decimal("85.50")) == Decimal("97.00")


class TestSearchTerms:
    def test_words_are_lowercased_deduplicated_and_stripped_of_punctuation(self) -> None:
        assert domain.search_terms("Carrara  marble & MARBLE's (white)!") == ("carrara", "marble", "s", "white")

    def test_nothing_to_search(self) -> None:
        assert domain.search_terms(None) == ()
        assert domain.search_terms(" -- ") == ()

    def test_terms_are_capped(self) -> None:
        assert len(domain.search_terms(" ".join(f"w{i}" for i in range(50)))) == domain.MAX_SEARCH_TERMS


class TestVisibility:
    def test_only_staff_who_ask_see_inactive_rows(self) -> None:
        assert domain.visibility_for(is_staff=True, include_inactive=True).include_inactive
        assert not domain.visibility_for(is_staff=True, include_inactive=False).include_inactive
        assert not domain.visibility_for(is_staff=False, include_inactive=True).include_inactive

    def test_customers_see_their_storefronts_offer_and_staff_every_storefronts_unless_they_name_one(self) -> None:
        shop, books = make_storefront("shop", sells=["physical"]), make_storefront("books", sells=list(ALL_KINDS))
        assert domain.visibility_for(is_staff=False, include_inactive=False, storefront=shop,
                                     staff_storefront=books) == domain.Visibility(storefront="shop", kinds=("physical",))
        # A storefront that sells every kind puts no condition on the kind.
        assert domain.visibility_for(is_staff=False, include_inactive=False, storefront=books) == domain.Visibility(
            storefront="books")
        assert domain.visibility_for(is_staff=True, include_inactive=True, storefront=shop) == domain.EVERYTHING
        assert domain.visibility_for(is_staff=True, include_inactive=False, storefront=shop,
                                     staff_storefront=shop) == domain.Visibility(storefront="shop", kinds=("physical",))


class TestStorefrontsKey:
    def test_a_key_names_each_slug_once_between_commas_and_every_storefront_is_empty(self) -> None:
        assert domain.storefronts_key(["a", "b", "a"]) == ",a,b,"
        assert domain.storefronts_key([]) == ""
        assert domain.storefronts_of(",a,b,") == ["a", "b"]
        assert domain.storefronts_of("") == domain.storefronts_of(None) == []

    def test_the_sql_condition_follows_storefront_offers(self) -> None:
        """`visibility.offered_by` is `Storefront.offers` as SQL: same answers, row by row."""
        engine = create_engine("sqlite://")
        table = Table("product", MetaData(), Column("storefronts_key", String), Column("kind", String))
        rows = [{"storefronts_key": domain.storefronts_key(scope), "kind": kind}
                for scope in ([], ["a"], ["b"], ["a_b"], ["ab", "b"], ["a", "b"]) for kind in ("physical", "print_tier")]
        with engine.begin() as connection:
            table.create(connection)
            connection.execute(table.insert(), rows)
            for storefront in (make_storefront("a", sells=["physical"]), make_storefront("a_b"),
                               make_storefront("ab", sells=["print_tier"])):
                seen = connection.execute(select(table).where(
                    *visibility.offered_by(domain.storefront_visibility(storefront), table))).all()
                expected = [(row["storefronts_key"], row["kind"]) for row in rows
                            if storefront.offers(row["kind"], domain.storefronts_of(row["storefronts_key"]))]
                assert sorted(tuple(r) for r in seen) == sorted(expected), storefront.slug


@dataclass
class _Category:
    name: str
    parent_id: uuid.UUID | None = None
    id: uuid.UUID = None  # type: ignore[assignment]  # filled in __post_init__, never read as None
    description: str = ""
    is_active: bool = True
    created_at: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    storefronts_key: str = ""

    def __post_init__(self) -> None:
        self.id = self.id or uuid.uuid4()
        self.slug = domain.slugify(self.name)


class TestCategoryForest:
    def test_counts_include_every_descendant(self) -> None:
        stone = _Category("Natural Stone")
        marble = _Category("Marble", stone.id)
        italian = _Category("Italian Marble", marble.id)
        granite = _Category("Granite", stone.id)
        forest = domain.build_category_forest([stone, marble, italian, granite],
                                              {stone.id: 1, marble.id: 2, italian.id: 4, granite.id: 8})
        assert [root.name for root in forest.roots] == ["Natural Stone"]
        assert [child.name for child in forest.roots[0].children] == ["Marble", "Granite"]
        counts = {node.name: node.product_count for node in forest.by_id.values()}
        assert counts == {"Natural Stone": 15, "Marble": 6, "Italian Marble": 4, "Granite": 8}

    def test_a_hidden_parent_hides_its_subtree_from_the_tree_but_not_from_lookup(self) -> None:
        hidden_parent = uuid.uuid4()
        orphan = _Category("Orphan", hidden_parent)
        child = _Category("Child", orphan.id)
        forest = domain.build_category_forest([orphan, child], {child.id: 3})
        assert forest.roots == []
        assert forest.find("orphan").product_count == 3
        assert forest.find(str(child.id)).name == "Child"
        assert forest.find("missing") is None

    def test_bad_data_with_a_cycle_does_not_loop(self) -> None:
        a, b = _Category("A"), _Category("B")
        a.parent_id, b.parent_id = b.id, a.id
        forest = domain.build_category_forest([a, b], {a.id: 1, b.id: 1})
        assert forest.roots == [] and forest.find("a").product_count == 2


class TestCycles:
    def test_moving_under_itself_or_a_descendant_is_a_cycle(self) -> None:
        root, child, grandchild = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        assert domain.would_create_cycle(root, root, [root])
        assert domain.would_create_cycle(root, grandchild, [grandchild, child, root])
        assert not domain.would_create_cycle(child, root, [root])


class TestPrimaryImage:
    @dataclass
    class Image:
        url: str
        is_primary: bool = False

    def test_primary_wins_else_first(self) -> None:
        assert domain.primary_image_url([self.Image("/a"), self.Image("/b", True)]) == "/b"
        assert domain.primary_image_url([self.Image("/a"), self.Image("/b")]) == "/a"
        assert domain.primary_image_url([]) is None


class TestListPrices:
    """What a customer group's caller pays, decided once for the pages, the cart and the order."""

    PRODUCT, VARIANT, OTHER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    def entry(self, price: str, *, variant: uuid.UUID | None = None, currency: str = "USD",
              product: uuid.UUID | None = None, name: str = "Business") -> domain.ListPrice:
        return domain.ListPrice(price_list_id=uuid.uuid4(), price_list_name=name, currency=currency,
                                product_id=product or self.PRODUCT, variant_id=variant, price=Decimal(price))

    def test_the_lowest_price_of_the_lists_in_the_products_currency_applies(self) -> None:
        best = domain.best_list_prices([self.entry("90.00"), self.entry("85.00", name="Trade"),
                                        self.entry("10.00", currency="EUR")], {self.PRODUCT: "USD"})
        assert (best[(self.PRODUCT, None)].price, best[(self.PRODUCT, None)].price_list_name) == (
            Decimal("85.00"), "Trade")

    def test_a_price_of_an_unknown_product_or_another_currency_applies_to_nothing(self) -> None:
        assert domain.best_list_prices([self.entry("1.00", currency="EUR"), self.entry("1.00", product=self.OTHER)],
                                       {self.PRODUCT: "USD"}) == {}

    def test_a_product_without_a_list_price_keeps_its_own(self) -> None:
        assert domain.list_price({}, self.PRODUCT, Decimal("100")) == (Decimal("100"), None)

    def test_a_variant_takes_its_own_list_price_then_its_own_price_then_the_products_list_price(self) -> None:
        product, variant = self.entry("80.00"), self.entry("70.00", variant=self.VARIANT)
        prices = {(self.PRODUCT, None): product, (self.PRODUCT, self.VARIANT): variant}
        assert domain.list_price(prices, self.PRODUCT, Decimal("100"), self.VARIANT, Decimal("120")) == (
            Decimal("70.00"), variant)
        only_product = {(self.PRODUCT, None): product}
        assert domain.list_price(only_product, self.PRODUCT, Decimal("100"), self.VARIANT, Decimal("120")) == (
            Decimal("120"), None)
        assert domain.list_price(only_product, self.PRODUCT, Decimal("100"), self.VARIANT, None) == (
            Decimal("80.00"), product)

    @pytest.mark.parametrize(("storefront", "group", "staff", "expected"), [
        ("marbelle", "business", False, domain.PriceGroup("marbelle", "business")),
        ("marbelle", None, False, None), ("marbelle", "business", True, None), (None, "business", False, None)])
    def test_only_a_customer_of_a_group_on_a_storefront_is_shown_list_prices(self, storefront, group, staff,
                                                                            expected) -> None:
        assert domain.price_group(storefront, group, is_staff=staff) == expected

    @pytest.mark.parametrize(("kind", "allowed"), [("physical", True), ("credit_pack", False),
                                                   ("subscription_plan", False), (None, False)])
    def test_only_goods_have_list_prices(self, kind, allowed) -> None:
        assert domain.may_have_list_price(kind) is allowed
