"""stock locations: stock per product or variant per location, reservations per location

Revision ID: catalog_0016
Revises: catalog_0015
Create Date: 2026-11-30 12:00

One default location (for every storefront, shipping everywhere) is made here and given every
product's and variant's stock, so an install from before locations sells, reserves and shows
exactly what it did: `stock_quantity` stays the sum over the locations. Catalog cannot see the
storefronts (identity's) from a migration, and stock was one shared number, so the default
location serves them all; staff add a storefront's own locations.
"""
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from atelier_common.columns import UtcDateTime

revision: str = "catalog_0016"
down_revision: str | None = "catalog_0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_LOCATION_ID = UUID("00000000-0000-4000-8000-00000000d0c1")


def upgrade() -> None:
    locations = op.create_table(
        "stock_location",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("storefront", sa.String(64), nullable=False, server_default=""),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("ships_to", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('warehouse', 'shop', 'drop_ship')", name="ck_stock_location_kind"),
    )
    op.create_index("ix_stock_location_storefront", "stock_location", ["storefront"])
    op.create_table(
        "location_stock",
        sa.Column("location_id", sa.Uuid(), sa.ForeignKey("stock_location.id", ondelete="CASCADE",
                                                          name="fk_location_stock_location_id"), primary_key=True),
        sa.Column("item_id", sa.Uuid(), primary_key=True),
        sa.Column("product_id", sa.Uuid(), sa.ForeignKey("product.id", ondelete="CASCADE",
                                                         name="fk_location_stock_product_id"), nullable=False),
        sa.Column("variant_id", sa.Uuid(), sa.ForeignKey("product_variant.id", ondelete="CASCADE",
                                                         name="fk_location_stock_variant_id"), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity >= 0", name="ck_location_stock_non_negative"),
    )
    op.create_index("ix_location_stock_item_id", "location_stock", ["item_id"])
    op.bulk_insert(locations, [{
        "id": DEFAULT_LOCATION_ID, "storefront": "", "name": "Main stock", "kind": "warehouse", "country": None,
        "ships_to": [], "priority": 100, "is_default": True, "is_active": True, "created_at": datetime.now(UTC)}])
    default = sa.bindparam("location", DEFAULT_LOCATION_ID, type_=sa.Uuid())
    op.execute(sa.text("INSERT INTO location_stock (location_id, item_id, product_id, variant_id, quantity) "
                       "SELECT :location, id, id, NULL, stock_quantity FROM product WHERE stock_quantity > 0")
               .bindparams(default))
    op.execute(sa.text("INSERT INTO location_stock (location_id, item_id, product_id, variant_id, quantity) "
                       "SELECT :location, id, product_id, id, stock_quantity FROM product_variant "
                       "WHERE stock_quantity > 0").bindparams(default))
    for table in ("stock_reservation", "stock_movement"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("location_id", sa.Uuid(), nullable=True))
    with op.batch_alter_table("stock_reservation") as batch:
        batch.add_column(sa.Column("returned", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("stock_order") as batch:
        batch.add_column(sa.Column("storefront", sa.String(64), nullable=True))
        batch.add_column(sa.Column("ship_country", sa.String(2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stock_order") as batch:
        batch.drop_column("ship_country")
        batch.drop_column("storefront")
    with op.batch_alter_table("stock_reservation") as batch:
        batch.drop_column("returned")
    for table in ("stock_reservation", "stock_movement"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("location_id")
    op.drop_table("location_stock")
    op.drop_table("stock_location")
