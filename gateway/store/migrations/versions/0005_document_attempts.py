"""Count processing attempts per document, and keep the last crash

A document whose processing crashes is retried by the sweeper, but not forever: after
MAX_PROCESS_ATTEMPTS it stays `received` with its last error, for support to look at.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("process_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("last_error")
        batch.drop_column("process_attempts")
