"""One row per distinct interchange (partner, sender, ISA13, bytes)

Two workers processing the same file at the same moment both saw no earlier
interchange and both accepted it. With this index the second commit fails, and the
worker runs again and finds a duplicate. Duplicates no longer get a row of their own.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM interchanges WHERE status = 'duplicate'")
    op.create_index("uq_interchange_content", "interchanges",
                    ["partner_id", "sender_id", "control_number", "sha256"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_interchange_content", table_name="interchanges")
