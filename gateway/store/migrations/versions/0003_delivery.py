"""delivery: open purchase orders for derived events; replay bookkeeping on deliveries

Issue #5. Adds the ``purchase_orders`` table (gateway/store/models_delivery.py) and two
columns on ``deliveries``: ``replays`` and ``dead_lettered_at``, plus an index to list an
adapter's dead letters. Branches from 0001 beside 0002 (``gateway db upgrade`` applies
all heads).

Revision ID: 0003
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "purchase_orders",
        sa.Column("po_number", sa.String(length=40), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("po_number"),
    )
    with op.batch_alter_table("purchase_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_purchase_orders_partner_id"), ["partner_id"], unique=False)
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replays", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("dead_lettered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_deliveries_adapter_status", ["adapter", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_adapter_status")
        batch_op.drop_column("dead_lettered_at")
        batch_op.drop_column("replays")
    with op.batch_alter_table("purchase_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purchase_orders_partner_id"))
    op.drop_table("purchase_orders")
