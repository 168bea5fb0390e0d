"""outbound cXML: an OrderRequest POSTed to a supplier, and the cXML Response it answered

``format`` tells an X12 interchange from a cXML document; a cXML row names its document
in ``transaction_set`` (``OrderRequest``, as inbound cXML events do), keeps its
``payload_id``, the supplier's Response status (``response_code``, ``response_text``) and
the Response bytes (``response_sha256``, a blob), and waits for ``next_attempt_at``
between retries of a transient failure. X12 rows keep ``format`` x12 and empty cXML fields.

Revision ID: 0094
Revises: 0091
"""

import sqlalchemy as sa
from alembic import op

revision = "0094"
down_revision = "0091"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_documents") as batch:
        batch.add_column(sa.Column("format", sa.String(length=8), nullable=False, server_default="x12"))
        batch.add_column(sa.Column("payload_id", sa.String(length=250), nullable=True))
        batch.add_column(sa.Column("response_code", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("response_text", sa.Text(), nullable=True))
        batch.add_column(sa.Column("response_sha256", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.alter_column("transaction_set", existing_type=sa.String(length=3), type_=sa.String(length=40),
                           existing_nullable=False)
    op.create_index("ix_outbound_payload_id", "outbound_documents", ["partner_id", "payload_id"])


def downgrade() -> None:
    op.drop_index("ix_outbound_payload_id", table_name="outbound_documents")
    with op.batch_alter_table("outbound_documents") as batch:
        batch.alter_column("transaction_set", existing_type=sa.String(length=40), type_=sa.String(length=3),
                           existing_nullable=False)
        for column in ("next_attempt_at", "response_sha256", "response_text", "response_code", "payload_id",
                       "format"):
            batch.drop_column(column)
