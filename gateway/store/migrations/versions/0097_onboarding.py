"""Onboarding: partners created in the console, AS2 certificates, map versions, dry-runs,
the active version per partner and document type, and a generation counter workers check

Revision ID: 0097
Revises: 0091
"""

import sqlalchemy as sa
from alembic import op

revision = "0097"
down_revision = "0095"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "onboarded_partners",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(160), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "partner_certificates",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("pem", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(160), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("partner_id", "sha256", name="uq_partner_certificate"),
    )
    op.create_index("ix_partner_certificates_partner_id", "partner_certificates", ["partner_id"])
    op.create_table(
        "map_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("document_type", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(160), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("partner_id", "document_type", "version", name="uq_map_version"),
    )
    op.create_index("ix_map_versions_partner_id", "map_versions", ["partner_id"])
    op.create_table(
        "map_dry_runs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("map_version_id", sa.Integer(), sa.ForeignKey("map_versions.id"), nullable=False),
        sa.Column("baseline_version_id", sa.Integer(), sa.ForeignKey("map_versions.id"), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(160), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_map_dry_runs_partner_id", "map_dry_runs", ["partner_id"])
    op.create_table(
        "active_maps",
        sa.Column("partner_id", sa.String(64), primary_key=True),
        sa.Column("document_type", sa.String(64), primary_key=True),
        sa.Column("map_version_id", sa.Integer(), sa.ForeignKey("map_versions.id"), nullable=False),
        sa.Column("previous_version_id", sa.Integer(), sa.ForeignKey("map_versions.id"), nullable=True),
        sa.Column("dry_run_id", sa.String(40), nullable=True),
        sa.Column("activated_by", sa.String(160), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "onboarding_generation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
    )
    op.bulk_insert(sa.table("onboarding_generation", sa.column("id", sa.Integer()), sa.column("value", sa.Integer())),
                   [{"id": 1, "value": 0}])


def downgrade() -> None:
    op.drop_table("onboarding_generation")
    op.drop_table("active_maps")
    op.drop_table("map_dry_runs")
    op.drop_table("map_versions")
    op.drop_table("partner_certificates")
    op.drop_table("onboarded_partners")
