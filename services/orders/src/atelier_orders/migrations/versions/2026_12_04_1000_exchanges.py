"""Exchanges: order_return.kind 'exchange' with its credit and the items going out; the exchange
order's credit; a credit note's lines and return

Revision ID: orders_0026
Revises: orders_0025
Create Date: 2026-12-04 10:00

An exchange is kept beside the returns and claims (its units are held as theirs are); the items it
sends out are an order of their own (`replacement_order_id`), paid in part or whole by the credit
of the lines coming back (`customer_order.exchange_credit`). The credit note of the lines coming
back lists them (`credit_note.lines`) and names its exchange (`credit_note.return_id`, unique:
issued once).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "orders_0026"
down_revision: str | None = "orders_0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_FK_TABLES = {"resolve_fks": False}
JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("customer_order", sa.Column("exchange_credit", sa.Numeric(12, 2), nullable=False,
                                              server_default="0"))
    with op.batch_alter_table("order_return", reflect_kwargs=NO_FK_TABLES) as batch:
        batch.add_column(sa.Column("credit_amount", sa.Numeric(12, 2), nullable=True))
        batch.add_column(sa.Column("outgoing_total", sa.Numeric(12, 2), nullable=True))
        batch.add_column(sa.Column("outgoing", JSON, nullable=True))
        batch.drop_constraint("ck_order_return_kind", type_="check")
        batch.create_check_constraint("ck_order_return_kind", sa.text("kind IN ('return', 'claim', 'exchange')"))
    with op.batch_alter_table("credit_note", reflect_kwargs=NO_FK_TABLES) as batch:
        batch.add_column(sa.Column("lines", JSON, nullable=True))
        batch.add_column(sa.Column("return_id", sa.Uuid(), nullable=True))
        batch.create_unique_constraint("uq_credit_note_return_id", ["return_id"])


def downgrade() -> None:
    with op.batch_alter_table("credit_note", reflect_kwargs=NO_FK_TABLES) as batch:
        batch.drop_constraint("uq_credit_note_return_id", type_="unique")
        batch.drop_column("return_id")
        batch.drop_column("lines")
    with op.batch_alter_table("order_return", reflect_kwargs=NO_FK_TABLES) as batch:
        batch.drop_constraint("ck_order_return_kind", type_="check")
        batch.create_check_constraint("ck_order_return_kind", sa.text("kind IN ('return', 'claim')"))
        batch.drop_column("outgoing")
        batch.drop_column("outgoing_total")
        batch.drop_column("credit_amount")
    with op.batch_alter_table("customer_order") as batch:
        batch.drop_column("exchange_credit")
