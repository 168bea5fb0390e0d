"""outbound documents (issue #13): the 850s we send and the 997/999 that answer them

Revision ID: 0090
Revises: 0007_pipeline
"""

import sqlalchemy as sa
from alembic import op

revision = "0090"
down_revision = "0007_pipeline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbound_documents",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("document_id", sa.String(length=40), sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("transaction_set", sa.String(length=3), nullable=False),
        sa.Column("version", sa.String(length=12), nullable=False),
        sa.Column("po_number", sa.String(length=64), nullable=True),
        sa.Column("interchange_control_number", sa.String(length=9), nullable=False),
        sa.Column("group_control_number", sa.String(length=9), nullable=False),
        sa.Column("transaction_control_number", sa.String(length=9), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("destination", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ack_status", sa.String(length=24), nullable=False),
        sa.Column("ack_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ack_document_id", sa.String(length=40), nullable=True),
        sa.Column("ack_kind", sa.String(length=3), nullable=True),
        sa.Column("ack_errors", sa.JSON(), nullable=False),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partner_id", "idempotency_key", name="uq_outbound_idempotency"),
    )
    op.create_index("ix_outbound_documents_document_id", "outbound_documents", ["document_id"])
    op.create_index("ix_outbound_documents_po_number", "outbound_documents", ["po_number"])
    op.create_index("ix_outbound_documents_status", "outbound_documents", ["status"])
    op.create_index("ix_outbound_ack_match", "outbound_documents", ["partner_id", "group_control_number"])
    op.create_index("ix_outbound_ack_due", "outbound_documents", ["ack_status", "ack_due_at"])


def downgrade() -> None:
    op.drop_table("outbound_documents")
