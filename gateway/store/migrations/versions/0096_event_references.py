"""Events keep the PO or invoice number they are about, indexed

Compensating events (an acknowledgment superseded by a later one, a PO cancelled, an
invoice credited) name the earlier events of the same partner and PO or invoice: the
number sits in its own indexed column instead of being read out of every event body.
Existing rows are filled in from their bodies.

Revision ID: 0096
Revises: 0091
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0096"
down_revision = "0099"
branch_labels = None
depends_on = None

_PO = ("purchase_order.received", "purchase_order.issued", "purchase_order.acknowledged")
_INVOICE = ("invoice.received",)


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("reference", sa.String(120), nullable=True))
    op.create_index("ix_events_partner_type_reference", "events", ["partner_id", "type", "reference", "created_at"])
    events = sa.table("events", sa.column("event_id", sa.String), sa.column("type", sa.String),
                      sa.column("body", sa.JSON), sa.column("reference", sa.String))
    bind = op.get_bind()
    rows = bind.execute(sa.select(events.c.event_id, events.c.type, events.c.body)
                        .where(events.c.type.in_(_PO + _INVOICE))).all()
    for event_id, kind, body in rows:
        if isinstance(body, str):  # SQLite hands JSON back as text in a migration's plain table
            body = json.loads(body)
        payload = (body or {}).get("payload") or {}
        value = payload.get("po_number") if kind in _PO else payload.get("invoice_number")
        if value:
            bind.execute(events.update().where(events.c.event_id == event_id).values(reference=str(value)[:120]))


def downgrade() -> None:
    op.drop_index("ix_events_partner_type_reference", table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("reference")
