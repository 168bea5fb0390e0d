"""Alerts about a PO's flow: a step overdue (missing past its due time, or arrived late
without having been flagged) or out of order (an invoice before the ASN).

Each is raised once per PO, step and kind: the ``po_flow_alerts`` unique key says so,
and the event's id derives from the same three, so a replay finds the same event.
The event goes through the normal routes (the ERP and the alert webhook by default).
"""

from __future__ import annotations

import logging
from datetime import datetime

from gateway.events.envelope import check_event, event_id
from gateway.events.versions import recorded_schema
from gateway.flow.models import FlowAlert, PurchaseOrderFlow
from gateway.flow.rules import LABELS, StepStatus
from gateway.store.models import Document

log = logging.getLogger("gateway.flow")

EVENT_TYPES = {"overdue": "purchase_order.step_overdue", "out_of_order": "purchase_order.step_out_of_order"}


def raise_alert(s, flow: PurchaseOrderFlow, status: StepStatus, kind: str, now: datetime, doc: Document) -> dict | None:
    """Record the alert and return its event, or None when this one was raised before."""
    if any(a.step == status.step and a.kind == kind for a in flow.alerts):
        return None
    event_type = EVENT_TYPES[kind]
    message = f"PO {flow.po_number} ({flow.partner_id}): {status.problem}"
    alert = FlowAlert(flow_id=flow.id, step=status.step, kind=kind, due_at=status.due_at, raised_at=now,
                      event_id=event_id(flow.partner_id, "po-flow", flow.po_number, status.step, kind,
                                        event_type=event_type),
                      message=message[:400])
    from gateway.flow.record import attach

    attach(s, flow, "alerts", alert)
    body = check_event({
        "event_id": alert.event_id, "type": event_type, "schema": recorded_schema(event_type),
        "partner_id": flow.partner_id,
        "occurred_at": now.isoformat(), "received_at": now.isoformat(), "correlation_id": doc.correlation_id,
        "source": {"document_id": doc.id, "format": "derived", "transaction_set": None, "version": None,
                   "interchange_control_number": None, "group_control_number": None,
                   "transaction_control_number": None},
        "payload": {"po_number": flow.po_number, "step": status.step, "expected": LABELS[status.step],
                    "status": "out_of_order" if kind == "out_of_order" else status.status,
                    "due_at": status.due_at.isoformat() if status.due_at else None,
                    "done_at": status.done_at.isoformat() if status.done_at else None,
                    "detected_at": now.isoformat(), "rule": status.rule, "message": message},
    })
    log.warning("flow alert: %s", message)
    return body
