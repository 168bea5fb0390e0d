"""A PO's flow keeps its facts and its quantity shipped per line as running state on its
row (issue #14): recording one more step costs the same statements whatever the flow
holds, and the running state is what aggregating the stored steps and ASN lines gives,
after a mixed sequence of 850s, 855s (one rejecting), ASNs and invoices out of time
order, a replay and a void. Migration 0094 fills it in for flows stored before it."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from support import REPO, statement_shape, statements_sent

from gateway.events.compensation import voided_event
from gateway.flow.match import shipments
from gateway.flow.models import FlowStep, LineQuantity
from gateway.flow.record import flow_for, record_flow
from gateway.flow.state import facts_of
from gateway.store.db import engine_for
from gateway.store.migrate import current_revision, upgrade
from gateway.store.models import Document, EventRecord

MAPS = REPO / "maps" / "translate"
PO_NUMBER = "4500012345"
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def _sample(name: str, event_id: str, **changes) -> dict:
    event = copy.deepcopy(json.loads((MAPS / name).read_text())[0])
    event.update(changes, event_id=event_id)
    return event


def _order(event_id: str, quantities: list[str]) -> dict:
    order = _sample("x12-850-004010.buyerco.expected.json", event_id, type="purchase_order.issued", partner_id="demo")
    order["payload"]["lines"] = [{**line, "quantity": q} for line, q in zip(order["payload"]["lines"], quantities, strict=True)]
    return order


def _ack(event_id: str, ack_type: str) -> dict:
    ack = _sample("x12-855-004010.acme.expected.json", event_id)
    ack["payload"]["ack_type"] = ack_type
    return ack


def _asn(event_id: str, shipped: list[str | None]) -> dict:
    asn = _sample("x12-856-004010.acme.expected.json", event_id)
    asn["payload"]["shipment_id"] = f"SH-{event_id}"
    lines = asn["payload"]["orders"][0]["lines"]
    asn["payload"]["orders"][0]["lines"] = [{**line, "quantity_shipped": q} for line, q in zip(lines, shipped, strict=True)]
    return asn


def _invoice(event_id: str) -> dict:
    invoice = _sample("x12-810-004010.acme.expected.json", event_id)
    invoice["payload"]["invoice_number"] = f"INV-{event_id}"
    invoice["payload"]["lines"][1]["unit_price"] = "30.00"  # the PO's price: only quantities may disagree
    return invoice


def _record(rt, body: dict, at: datetime, doc_id: str | None = None) -> list[dict]:
    """``body`` recorded as a worker would: its own transaction, its document received ``at``."""
    with rt.session() as s:
        return _record_in(rt, s, body, at, doc_id)


def _record_in(rt, s, body: dict, at: datetime, doc_id: str | None = None) -> list[dict]:
    doc = s.get(Document, doc_id) if doc_id else None
    if doc is None:
        doc = Document(id=doc_id or f"doc-{body['event_id']}", partner_id="demo", channel="sftp",
                       filename="f.edi", sha256="0" * 64, size=0, format="x12", status="accepted",
                       correlation_id="cor", received_at=at)
        s.add(doc)
    if s.get(EventRecord, body["event_id"]) is None:  # a late ASN reads the invoices it compares again
        s.add(EventRecord(event_id=body["event_id"], type=body["type"], partner_id="demo", document_id=doc.id,
                          body=body))
    return record_flow(rt, s, doc, body)


def _aggregated(s, flow) -> dict:
    """The flow's facts and shipped quantities as the code before the running state read
    them: an aggregate over every step (the latest 855 by time, then id), every shipped
    line summed per line identity, the latest 850's lines by row id."""
    ack = aliased(FlowStep)
    latest = select(ack.reference).where(ack.flow_id == flow.id, ack.step == "order_ack") \
        .order_by(ack.at.desc(), ack.id.desc()).limit(1).scalar_subquery()
    first, count, rejected = {}, {}, False
    for step, at, n, reference in s.execute(select(FlowStep.step, func.min(FlowStep.at), func.count(FlowStep.id),
                                                   latest).where(FlowStep.flow_id == flow.id)
                                            .group_by(FlowStep.step)):
        first[step], count[step], rejected = at, n, reference == "rejected"
    shipped: dict[tuple, Decimal | None] = {}
    for row in s.scalars(select(LineQuantity).where(LineQuantity.flow_id == flow.id, LineQuantity.kind == "shipped")):
        key = (row.line_number, row.buyer_part, row.vendor_part)
        shipped.setdefault(key, None)
        if row.quantity not in (None, ""):
            shipped[key] = (shipped[key] or Decimal(0)) + Decimal(row.quantity)
    ordered = s.scalars(select(LineQuantity.event_id).where(LineQuantity.flow_id == flow.id,
                                                            LineQuantity.kind == "ordered")
                        .order_by(LineQuantity.id.desc()).limit(1)).first()
    agreed = [row.id for row in s.scalars(select(FlowStep).where(FlowStep.flow_id == flow.id, FlowStep.step == "invoice")
                                          .order_by(FlowStep.id)) if not row.detail.get("discrepancies")]
    return {"first": first, "count": count, "rejected": rejected, "shipped": shipped, "ordered_event": ordered,
            "agreed": agreed}


def _running(flow) -> dict:
    facts = facts_of(flow)
    shipped: dict[tuple, Decimal | None] = {}
    for asn in shipments(flow):
        for line in asn["orders"][0]["lines"]:
            key = (line["line_number"], line["buyer_part"], line["vendor_part"])
            shipped.setdefault(key, None)
            if line["quantity_shipped"] is not None:
                shipped[key] = (shipped[key] or Decimal(0)) + Decimal(line["quantity_shipped"])
    return {"first": facts.first, "count": facts.count, "rejected": facts.rejected, "shipped": shipped,
            "ordered_event": flow.facts.get("ordered_event"), "agreed": flow.facts.get("agreed", [])}


def _both(rt) -> tuple[dict, dict]:
    with rt.session() as s:
        flow = flow_for(s, "demo", PO_NUMBER)
        return _running(flow), _aggregated(s, flow)


def test_the_running_state_is_the_aggregate_of_the_steps_after_a_mixed_sequence(rt):
    hours = lambda h: T0 + timedelta(hours=h)  # noqa: E731
    _record(rt, _order("po-1", ["100", "50", "25"]), hours(0))
    _record(rt, _ack("ack-rejecting", "rejected"), hours(40))  # the latest 855 by time...
    _record(rt, _ack("ack-accepting", "accepted"), hours(30))  # ...though this one came in after it
    _record(rt, _asn("asn-1", ["97.5", "25"]), hours(50))
    _record(rt, _asn("asn-2", ["2.50", None]), hours(45))  # the first ASN by time, recorded second
    assert _record(rt, _asn("asn-1", ["97.5", "25"]), hours(50), "doc-asn-1") == []  # a replay adds nothing
    assert _record(rt, _invoice("inv-1"), hours(60)) == []  # 100 of line 1 and 25 of line 3 shipped: it agrees
    running, aggregated = _both(rt)
    assert running == aggregated and len(running["agreed"]) == 1
    events = _record(rt, _asn("asn-3", ["57.5", "1"]), hours(70))  # a late ASN: the invoice is matched again
    assert {e["payload"]["invoice_number"] for e in events if e["type"] == "invoice.discrepancy"} == {"INV-inv-1"}
    _record(rt, _invoice("inv-2"), hours(80))
    _record(rt, _order("po-1-changed", ["120", "50", "30"]), hours(90))  # the PO sent again, changed
    void = voided_event(document_id="doc-asn-2", events=[_asn("asn-2", ["2.50", None])], reason="wrong partner",
                        voided_at=hours(95).isoformat())
    assert _record(rt, void, hours(95), "doc-asn-2") == []  # a void is no step: the flow keeps the ASN
    running, aggregated = _both(rt)
    assert running == aggregated
    assert running["first"]["ship_notice"] == hours(45) and running["count"]["ship_notice"] == 3
    assert running["rejected"] and running["ordered_event"] == "po-1-changed" and running["agreed"] == []
    assert running["shipped"][("1", "WIDGET-100", "AC-W100")] == Decimal("157.5")


def test_a_session_kept_across_transactions_adds_to_the_flow_as_another_worker_left_it(rt):
    """Sessions keep their objects after a commit (``expire_on_commit=False``): a worker
    whose session still holds the flow from an earlier transaction adds its step to the
    running state as it is now, not to its own old copy (which would drop the other's ASN)."""
    _record(rt, _order("po-1", ["100", "50", "25"]), T0)
    mine = rt.new_session()
    try:
        _record_in(rt, mine, _asn("asn-1", ["10", "5"]), T0)
        held = flow_for(mine, "demo", PO_NUMBER)  # noqa: F841  (the session's copy stays alive)
        mine.commit()
        _record(rt, _asn("asn-2", ["20", "5"]), T0)  # another worker, meanwhile
        _record_in(rt, mine, _asn("asn-3", ["30", "5"]), T0)
        mine.commit()
        _record_in(rt, mine, _asn("asn-4", ["40", "5"]), T0)
        mine.rollback()  # that transaction failed: its step is not there, nor in the flow
        _record(rt, _asn("asn-5", ["50", "5"]), T0)
        _record_in(rt, mine, _asn("asn-6", ["60", "5"]), T0)
        mine.commit()
    finally:
        mine.close()
    running, aggregated = _both(rt)
    assert running == aggregated and running["count"]["ship_notice"] == 5


def test_a_shipped_quantity_that_is_no_number_stops_the_match_as_before(rt):
    """Its text is kept as it is: the match meets it and fails as it did when it read the
    stored lines (the invoice's transaction rolls back, the document is retried)."""
    _record(rt, _order("po-1", ["100", "50", "25"]), T0)
    _record(rt, _asn("asn-1", ["100", "25"]), T0)
    _record(rt, _asn("asn-2", ["5", "n/a"]), T0)
    with rt.session() as s:
        lines = shipments(flow_for(s, "demo", PO_NUMBER))[0]["orders"][0]["lines"]
    assert sorted((line["line_number"], line["quantity_shipped"]) for line in lines) == [
        ("1", "105"), ("3", "25"), ("3", "n/a")]
    with pytest.raises(InvalidOperation):
        _record(rt, _invoice("inv-1"), T0)


def _next_pair(rt, k: int) -> list[str]:
    """The statements recording the k-th ASN and the k-th invoice of the PO send, each
    with the commit that writes the flow's row."""
    sent = []
    for body in (_asn(f"asn-{k}", ["10", "5"]), _invoice(f"inv-{k}")):
        with rt.session() as s:
            doc = Document(id=f"doc-{body['event_id']}", partner_id="demo", channel="sftp", filename="f.edi",
                           sha256="0" * 64, size=0, format="x12", status="accepted", correlation_id="cor",
                           received_at=T0 + timedelta(hours=k))
            s.add(doc)
            s.flush()
            with statements_sent(s.get_bind().engine) as step:
                record_flow(rt, s, doc, body)
                s.commit()
            sent += step
    return sent


def test_recording_one_more_step_costs_the_same_whatever_the_flow_holds(rt):
    """Issue #14: a 10,000-set interchange of ASNs and invoices against one PO made the
    flow's aggregates quadratic. The 3rd and the 60th ASN and invoice of a PO send the same
    statements, and none reads the flow's steps or stored lines other than by key (an
    event's lines): a read of all of them would be the same statement, and cost more each time."""
    _record(rt, _order("po-1", ["100", "50", "25"]), T0)
    _record(rt, _ack("ack-1", "accepted"), T0)
    for k in range(1, 3):
        _next_pair(rt, k)
    early = _next_pair(rt, 3)
    for k in range(4, 60):
        _next_pair(rt, k)
    late = _next_pair(rt, 60)
    assert [statement_shape(st) for st in late] == [statement_shape(st) for st in early]
    reads = [st for st in late if st.upper().startswith("SELECT") and re.search(r"po_flow_steps|po_line_quantities", st)]
    assert all(re.search(r"po_line_quantities\.event_id = |po_flow_steps\.id IN", st) for st in reads), reads
    assert [statement_shape(st) for st in late].count("UPDATE po_flows") == 2  # one per transaction: the running state with the rest
    with rt.session() as s:
        flow = flow_for(s, "demo", PO_NUMBER)
        assert flow.facts["count"] == {"order": 1, "order_ack": 1, "ship_notice": 60, "invoice": 60}
        assert _running(flow)["shipped"] == _aggregated(s, flow)["shipped"]


def test_a_transaction_recording_many_steps_of_a_po_writes_its_flow_once(rt):
    """A big interchange is one transaction: its 856s and 810s against one PO write the
    flow's row once, at commit (PostgreSQL walks every version of a row updated within a
    transaction on each later read or update of it), and what is written is the
    aggregate of the steps all the same."""
    _record(rt, _order("po-1", ["100", "50", "25"]), T0)
    with rt.session() as s, statements_sent(s.get_bind().engine) as sent:
        for k in range(1, 11):
            _record_in(rt, s, _asn(f"asn-{k}", ["10", "2.5"]), T0 + timedelta(hours=k))
            _record_in(rt, s, _invoice(f"inv-{k}"), T0 + timedelta(hours=k))
        s.commit()
    shapes = [statement_shape(st) for st in sent]
    assert shapes.count("UPDATE po_flows") == 1 and shapes.count("SELECT po_flows") == 1
    running, aggregated = _both(rt)
    assert running == aggregated and running["count"]["invoice"] == 10


def _revision_before(revision: str) -> str:
    from alembic.script import ScriptDirectory

    from gateway.store.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(revision).down_revision


def test_flows_stored_before_the_running_state_get_it_from_their_steps(database_url):
    revision = "0094_flow_running_state"
    upgrade(database_url, _revision_before(revision))  # the schema as 0094 finds it
    engine = engine_for(database_url)
    zone = "+00:00" if database_url.startswith("postgresql") else ""  # SQLite keeps UTC without a zone
    at = lambda h: (T0 + timedelta(hours=h)).strftime("%Y-%m-%d %H:%M:%S") + zone  # noqa: E731
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO documents (id, channel, filename, sha256, size, format, status, errors, "
                          "correlation_id, received_at, process_attempts, test) VALUES ('d1', 'sftp', 'a.edi', "
                          "'00', 1, 'x12', 'accepted', '[]', 'c1', CURRENT_TIMESTAMP, 0, false)"))
        c.execute(sa.text("INSERT INTO po_flows (id, partner_id, po_number, created_at, updated_at) VALUES "
                          "(1, 'demo', 'PO-1', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), "
                          "(2, 'demo', 'PO-2', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        steps = [(1, "order", "e-850a", None, 0), (1, "order_ack", "e-855a", "rejected", 30),
                 (1, "order_ack", "e-855b", "accepted", 20), (1, "ship_notice", "e-856a", "SH-1", 50),
                 (1, "ship_notice", "e-856b", "SH-2", 45), (1, "order", "e-850b", None, 60),
                 (1, "invoice", "e-810a", "INV-1", 70, '{"discrepancies": 0}'),
                 (1, "invoice", "e-810b", "INV-2", 80, '{"discrepancies": 2}'), (1, "invoice", "e-810c", "INV-3", 90)]
        for i, (flow_id, step, event_id, reference, h, *detail) in enumerate(steps, start=1):
            c.execute(sa.text("INSERT INTO po_flow_steps (id, flow_id, step, event_id, event_type, document_id, "
                              "reference, at, detail) VALUES (:i, :f, :step, :e, 't', 'd1', :r, :at, :d)"),
                      {"i": i, "f": flow_id, "step": step, "e": event_id, "r": reference, "at": at(h),
                       "d": detail[0] if detail else "{}"})
        lines = [("ordered", "e-850a", "1", "100"), ("ordered", "e-850b", "1", "120"),
                 ("shipped", "e-856a", "1", "40"), ("shipped", "e-856a", "3", None),
                 ("shipped", "e-856b", "1", "2.50"), ("shipped", "e-856b", "3", "n/a"),
                 ("shipped", "e-856c", "1", "40")]
        for i, (kind, event_id, line_number, quantity) in enumerate(lines, start=1):
            c.execute(sa.text("INSERT INTO po_line_quantities (id, flow_id, kind, event_id, ordinal, line_number, "
                              "quantity) VALUES (:i, 1, :k, :e, :i, :n, :q)"),
                      {"i": i, "k": kind, "e": event_id, "n": line_number, "q": quantity})
    upgrade(database_url, revision)
    assert revision in current_revision(database_url)
    with engine.connect() as c:
        got = {i: (json.loads(f) if isinstance(f, str) else f, json.loads(sh) if isinstance(sh, str) else sh)
               for i, f, sh in c.execute(sa.text("SELECT id, facts, shipped FROM po_flows"))}
    when = lambda h: (T0 + timedelta(hours=h)).isoformat()  # noqa: E731
    assert got[1][0] == {"first": {"order": when(0), "order_ack": when(20), "ship_notice": when(45),
                                   "invoice": when(70)},
                         "count": {"order": 2, "order_ack": 2, "ship_notice": 2, "invoice": 3},
                         "latest_ack": {"at": when(30), "id": 2, "reference": "rejected"},
                         "ordered_event": "e-850b", "agreed": [7, 9]}
    assert got[1][1] == {
        json.dumps(["1", None, None]): {"line_number": "1", "buyer_part": None, "vendor_part": None,
                                        "quantity": "82.50", "other": []},
        json.dumps(["3", None, None]): {"line_number": "3", "buyer_part": None, "vendor_part": None,
                                        "quantity": None, "other": ["n/a"]}}
    assert got[2] == ({}, {})  # a flow with no steps yet: nothing happened to it
