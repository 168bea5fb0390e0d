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

from sqlalchemy import bindparam, event, insert, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import flag_modified, set_committed_value

from gateway.flow import alerts
from gateway.flow.match import add_shipped, match_invoice
from gateway.flow.models import PO_NUMBER_CHARS, FlowStep, LineQuantity, PurchaseOrderFlow
from gateway.flow.rules import FlowFacts
from gateway.flow.state import add_step, due_next, facts_of, statuses
from gateway.flow.steps import QUANTITY_KINDS, StepFact, steps_of
from gateway.routing.derived import KnownOrders
from gateway.store.models import Document, EventRecord, utcnow

log = logging.getLogger("gateway.flow")


def _text(value, size: int) -> str | None:
    return None if value is None else str(value)[:size]


HELD = "po_flows_held"  # s.info: the flows this transaction has locked, by (partner, PO number)
CHANGED = "po_flows_changed"  # s.info: those of them with steps added, written at commit
WRITTEN = ("updated_at", "next_due_at", "requested_date", "facts", "shipped")


def _held(s) -> dict:
    """The flows the session's transaction has locked (see :func:`flow_for`); the first
    call for a session hooks its commit and the end of its transactions."""
    if HELD not in s.info:
        s.info[HELD], s.info[CHANGED] = {}, {}
        event.listen(s, "before_commit", _write_changed)
        event.listen(s, "after_transaction_end", _forget)
    return s.info[HELD]


def _write_changed(s) -> None:
    """Mark the running state of every flow this transaction added steps to as changed,
    so the commit's flush writes each flow's row once."""
    for flow in s.info[CHANGED].values():
        for name in WRITTEN:
            flag_modified(flow, name)


def _forget(s, transaction) -> None:
    """The transaction is over (committed, rolled back, or the session closed): its locks
    with it. A savepoint's end is not: the flows stay locked and as this step left them."""
    if transaction.parent is None:
        s.info[HELD].clear()
        s.info[CHANGED].clear()


def _hold_changes(s, flow: PurchaseOrderFlow, **values) -> None:
    """Set the flow's running state in memory only, for :func:`_write_changed` to write
    at commit. PostgreSQL keeps every version of a row updated in one transaction until
    it ends, and each read or update of the row by key walks them: a 10,000-set
    interchange against one PO updating its flow per set made that quadratic."""
    for name, value in values.items():
        set_committed_value(flow, name, value)
    s.info[CHANGED][flow.id] = flow


def flow_for(s, partner_id: str, po_number: str) -> PurchaseOrderFlow | None:
    """The PO's flow, locked until the transaction ends (PostgreSQL; SQLite has one writer
    at a time anyway): an 810 and an 856 of one PO processed side by side take turns, so
    the later one sees the other's quantities and the three-way match misses neither.
    Its alerts come in the same statement (a flow has a few at most): the step reads them.
    The row is read afresh even when the session holds the flow already (from a transaction
    committed before: sessions keep their objects): its running facts and totals are what
    the step adds to, and another worker may have added to them since. Changes of this
    transaction were flushed before the read, so none is lost. Once locked, the flow is
    this transaction's until it ends: the next step of the same PO (a big interchange)
    takes it as it is in memory, with the running state not yet written."""
    held = _held(s)
    flow = held.get((partner_id, po_number))
    if flow is None:
        flow = s.scalars(select(PurchaseOrderFlow).where(PurchaseOrderFlow.partner_id == partner_id,
                                                         PurchaseOrderFlow.po_number == po_number)
                         .options(joinedload(PurchaseOrderFlow.alerts))
                         .with_for_update(of=PurchaseOrderFlow)
                         .execution_options(populate_existing=True)).unique().one_or_none()
        if flow is not None:
            held[(partner_id, po_number)] = flow
    return flow


def record_flow(rt, s, doc: Document, body: dict, orders: KnownOrders | None = None) -> list[dict]:
    """Add ``body``'s flow steps; returns derived events (discrepancies, alerts) to record.
    ``orders``: the POs ``record_event`` has read for this event already."""
    partner_id = body.get("partner_id")
    if body.get("test") or not partner_id:
        return []
    orders = orders or KnownOrders(s)
    derived: list[dict] = []
    for fact in sorted(steps_of(body), key=lambda f: f.po_number):  # one lock order: no deadlock between ASNs
        if len(fact.po_number) > PO_NUMBER_CHARS:
            log.warning("PO number of %d characters in %s: not tracked in a flow", len(fact.po_number),
                        body["event_id"])
            continue
        derived += _record_step(rt, s, doc, body, partner_id, fact, orders)
    return derived


def _record_step(rt, s, doc: Document, body: dict, partner_id: str, fact: StepFact,
                 orders: KnownOrders) -> list[dict]:
    now = utcnow()
    flow = flow_for(s, partner_id, fact.po_number) or _new_flow(s, partner_id, fact.po_number, now)
    reference = _text(fact.reference, 80)
    step_id = _add_step(s, flow, fact, body, doc, reference)
    if step_id is None:
        return []  # a replay: recorded the first time
    kind = QUANTITY_KINDS.get(fact.step)
    lines = [{"line_number": _text(line["line_number"], 40), "buyer_part": _text(line["buyer_part"], 80),
              "vendor_part": _text(line["vendor_part"], 80), "quantity": _text(line["quantity"], 40),
              "unit_price": _text(line["unit_price"], 40)} for line in (fact.lines if kind else [])]
    if lines:  # Core statements on the session's connection: no autoflush of the sets' rows (see _add_step)
        s.connection().execute(insert(LineQuantity.__table__), [
            {**line, "flow_id": flow.id, "kind": kind, "event_id": body["event_id"], "ordinal": ordinal,
             "reference": reference, "uom": _text(fact.lines[ordinal]["uom"], 16)}
            for ordinal, line in enumerate(lines)])
    requested = fact.requested_date.isoformat() if fact.step == "order" and fact.requested_date \
        else flow.requested_date
    # the flow's running state with this step (under the row lock: see flow_for); set on
    # the flow last, with updated_at and the next due time
    running = add_step(flow.facts, fact.step, doc.received_at, reference, step_id)
    if kind == "ordered" and lines:
        running["ordered_event"] = body["event_id"]  # the 850 whose lines the match reads
    shipped = add_shipped(flow.shipped, lines) if kind == "shipped" else None
    facts = facts_of(flow, running, requested)  # for this step: its alerts, then its next due time
    derived = _alerts(rt, s, flow, fact.step, now, doc, facts, orders)
    if fact.step == "invoice":
        events = match_invoice(s, flow, body, orders, facts, invoiced=lines)
        detail = _matched({}, events)
        s.connection().execute(update(FlowStep.__table__).where(FlowStep.__table__.c.id == step_id)
                               .values(detail=detail))
        derived += events
        if not events:
            running["agreed"] = [*running.get("agreed", []), step_id]
    elif fact.step == "ship_notice" and running.get("agreed"):
        # a late ASN: invoices that agreed before are compared again, with its lines; the
        # running facts name them, so invoices found to disagree are not even read
        set_committed_value(flow, "shipped", shipped)
        invoices = s.scalars(select(FlowStep).where(FlowStep.id.in_(running["agreed"])).order_by(FlowStep.id))
        for row in [r for r in invoices if not r.detail.get("discrepancies")]:
            invoice = s.get(EventRecord, row.event_id)
            if invoice is not None:
                events = match_invoice(s, flow, invoice.body, orders)
                row.detail = _matched(row.detail, events)
                derived += events
                if events:  # reported once per invoice
                    running["agreed"] = [i for i in running["agreed"] if i != row.id]
    # set last, in memory: the flow's row is written once, when the transaction commits
    _hold_changes(s, flow, updated_at=now, requested_date=requested, facts=running,
                  shipped=flow.shipped if shipped is None else shipped, next_due_at=due_next(rt, flow, facts))
    return derived


def _insert(s, model):
    """An INSERT that can say ON CONFLICT: PostgreSQL's and SQLite's (the databases we run on)."""
    if s.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def _add_step(s, flow: PurchaseOrderFlow, fact: StepFact, body: dict, doc: Document,
              reference: str | None) -> int | None:
    """Insert the step row (a Core statement: nothing reads it back as an object); its id,
    or None when the event's step is there already (a replay) -- one statement for both,
    the ``uq_po_flow_step`` key deciding.

    Run on the session's connection, not through ``Session.execute``: that sends even a
    Core INSERT through the ORM, which flushes every pending row first, so a big
    interchange's sets were written one at a time instead of a few hundred per statement.
    The statement is built once per dialect (building and compiling it per step was a
    fifth of a set's CPU). A document new in this session (an outbound one, a test's) is
    written first: the step's key refers to it."""
    if inspect(doc).pending:
        s.flush()
    connection = s.connection()
    return connection.execute(_STEP_INSERT[connection.dialect.name], {
        "flow_id": flow.id, "step": fact.step, "event_id": body["event_id"], "event_type": body["type"],
        "document_id": doc.id, "document_type": _text(fact.document_type, 40), "reference": reference,
        "at": doc.received_at}).scalar()


def _step_insert(dialect):
    table = FlowStep.__table__
    columns = ("flow_id", "step", "event_id", "event_type", "document_id", "document_type", "reference", "at")
    return (dialect.insert(table).values({**{c: bindparam(c) for c in columns}, "detail": {}})
            .on_conflict_do_nothing(index_elements=["flow_id", "step", "event_id"]).returning(table.c.id))


_STEP_INSERT = {"postgresql": _step_insert(postgresql), "sqlite": _step_insert(sqlite)}


def attach(s, flow: PurchaseOrderFlow, collection: str, row) -> None:
    """Add ``row`` (an alert, written by its flow_id) and put it in the flow's loaded
    collection as if it had been read, so this transaction sees it at once."""
    s.add(row)
    set_committed_value(flow, collection, [*getattr(flow, collection), row])


def _known(flow: PurchaseOrderFlow, facts: FlowFacts, orders: KnownOrders) -> bool:
    """Whether we know this PO: we sent its 850 (an ``order`` step in its facts), or the ERP
    registered it. Only then do its steps raise alerts: an invoice for a PO we never saw may
    be for services, with no ASN ever coming, and its timeline is still kept."""
    if "order" in facts.first:
        return True
    po = orders.get(flow.po_number)
    return po is not None and po.partner_id in (None, flow.partner_id)


def _new_flow(s, partner_id: str, po_number: str, now) -> PurchaseOrderFlow:
    """The PO's flow, made now; when another worker made it at the same moment (its 855
    and 856 processed side by side), theirs, found by the unique key."""
    return _made_flow(s, partner_id, po_number, now) or flow_for(s, partner_id, po_number)


def _made_flow(s, partner_id: str, po_number: str, now) -> PurchaseOrderFlow | None:
    """The PO's flow made now, or None when another worker has made it (the unique key
    decides: ON CONFLICT DO NOTHING, no savepoint to wrap a failing INSERT in). A flow
    made now has no alerts: its collection is set so, not read."""
    made = s.scalar(_insert(s, PurchaseOrderFlow).values(partner_id=partner_id, po_number=po_number,
                                                         created_at=now, updated_at=now)
                    .on_conflict_do_nothing(index_elements=["partner_id", "po_number"])
                    .returning(PurchaseOrderFlow))
    if made is not None:
        set_committed_value(made, "alerts", [])
        _held(s)[(partner_id, po_number)] = made  # locked by its INSERT until the transaction ends
    return made


def _alerts(rt, s, flow: PurchaseOrderFlow, step: str, now, doc: Document, facts: FlowFacts,
            orders: KnownOrders) -> list[dict]:
    if not _known(flow, facts, orders):
        return []
    status = next((st for st in statuses(rt, flow, now, facts=facts) if st.step == step), None)
    out = []
    if status is not None and status.out_of_order:
        out.append(alerts.raise_alert(s, flow, status, "out_of_order", now, doc))
    elif status is not None and status.status == "late":
        out.append(alerts.raise_alert(s, flow, status, "overdue", now, doc))  # no-op when flagged before
    return [e for e in out if e is not None]


def _matched(detail: dict, events: list[dict]) -> dict:
    """An invoice step's ``detail`` once matched: when, and how many discrepancies."""
    return {**detail, "matched_at": utcnow().isoformat(), "discrepancies": len(events)}
