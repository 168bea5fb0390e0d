"""Bulk actions (previewed, then confirmed) and the map version that translated a document

A bulk action (replay the dead letters of one adapter and partner in a time window;
reprocess every document one map version rejected) is previewed first: the preview keeps
the exact ids it showed, and confirming applies the action to those ids only. To find
"every document rejected by one map version", processing records on each document the
version of the translation map it used (or that refused it).

Revision ID: 0099
Revises: 0091
"""

import sqlalchemy as sa
from alembic import op

revision = "0099"
down_revision = "0091"
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


def downgrade() -> None:
    op.drop_table("bulk_previews")
    op.drop_index("ix_documents_map_version", "documents")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("map_version")
