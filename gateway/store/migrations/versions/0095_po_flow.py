"""Document flow per purchase order: its steps, the alerts raised about them, and the
quantities per PO line the three-way match compares

Revision ID: 0095
Revises: 0091
"""

import sqlalchemy as sa
from alembic import op

revision = "0095"
down_revision = "0094"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "po_flows",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("po_number", sa.String(64), nullable=False),
        sa.Column("requested_date", sa.String(10), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("next_due_at", _TS, nullable=True),
        sa.UniqueConstraint("partner_id", "po_number", name="uq_po_flow"),
    )
    op.create_index("ix_po_flows_partner_id", "po_flows", ["partner_id"])
    op.create_index("ix_po_flows_po_number", "po_flows", ["po_number"])
    op.create_index("ix_po_flows_next_due_at", "po_flows", ["next_due_at"])
    op.create_table(
        "po_flow_steps",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("flow_id", sa.Integer(), sa.ForeignKey("po_flows.id"), nullable=False),
        sa.Column("step", sa.String(24), nullable=False),
        sa.Column("event_id", sa.String(80), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("document_id", sa.String(40), sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("document_type", sa.String(40), nullable=True),
        sa.Column("reference", sa.String(80), nullable=True),
        sa.Column("at", _TS, nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.UniqueConstraint("flow_id", "step", "event_id", name="uq_po_flow_step"),
    )
    op.create_index("ix_po_flow_steps_flow_id", "po_flow_steps", ["flow_id"])
    op.create_table(
        "po_flow_alerts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("flow_id", sa.Integer(), sa.ForeignKey("po_flows.id"), nullable=False),
        sa.Column("step", sa.String(24), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("due_at", _TS, nullable=True),
        sa.Column("raised_at", _TS, nullable=False),
        sa.Column("event_id", sa.String(80), nullable=False),
        sa.Column("message", sa.String(400), nullable=False),
        sa.UniqueConstraint("flow_id", "step", "kind", name="uq_po_flow_alert"),
    )
    op.create_index("ix_po_flow_alerts_flow_id", "po_flow_alerts", ["flow_id"])
    op.create_table(
        "po_line_quantities",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("flow_id", sa.Integer(), sa.ForeignKey("po_flows.id"), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("event_id", sa.String(80), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(80), nullable=True),
        sa.Column("line_number", sa.String(40), nullable=True),
        sa.Column("buyer_part", sa.String(80), nullable=True),
        sa.Column("vendor_part", sa.String(80), nullable=True),
        sa.Column("quantity", sa.String(40), nullable=True),
        sa.Column("unit_price", sa.String(40), nullable=True),
        sa.Column("uom", sa.String(16), nullable=True),
        sa.UniqueConstraint("event_id", "flow_id", "kind", "ordinal", name="uq_po_line_quantity"),
    )
    op.create_index("ix_po_line_quantities_flow_id", "po_line_quantities", ["flow_id"])


def downgrade() -> None:
    for table in ("po_line_quantities", "po_flow_alerts", "po_flow_steps", "po_flows"):
        op.drop_table(table)
