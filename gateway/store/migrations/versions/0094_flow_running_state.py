"""A PO's flow keeps its facts and its quantity shipped per line as running state

Recording one more step of a PO read back all of its steps (first time and count per
step, the latest 855's answer) and, for an invoice, every line of every ASN: a 10,000-set
interchange against one blanket PO made that quadratic. The flow's row now carries both,
folded in as each step is recorded (gateway.flow.state.add_step,
gateway.flow.match.add_shipped). Existing flows get them computed from their steps and
stored quantities, with the same rules, so they keep their meaning.

The revision id is not the bare "0094": that one is the cXML outbound revision.

Revision ID: 0094_flow_running_state
Revises: 0093
"""

import json
from datetime import UTC
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from alembic import op

revision = "0094_flow_running_state"
down_revision = "0093"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
_flows = sa.table("po_flows", sa.column("id", sa.Integer), sa.column("facts", sa.JSON),
                  sa.column("shipped", sa.JSON))
_steps = sa.table("po_flow_steps", sa.column("id", sa.Integer), sa.column("flow_id", sa.Integer),
                  sa.column("step", sa.String), sa.column("reference", sa.String), sa.column("at", _TS),
                  sa.column("detail", sa.JSON))
_lines = sa.table("po_line_quantities", sa.column("id", sa.Integer), sa.column("flow_id", sa.Integer),
                  sa.column("kind", sa.String), sa.column("event_id", sa.String),
                  sa.column("line_number", sa.String), sa.column("buyer_part", sa.String),
                  sa.column("vendor_part", sa.String), sa.column("quantity", sa.String))


def _utc(at):
    """A stored time as the running state keeps it (SQLite hands back naive UTC)."""
    return (at.replace(tzinfo=UTC) if at.tzinfo is None else at).astimezone(UTC)


def upgrade() -> None:
    with op.batch_alter_table("po_flows") as batch:
        batch.add_column(sa.Column("facts", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("shipped", sa.JSON(), nullable=False, server_default="{}"))
    bind = op.get_bind()
    facts: dict[int, dict] = {}
    for flow_id, step, first, count in bind.execute(
            sa.select(_steps.c.flow_id, _steps.c.step, sa.func.min(_steps.c.at), sa.func.count(_steps.c.id))
            .group_by(_steps.c.flow_id, _steps.c.step)):
        f = facts.setdefault(flow_id, {"first": {}, "count": {}})
        f["first"][step], f["count"][step] = _utc(first).isoformat(), count
    latest: dict[int, tuple] = {}  # the latest 855 of each flow: by time, then by id
    for flow_id, step_id, reference, at in bind.execute(
            sa.select(_steps.c.flow_id, _steps.c.id, _steps.c.reference, _steps.c.at)
            .where(_steps.c.step == "order_ack")):
        if flow_id not in latest or (_utc(at), step_id) > latest[flow_id][:2]:
            latest[flow_id] = (_utc(at), step_id, reference)
    for flow_id, (at, step_id, reference) in latest.items():
        facts[flow_id]["latest_ack"] = {"at": at.isoformat(), "id": step_id, "reference": reference}
    for flow_id, step_id, detail in bind.execute(  # invoices that agreed: an ASN after them compares them again
            sa.select(_steps.c.flow_id, _steps.c.id, _steps.c.detail).where(_steps.c.step == "invoice")
            .order_by(_steps.c.id)):
        if isinstance(detail, str):  # SQLite hands JSON back as text in a migration's plain table
            detail = json.loads(detail)
        if not (detail or {}).get("discrepancies"):
            facts[flow_id].setdefault("agreed", []).append(step_id)
    last_ordered = sa.select(sa.func.max(_lines.c.id)).where(_lines.c.kind == "ordered").group_by(_lines.c.flow_id)
    for flow_id, event_id in bind.execute(sa.select(_lines.c.flow_id, _lines.c.event_id)
                                          .where(_lines.c.id.in_(last_ordered))):
        facts.setdefault(flow_id, {"first": {}, "count": {}})["ordered_event"] = event_id  # the latest 850's lines
    shipped: dict[int, dict] = {}
    key = (_lines.c.line_number, _lines.c.buyer_part, _lines.c.vendor_part, _lines.c.quantity)
    for flow_id, line_number, buyer_part, vendor_part, quantity, n in bind.execute(
            sa.select(_lines.c.flow_id, *key, sa.func.count(_lines.c.id))
            .where(_lines.c.kind == "shipped").group_by(_lines.c.flow_id, *key)):
        identity = json.dumps([line_number, buyer_part, vendor_part])
        entry = shipped.setdefault(flow_id, {}).setdefault(identity, {
            "line_number": line_number, "buyer_part": buyer_part, "vendor_part": vendor_part,
            "quantity": None, "other": []})
        if quantity in (None, ""):
            continue
        try:  # as gateway.flow.match.add_shipped sums them, n times
            total = Decimal(entry["quantity"] or 0)
            for _ in range(n):
                total += Decimal(quantity)
            entry["quantity"] = format(total, "f")
        except InvalidOperation:
            if quantity not in entry["other"]:
                entry["other"].append(quantity)
    rows = [{"flow": flow_id, "f": facts.get(flow_id, {}), "s": shipped.get(flow_id, {})}
            for flow_id in facts.keys() | shipped.keys()]
    if rows:
        bind.execute(_flows.update().where(_flows.c.id == sa.bindparam("flow"))
                     .values(facts=sa.bindparam("f"), shipped=sa.bindparam("s")), rows)


def downgrade() -> None:
    with op.batch_alter_table("po_flows") as batch:
        batch.drop_column("shipped")
        batch.drop_column("facts")
