"""Two workers recording acknowledgments of one PO at the same moment (PostgreSQL, two
real transactions): the second waits for the first to commit, then supersedes it, so
the acknowledgments form one chain instead of both superseding the same earlier one."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from faultkit import drain, gateway_env, in_process_runtime, make_855, wait_for

from gateway.intake.receive import receive
from gateway.mapping import SourceContext, translate_x12
from gateway.processing.x12_interchange import record_event
from gateway.store.models import Document, EventRecord
from gateway.x12.reader import read_x12


@pytest.fixture
def rt(tmp_path, database_url, redis_url, erp, monkeypatch):
    if not database_url.startswith("postgresql"):
        pytest.skip("two writing transactions at once need PostgreSQL (SQLite runs one at a time)")
    return in_process_runtime(monkeypatch, gateway_env(tmp_path, database_url, redis_url, GATEWAY_ERP_URL=erp.url))


def _ack(rt, n: int) -> tuple[str, dict]:
    """A stored (not yet processed) document and the acknowledgment event its 855 yields."""
    data = make_855(n)
    document_id = receive(rt, data, channel="sftp", filename=f"{n}.edi", partner_id="demo").document_id
    context = SourceContext(partner_id="demo", document_id=document_id, received_at=datetime.now(UTC),
                            correlation_id=f"c{n}")
    [body] = [e for ic in read_x12(data).interchanges for e in translate_x12(ic, context)
              if e["type"] == "purchase_order.acknowledged"]
    return document_id, body


def _waiting_for_a_lock(rt) -> int:
    with sa.create_engine(rt.settings.database_url).connect() as c:
        return c.scalar(sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"))


def test_concurrent_acks_of_one_po_supersede_as_a_chain(rt):
    first_doc = receive(rt, make_855(801), channel="sftp", filename="801.edi", partner_id="demo").document_id
    drain(rt)
    with rt.session() as s:
        [first] = [e.event_id for e in s.query(EventRecord).filter_by(document_id=first_doc)]
    (a_doc, a), (b_doc, b) = _ack(rt, 802), _ack(rt, 803)

    def record_b():
        with rt.session() as s:
            record_event(rt, s, s.get(Document, b_doc), b)

    with rt.session() as s:
        record_event(rt, s, s.get(Document, a_doc), a)
        s.flush()
        worker_b = threading.Thread(target=record_b)
        worker_b.start()
        wait_for(lambda: _waiting_for_a_lock(rt) == 1, 30, what="the second worker to wait for the first")
    worker_b.join(60)
    assert not worker_b.is_alive()

    with rt.session() as s:
        chain = {e.body["payload"]["replaced_by_event_id"]: e.body["payload"]["original_event_ids"]
                 for e in s.query(EventRecord).filter_by(type="acknowledgment.superseded")}
    assert chain == {a["event_id"]: [first], b["event_id"]: [a["event_id"]]}
