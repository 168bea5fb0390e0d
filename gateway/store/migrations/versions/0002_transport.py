"""transport tables: AS2 messages with their MDNs, SFTP daily usage

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "as2_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("document_id", sa.String(length=40), nullable=True),
        sa.Column("mic", sa.String(length=200), nullable=True),
        sa.Column("mdn_mode", sa.String(length=8), nullable=False),
        sa.Column("mdn_url", sa.Text(), nullable=True),
        sa.Column("mdn_headers", sa.JSON(), nullable=True),
        sa.Column("mdn_body", sa.LargeBinary(), nullable=True),
        sa.Column("mdn_status", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("direction", "partner_id", "message_id", name="uq_as2_message"),
    )
    op.create_index("ix_as2_messages_partner_id", "as2_messages", ["partner_id"])
    op.create_index("ix_as2_messages_status", "as2_messages", ["status"])
    op.create_index("ix_as2_messages_next_attempt_at", "as2_messages", ["next_attempt_at"])
    op.create_table(
        "sftp_usage",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partner_id", "day", name="uq_sftp_usage"),
    )


def downgrade() -> None:
    op.drop_table("sftp_usage")
    op.drop_index("ix_as2_messages_next_attempt_at", table_name="as2_messages")
    op.drop_index("ix_as2_messages_status", table_name="as2_messages")
    op.drop_index("ix_as2_messages_partner_id", table_name="as2_messages")
    op.drop_table("as2_messages")
