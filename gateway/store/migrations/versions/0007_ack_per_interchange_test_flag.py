"""Acks answer one interchange each; documents carry a test flag

Issue #10 (items 2 and 3). ``acks.acknowledged_control_number`` (the inbound ISA13 an
ack answers) and ``acks.interchange_index`` (its position in the file) let "already
acknowledged" be decided per interchange, so a file of three interchanges gets three
answers and a duplicate re-sends the acks of the very interchange it repeats.
``documents.test`` marks test data (ISA15 = T, cXML deploymentMode="test"), which is
never delivered to production adapters. Rows from before stay NULL / false.

Revision ID: 0007_pipeline
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_pipeline"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("acks") as batch:
        batch.add_column(sa.Column("acknowledged_control_number", sa.String(length=9), nullable=True))
        batch.add_column(sa.Column("interchange_index", sa.Integer(), nullable=True))
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("test", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("test")
    with op.batch_alter_table("acks") as batch:
        batch.drop_column("interchange_index")
        batch.drop_column("acknowledged_control_number")
