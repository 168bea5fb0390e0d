"""Alerts and their recipients (the alert outbox); an e-mail address per console user

A rejected document, a dead letter, an expiring certificate or an overdue 997/999 is
recorded as an alert in the transaction that caused it, with one row per recipient
(e-mail address or the webhook); a sender marks each row sent. Console users get an
optional e-mail address, where the alerts their role subscribes to go.

Revision ID: 0098
Revises: 0091
"""

import sqlalchemy as sa
from alembic import op

revision = "0098"
down_revision = "0097"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(255), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("partner_id", sa.String(64), nullable=True),
        sa.Column("document_id", sa.String(40), nullable=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_alerts_kind", "alerts", ["kind"])
    op.create_index("ix_alerts_partner_id", "alerts", ["partner_id"])
    op.create_table(
        "alert_recipients",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alerts.id"), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column("why", sa.String(120), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("alert_id", "channel", "address", name="uq_alert_recipient"),
    )
    op.create_index("ix_alert_recipients_alert_id", "alert_recipients", ["alert_id"])
    op.create_index("ix_alert_recipients_status", "alert_recipients", ["status"])
    op.create_index("ix_alert_recipients_next_attempt_at", "alert_recipients", ["next_attempt_at"])
    with op.batch_alter_table("console_users") as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(254), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("console_users") as batch_op:
        batch_op.drop_column("email")
    op.drop_table("alert_recipients")
    op.drop_table("alerts")
