"""The hook: record an event's flow steps in the transaction that records the event.

:func:`record_flow` is called by ``record_event`` (one call, no queue hop). For each PO
the event moves along it adds the step and the quantities per line, flags an invoice
before its ASN (out of order) or a step that came after its due time without having
been flagged, and runs the three-way match; it returns the events that derive from
all this, for the caller to record like any other. Replaying an event adds nothing.
Test data never enters a flow.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from gateway.flow import alerts
from gateway.flow.match import match_invoice
from gateway.flow.models import PO_NUMBER_CHARS, FlowStep, LineQuantity, PurchaseOrderFlow
from gateway.flow.rules import FlowFacts
from gateway.flow.state import facts_of, refresh, statuses
from gateway.flow.steps import QUANTITY_KINDS, StepFact, steps_of
from gateway.store.models import Document, EventRecord, utcnow
from gateway.store.models_delivery import PurchaseOrder

log = logging.getLogger("gateway.flow")


def _text(value, size: int) -> str | None:
    return None if value is None else str(value)[:size]


def flow_for(s, partner_id: str, po_number: str) -> PurchaseOrderFlow | None:
    """The PO's flow, locked until the transaction ends (PostgreSQL; SQLite has one writer
    at a time anyway): an 810 and an 856 of one PO processed side by side take turns, so
    the later one sees the other's quantities and the three-way match misses neither."""
    return s.scalar(select(PurchaseOrderFlow).where(PurchaseOrderFlow.partner_id == partner_id,
                                                    PurchaseOrderFlow.po_number == po_number).with_for_update())


def record_flow(rt, s, doc: Document, body: dict) -> list[dict]:
    """Add ``body``'s flow steps; returns derived events (discrepancies, alerts) to record."""
    partner_id = body.get("partner_id")
    if body.get("test") or not partner_id:
        return []
    derived: list[dict] = []
    for fact in sorted(steps_of(body), key=lambda f: f.po_number):  # one lock order: no deadlock between ASNs
        if len(fact.po_number) > PO_NUMBER_CHARS:
            log.warning("PO number of %d characters in %s: not tracked in a flow", len(fact.po_number),
                        body["event_id"])
            continue
        derived += _record_step(rt, s, doc, body, partner_id, fact)
    return derived


def _record_step(rt, s, doc: Document, body: dict, partner_id: str, fact: StepFact) -> list[dict]:
    now = utcnow()
    flow = flow_for(s, partner_id, fact.po_number) or _new_flow(s, partner_id, fact.po_number, now)
    if _step_row(s, flow, fact.step, body["event_id"]) is not None:
        return []  # a replay: recorded the first time
    s.add(FlowStep(flow_id=flow.id, step=fact.step, event_id=body["event_id"], event_type=body["type"],
                   document_id=doc.id, document_type=_text(fact.document_type, 40),
                   reference=_text(fact.reference, 80), at=doc.received_at, detail={}))
    kind = QUANTITY_KINDS.get(fact.step)
    for ordinal, line in enumerate(fact.lines if kind else []):
        s.add(LineQuantity(flow_id=flow.id, kind=kind, event_id=body["event_id"], ordinal=ordinal,
                           reference=_text(fact.reference, 80), line_number=_text(line["line_number"], 40),
                           buyer_part=_text(line["buyer_part"], 80), vendor_part=_text(line["vendor_part"], 80),
                           quantity=_text(line["quantity"], 40), unit_price=_text(line["unit_price"], 40),
                           uom=_text(line["uom"], 16)))
    if fact.step == "order" and fact.requested_date:
        flow.requested_date = fact.requested_date.isoformat()
    flow.updated_at = now  # the queries below see the new step (autoflush)
    facts = facts_of(flow, s)  # read once for this step: its alerts, then its next due time
    derived = _alerts(rt, s, flow, fact.step, now, doc, facts)
    if fact.step == "invoice":
        derived += _match_once(s, flow, body)
    elif fact.step == "ship_notice":  # a late ASN: invoices that agreed before are compared again
        invoices = s.scalars(select(FlowStep).where(FlowStep.flow_id == flow.id, FlowStep.step == "invoice"))
        for row in [r for r in invoices if not r.detail.get("discrepancies")]:
            invoice = s.get(EventRecord, row.event_id)
            if invoice is not None:
                derived += _match_once(s, flow, invoice.body, row)
    refresh(rt, flow, facts=facts)
    return derived


def _step_row(s, flow: PurchaseOrderFlow, step: str, event_id: str) -> FlowStep | None:
    return s.scalar(select(FlowStep).where(FlowStep.flow_id == flow.id, FlowStep.step == step,
                                           FlowStep.event_id == event_id))


def attach(s, flow: PurchaseOrderFlow, collection: str, row) -> None:
    """Add ``row`` (an alert, written by its flow_id) and put it in the flow's loaded
    collection as if it had been read, so this transaction sees it at once."""
    s.add(row)
    set_committed_value(flow, collection, [*getattr(flow, collection), row])


def _known(s, flow: PurchaseOrderFlow) -> bool:
    """Whether we know this PO: we sent its 850, or the ERP registered it. Only then do
    its steps raise alerts: an invoice for a PO we never saw may be for services, with no
    ASN ever coming, and its timeline is still kept."""
    if s.scalar(select(FlowStep.id).where(FlowStep.flow_id == flow.id, FlowStep.step == "order").limit(1)):
        return True
    po = s.get(PurchaseOrder, flow.po_number)
    return po is not None and po.partner_id in (None, flow.partner_id)


def _new_flow(s, partner_id: str, po_number: str, now) -> PurchaseOrderFlow:
    """The PO's flow, made now; when another worker made it at the same moment (its 855
    and 856 processed side by side), theirs, found by the unique key."""
    try:
        with s.begin_nested():
            flow = PurchaseOrderFlow(partner_id=partner_id, po_number=po_number, created_at=now, updated_at=now)
            s.add(flow)
        return flow
    except IntegrityError:
        return flow_for(s, partner_id, po_number)


def _alerts(rt, s, flow: PurchaseOrderFlow, step: str, now, doc: Document, facts: FlowFacts) -> list[dict]:
    if not _known(s, flow):
        return []
    status = next((st for st in statuses(rt, flow, now, facts=facts) if st.step == step), None)
    out = []
    if status is not None and status.out_of_order:
        out.append(alerts.raise_alert(s, flow, status, "out_of_order", now, doc))
    elif status is not None and status.status == "late":
        out.append(alerts.raise_alert(s, flow, status, "overdue", now, doc))  # no-op when flagged before
    return [e for e in out if e is not None]


def _match_once(s, flow: PurchaseOrderFlow, invoice_event: dict, row: FlowStep | None = None) -> list[dict]:
    events = match_invoice(s, flow, invoice_event)
    row = row or _step_row(s, flow, "invoice", invoice_event["event_id"])
    row.detail = {**row.detail, "matched_at": utcnow().isoformat(), "discrepancies": len(events)}
    return events
