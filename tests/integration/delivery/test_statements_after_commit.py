"""What the processing job costs the database after its commit: an ERP delivery attempt
is two statements (the lease with the event, the verdict), a document's acks two (one
read for all of them, one UPDATE), each without a transaction around it. Each statement
is a round trip and ~0.5 ms of worker CPU, so a change that adds one shows here."""

from __future__ import annotations

import pytest
from faultkit import gateway_env, in_process_runtime, make_855
from sqlalchemy import select
from support import opening, statements_sent

from gateway.intake.receive import receive
from gateway.processing.acks import send_all
from gateway.processing.service import process
from gateway.routing.delivery import attempt
from gateway.store.db import engine_for
from gateway.store.models import AckRecord, DeliveryRecord


@pytest.fixture
def rt(tmp_path, database_url, redis_url, erp, monkeypatch):
    return in_process_runtime(monkeypatch, gateway_env(tmp_path, database_url, redis_url, GATEWAY_ERP_URL=erp.url))


@pytest.fixture
def statements(rt):
    """The SQL statements this process sends while the test runs (after the fixture)."""
    with statements_sent(engine_for(rt.settings.database_url), opening) as sent:
        yield sent


def processed_855(rt) -> tuple[str, list[int]]:
    """A processed 855 whose delivery and ack are still pending (nothing handed on)."""
    doc = receive(rt, make_855(1, "PO-1"), channel="sftp", filename="1.edi", partner_id="demo").document_id
    assert process(rt, doc, dispatch=lambda *_: None) == "accepted"
    with rt.session() as s:
        [delivery_id] = s.scalars(select(DeliveryRecord.id)).all()
        ack_ids = list(s.scalars(select(AckRecord.id)))
    return delivery_id, ack_ids


def test_an_erp_attempt_is_the_lease_and_the_verdict(rt, erp, statements):
    delivery_id, _ = processed_855(rt)
    statements.clear()
    assert attempt(rt, delivery_id) == "delivered"
    expected = ["UPDATE deliveries SET", "UPDATE deliveries SET"]
    if rt.settings.database_url.startswith("sqlite"):  # no UPDATE ... FROM returning the event's columns
        expected.insert(1, "SELECT events.body, events.partner_id")
    assert statements == expected
    assert len(erp.posts) == 1


def test_a_documents_acks_are_one_read_and_one_update(rt, statements):
    _, ack_ids = processed_855(rt)
    statements.clear()
    assert send_all(rt, ack_ids) == {ack_id: "sent" for ack_id in ack_ids}
    assert statements == ["SELECT acks.id, acks.kind,", "UPDATE acks SET"]
    with rt.session() as s:
        assert set(s.scalars(select(AckRecord.status))) == {"sent"}


def test_processing_reads_its_document_once_and_numbers_its_ack_in_one_statement(rt, statements):
    """The processing transaction's own savings: the claim's row is taken on (the document
    is never SELECTed) and written once more, with its outcome; a file that is no
    correction never looks for its originals; a document processed for the first time
    looks up neither its events nor its acks (the claim said it has none); the 997's three
    control numbers are one statement, and the outbox row's correlation id comes from the
    document in hand (no SELECT joining documents and events)."""
    processed_855(rt)  # the first ack creates the counters
    statements.clear()
    doc = receive(rt, make_855(2, "PO-2"), channel="sftp", filename="2.edi", partner_id="demo").document_id
    assert process(rt, doc, dispatch=lambda *_: None) == "accepted"
    touching = lambda table: [st for st in statements if table in st]  # noqa: E731
    assert not [st for st in statements if st.startswith("SELECT documents")]
    assert touching("resubmissions") == []
    # PostgreSQL's locks the rows in order first: "WITH locked AS MATERIALIZED (...) UPDATE control_numbers"
    assert len(touching("control_numbers") + touching("WITH locked")) == 1
    assert [st for st in statements if st.startswith("UPDATE documents")] == ["UPDATE documents SET"] * 2
    assert not [st for st in statements if st.startswith("SELECT events.event_id,")]  # Session.get(EventRecord)
    assert not [st for st in statements if st.startswith("SELECT acks.id FROM")]  # "answered before?"
