"""A document processed for the first time skips the look-ups only a reprocess needs.

The claim says whether the document has events or acks of its own already; when it has
none and nothing else can have made its event ids, events are inserted without a
``Session.get`` first (a statement and an autoflush per event: most of a big
interchange's cost). These tests hold the two ends of that bargain: a reprocess still
finds what it recorded, and an event id taken by a way the claim cannot see (the same
ISA header again after the duplicate window) fails the primary key, and the document is
processed again with every look-up, ending as it always did."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from faultkit import gateway_env, in_process_runtime, make_855, make_big_interchange
from sqlalchemy import func, select
from support import opening, statements_sent

from gateway.intake.receive import receive
from gateway.processing import x12_interchange
from gateway.processing.reprocess import reprocess
from gateway.processing.service import process
from gateway.routing.derived import KnownOrders, register_purchase_order
from gateway.store.db import engine_for
from gateway.store.models import AckRecord, DeliveryRecord, Document, EventRecord


@pytest.fixture
def rt(tmp_path, database_url, redis_url, erp, monkeypatch):
    return in_process_runtime(monkeypatch, gateway_env(tmp_path, database_url, redis_url, GATEWAY_ERP_URL=erp.url))


def count(rt, model) -> int:
    with rt.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def run(rt, data: bytes, name: str) -> tuple[str, str]:
    doc = receive(rt, data, channel="sftp", filename=name, partner_id="demo").document_id
    return doc, process(rt, doc, dispatch=lambda *_: None)


def test_an_isa_header_sent_again_after_the_duplicate_window_finds_its_event(rt, caplog):
    first, status = run(rt, make_855(7, "PO-1"), "first.edi")
    assert status == "accepted"
    with rt.session() as s:  # the first one is older than the duplicate window now
        doc = s.get(Document, first)
        doc.received_at -= timedelta(days=rt.settings.duplicate_window_days + 1)
    # Other bytes (another PO) under the same ISA date, time and control number: the same event id.
    caplog.set_level(logging.INFO, logger="gateway.processing")
    second, status = run(rt, make_855(7, "PO-2"), "second.edi")
    assert status == "accepted"
    assert "met a unique key" in caplog.text  # the insert without a look-up failed, and it ran again
    assert count(rt, EventRecord) == 1 and count(rt, DeliveryRecord) == 1  # no second event, no second delivery
    with rt.session() as s:
        event = s.scalars(select(EventRecord)).one()
        assert event.document_id == first
        assert event.body["payload"]["po_number"] == "PO-2"  # not delivered yet: it takes the new body


def test_a_reprocess_looks_its_events_and_acks_up(rt, caplog):
    doc, status = run(rt, make_855(8, "PO-8"), "8.edi")
    assert status == "accepted"
    acks = count(rt, AckRecord)
    caplog.set_level(logging.INFO, logger="gateway.processing")
    reprocess(rt, doc)  # resets it and queues its job; the job is run here instead
    assert process(rt, doc, dispatch=lambda *_: None) == "accepted"
    assert "met a unique key" not in caplog.text  # the claim said so: no failed insert first
    assert count(rt, AckRecord) == acks  # acknowledged once, the first time
    assert count(rt, EventRecord) == 1 and count(rt, DeliveryRecord) == 1


def test_an_interchange_of_many_sets_looks_up_no_event_and_its_po_once(rt, monkeypatch):
    """40 ASNs and invoices against one PO (the delivery benchmark's big interchange, small):
    the PO nobody registered is asked for once in the transaction, not once per event, its
    flow is read (and locked) once, its route table looked up once, and no event is looked
    up before it is inserted."""
    tables: list[str | None] = []
    load = x12_interchange.load_route_table
    monkeypatch.setattr(x12_interchange, "load_route_table",
                        lambda settings, partner_id=None: tables.append(partner_id) or load(settings, partner_id))
    with statements_sent(engine_for(rt.settings.database_url), opening) as sent:
        _, status = run(rt, make_big_interchange(9, 40), "big.edi")
    assert status == "accepted"
    assert count(rt, EventRecord) >= 40
    assert len([st for st in sent if st.startswith("SELECT purchase_orders.")]) == 1
    assert len([st for st in sent if st.startswith("SELECT po_flows.id,")]) == 1
    assert not [st for st in sent if st.startswith("SELECT events.event_id,")]
    assert tables == ["demo"]


def test_a_po_read_in_one_transaction_is_read_again_in_the_next(rt):
    """What a transaction remembers of the POs it read is its own: a session used again
    after its commit asks the database afresh (the ERP may have registered the PO since)."""
    s = rt.new_session()
    try:
        assert KnownOrders(s).get("PO-LATE") is None
        register_purchase_order(rt, {"po_number": "PO-LATE", "lines": []}, partner_id="demo")
        assert KnownOrders(s).get("PO-LATE") is None  # the same transaction: as it read it
        s.commit()
        assert KnownOrders(s).get("PO-LATE") is not None
    finally:
        s.close()
