"""Deliveries name the correlation id of the received file they come from

Operators follow one received file from intake to every delivery by one id (logs,
metrics, the outbox). Rows written before this revision have none; their id is found
through their event's document.

Revision ID: 0093
Revises: 0091
"""

import sqlalchemy as sa
from alembic import op

revision = "0093"
down_revision = "0096"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.add_column(sa.Column("correlation_id", sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f("ix_deliveries_correlation_id"), ["correlation_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_correlation_id"))
        batch_op.drop_column("correlation_id")
