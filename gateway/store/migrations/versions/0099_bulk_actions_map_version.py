"""Bulk actions (previewed, then confirmed), the map version that translated a document,
and corrections awaiting a second approver

A bulk action (replay the dead letters of one adapter and partner in a time window;
reprocess every document one map version rejected) is previewed first: the preview keeps
the exact ids it showed, and confirming applies the action to those ids only. To find
"every document rejected by one map version", processing records on each document the
version of the translation map it used (or that refused it). A partner may require a
second operator to approve each corrected copy support makes of its documents: until then
the correction waits in ``correction_approvals`` and no document exists for it.

Revision ID: 0099
Revises: 0091
"""

import sqlalchemy as sa
from alembic import op

revision = "0099"
down_revision = "0098"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("map_version", sa.String(160), nullable=True))
    op.create_index("ix_documents_map_version", "documents", ["map_version"])
    op.create_table(
        "bulk_previews",
        sa.Column("token", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("target_ids", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(160), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("audit_id", sa.Integer(), nullable=True),
    )
    op.create_table(
        "correction_approvals",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("original_id", sa.String(40), sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("reason_code", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("diff", sa.Text(), nullable=False),
        sa.Column("send_ack", sa.Boolean(), nullable=False),
        sa.Column("requested_by", sa.String(160), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(160), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("new_document_id", sa.String(40), sa.ForeignKey("documents.id"), nullable=True),
    )
    op.create_index("ix_correction_approvals_original_id", "correction_approvals", ["original_id"])
    op.create_index("ix_correction_approvals_state", "correction_approvals", ["state"])


def downgrade() -> None:
    op.drop_table("correction_approvals")
    op.drop_table("bulk_previews")
    op.drop_index("ix_documents_map_version", "documents")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("map_version")
