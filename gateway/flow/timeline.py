"""What the API and the console show: one PO's timeline, and what a partner still owes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import exists, or_, select

from gateway.events.derived import _match
from gateway.flow.match import ordered_lines
from gateway.flow.models import FlowAlert, LineQuantity, PurchaseOrderFlow
from gateway.flow.rules import LABELS
from gateway.flow.state import statuses

MAX_DOCUMENTS_PER_STEP = 200  # a partner could send thousands of ASNs for one PO: the page stays bounded
MAX_QUANTITY_ROWS = 20_000  # and ASN or invoice lines by the ten thousand


def _at(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def flows_for(s, po_number: str, partner_id: str | None = None) -> list[PurchaseOrderFlow]:
    q = select(PurchaseOrderFlow).where(PurchaseOrderFlow.po_number == po_number)
    if partner_id is not None:
        q = q.where(PurchaseOrderFlow.partner_id == partner_id)
    return list(s.scalars(q.order_by(PurchaseOrderFlow.partner_id)))


def flow_view(rt, s, flow: PurchaseOrderFlow, now: datetime) -> dict:
    """The PO's steps in flow order with their status and due time, the documents behind
    each, the alerts raised, and ordered / shipped / invoiced per line."""
    steps = []
    for st in statuses(rt, flow, now):
        rows = [r for r in flow.steps if r.step == st.step]
        steps.append({
            "step": st.step, "label": LABELS[st.step], "status": st.status, "due_at": _at(st.due_at),
            "done_at": _at(st.done_at), "rule": st.rule, "out_of_order": st.out_of_order, "problem": st.problem,
            "count": len(rows),
            "documents": [{"document_id": r.document_id, "document_type": r.document_type, "reference": r.reference,
                           "event_id": r.event_id, "event_type": r.event_type, "at": _at(r.at),
                           **({"discrepancies": r.detail["discrepancies"]} if "discrepancies" in r.detail else {})}
                          for r in rows[:MAX_DOCUMENTS_PER_STEP]],
        })
    view = {
        "partner_id": flow.partner_id, "po_number": flow.po_number, "requested_date": flow.requested_date,
        "created_at": _at(flow.created_at), "updated_at": _at(flow.updated_at), "as_of": _at(now),
        "steps": steps,
        "alerts": [{"step": a.step, "kind": a.kind, "due_at": _at(a.due_at), "raised_at": _at(a.raised_at),
                    "event_id": a.event_id, "message": a.message} for a in flow.alerts],
    }
    view["lines"], view["lines_truncated"] = line_quantities(s, flow)
    return view


def _sum(values: list[str | None]) -> str | None:
    total = None
    for value in values:
        try:
            total = (total or Decimal(0)) + Decimal(value)
        except (InvalidOperation, TypeError):
            continue
    return None if total is None else format(total, "f")


def line_quantities(s, flow: PurchaseOrderFlow) -> tuple[list[dict], bool]:
    """Per PO line: ordered, shipped (every ASN) and invoiced (every invoice), as decimals;
    and whether the sums stopped at ``MAX_QUANTITY_ROWS`` shipped and invoiced lines."""
    po_lines = ordered_lines(s, flow)
    out = {line.get("line_number") or str(i + 1): {"line_number": line.get("line_number"),
                                                    "buyer_part": line.get("buyer_part"),
                                                    "vendor_part": line.get("vendor_part"),
                                                    "ordered": line.get("quantity"), "unit_price": line.get("unit_price"),
                                                    "shipped": [], "invoiced": []}
           for i, line in enumerate(po_lines)}
    rows = s.scalars(select(LineQuantity).where(LineQuantity.flow_id == flow.id,
                                                LineQuantity.kind.in_(("shipped", "invoiced")))
                     .order_by(LineQuantity.id).limit(MAX_QUANTITY_ROWS))
    rows = list(rows)
    for row in rows:
        line = {"line_number": row.line_number, "buyer_part": row.buyer_part, "vendor_part": row.vendor_part}
        po_line = _match(po_lines, line) or line
        key = po_line.get("line_number") or row.buyer_part or row.vendor_part or "?"
        entry = out.setdefault(key, {"line_number": row.line_number, "buyer_part": row.buyer_part,
                                     "vendor_part": row.vendor_part, "ordered": None, "unit_price": None,
                                     "shipped": [], "invoiced": []})
        entry[row.kind].append(row.quantity)
    lines = [{**e, "shipped": _sum(e["shipped"]), "invoiced": _sum(e["invoiced"])} for e in out.values()]
    return lines, len(rows) >= MAX_QUANTITY_ROWS


def open_steps(rt, s, partner_id: str, now: datetime, limit: int = 500) -> list[dict]:
    """What ``partner_id`` still owes: every step not done with a due time, soonest first."""
    flagged = exists().where(FlowAlert.flow_id == PurchaseOrderFlow.id, FlowAlert.kind == "overdue")
    flows = s.scalars(select(PurchaseOrderFlow).where(
        PurchaseOrderFlow.partner_id == partner_id, or_(PurchaseOrderFlow.next_due_at.isnot(None), flagged))
        .order_by(PurchaseOrderFlow.next_due_at).limit(limit))
    out = []
    for flow in flows:
        for st in statuses(rt, flow, now):
            if st.status in ("missing", "pending") and st.due_at is not None:
                out.append({"po_number": flow.po_number, "step": st.step, "label": LABELS[st.step],
                            "status": st.status, "due_at": _at(st.due_at), "rule": st.rule})
    return sorted(out, key=lambda o: o["due_at"])
