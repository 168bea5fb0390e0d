"""Compensating events reach the ERP (a real HTTP receiver) through the same routes as
any event, naming the events they take back, and are delivered once per key."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from faultkit import SAMPLE_850, SAMPLES, drain, gateway_env, in_process_runtime, make_855

from gateway.intake.receive import receive
from gateway.processing.reprocess import reprocess
from gateway.routing.replay import replay_document
from gateway.store.models import EventRecord
from gateway.store.models_api import AuditEntry
from gateway.web.app import create_app
from gateway.web.auth import create_token

SAMPLE_810 = SAMPLES / "810" / "810_004010_acme_invoice_inv-88001.edi"


@pytest.fixture
def env(tmp_path, database_url, redis_url, erp):
    return gateway_env(tmp_path, database_url, redis_url, GATEWAY_ERP_URL=erp.url)


@pytest.fixture
def rt(env, monkeypatch):
    return in_process_runtime(monkeypatch, env)


def posted(erp, event_type: str) -> list[dict]:
    return [p["body"] for p in erp.posts if p["committed"] and p["body"]["type"] == event_type]


def send(rt, data: bytes, name: str) -> str:
    receipt = receive(rt, data, channel="sftp", filename=name, partner_id="demo")
    drain(rt)
    return receipt.document_id


def events_of(rt, document_id: str, event_type: str) -> list[str]:
    with rt.session() as s:
        return [e.event_id for e in s.query(EventRecord).filter_by(document_id=document_id, type=event_type)]


def test_a_later_855_for_the_same_po_supersedes_the_earlier_at_the_erp(rt, erp):
    first = send(rt, make_855(201), "first.edi")
    [e1] = events_of(rt, first, "purchase_order.acknowledged")
    assert posted(erp, "acknowledgment.superseded") == []

    second = send(rt, make_855(202), "second.edi")
    [e2] = events_of(rt, second, "purchase_order.acknowledged")
    [superseded] = posted(erp, "acknowledgment.superseded")
    assert superseded["payload"]["original_event_ids"] == [e1]
    assert superseded["payload"]["replaced_by_event_id"] == e2
    assert superseded["payload"]["po_number"] == "4500012345"
    assert superseded["schema"] == "acknowledgment.superseded/1"
    assert superseded["source"]["document_id"] == second
    # every event names its schema, the acknowledgments too
    assert {p["body"]["schema"] for p in erp.posts if p["body"]["type"] == "purchase_order.acknowledged"} == {
        "purchase_order.acknowledged/1"}

    # a third supersedes only the second (the first was superseded already); another PO nothing
    third = send(rt, make_855(203), "third.edi")
    [e3] = events_of(rt, third, "purchase_order.acknowledged")
    send(rt, make_855(204, po_number="4500099999"), "other-po.edi")
    assert [(b["payload"]["original_event_ids"], b["payload"]["replaced_by_event_id"])
            for b in posted(erp, "acknowledgment.superseded")] == [([e1], e2), ([e2], e3)]


def test_reprocess_and_replay_deliver_a_compensating_event_once_per_key(rt, erp):
    send(rt, make_855(301), "first.edi")
    second = send(rt, make_855(302), "second.edi")
    [comp] = events_of(rt, second, "acknowledgment.superseded")
    assert erp.committed()[comp] == 1

    reprocess(rt, second)  # the same bytes again: the same ids, nothing delivered twice
    drain(rt)
    report = replay_document(rt, second)  # delivered already: left alone unless forced
    drain(rt)
    assert report.requeued == [] and f"{comp}-erp_http" in report.skipped
    assert events_of(rt, second, "acknowledgment.superseded") == [comp]
    assert erp.committed()[comp] == 1
    assert all(count == 1 for count in erp.committed().values())

    report = replay_document(rt, second, force=True)  # forced: the same Idempotency-Key again
    drain(rt)
    assert erp.keys().count(comp) == 2 and f"{comp}-erp_http" in report.requeued


def _855_from(rt) -> tuple[str, list[str]]:
    document_id = send(rt, make_855(401), "ack.edi")
    with rt.session() as s:
        ids = [e.event_id for e in s.query(EventRecord).filter_by(document_id=document_id)]
    return document_id, ids


def test_support_voids_a_delivered_document_and_the_erp_is_told_once(rt, erp):
    document_id, originals = _855_from(rt)
    client = create_app(rt).test_client()
    support = {"Authorization": "Bearer " + create_token(rt, "t-support", "support")}
    viewer = {"Authorization": "Bearer " + create_token(rt, "t-viewer", "viewer")}
    url = f"/api/v1/documents/{document_id}/void"

    assert client.post(url, json={"reason": "wrong partner"}, headers=viewer).status_code == 403
    assert client.post(url, json={}, headers=support).status_code == 400  # no reason: nothing happens
    assert client.post("/api/v1/documents/nope/void", json={"reason": "x"}, headers=support).status_code == 404
    assert posted(erp, "document.voided") == []

    answer = client.post(url, json={"reason": "sent under the wrong partner"}, headers=support)
    assert answer.status_code == 200 and answer.json["changed"] is True
    drain(rt)
    [voided] = posted(erp, "document.voided")
    assert sorted(voided["payload"]["original_event_ids"]) == sorted(originals)
    assert voided["payload"]["reason"] == "sent under the wrong partner"
    assert voided["payload"]["document_id"] == document_id and voided["schema"] == "document.voided/1"
    assert voided["event_id"] == answer.json["event_id"]

    again = client.post(url, json={"reason": "clicked twice"}, headers=support)
    drain(rt)
    assert again.status_code == 200 and again.json["changed"] is False
    assert again.json["event_id"] == voided["event_id"] and again.json["reason"] == "sent under the wrong partner"
    assert erp.committed()[voided["event_id"]] == 1
    shown = client.get(f"/api/v1/documents/{document_id}", headers=support).json
    assert shown["status"] == "accepted" and shown["voided"]["event_id"] == voided["event_id"]
    with rt.session() as s:
        audit = [(a.action, a.reason) for a in s.query(AuditEntry).filter_by(target=document_id)]
    assert audit == [("document.void", "sent under the wrong partner")]


def test_only_an_accepted_document_can_be_voided(rt, erp):
    rejected = send(rt, make_855(402).replace(b"BAK*00*AC*", b"BAK*00*ZZZZ*"), "bad.edi")
    client = create_app(rt).test_client()
    support = {"Authorization": "Bearer " + create_token(rt, "t-support", "support")}
    answer = client.post(f"/api/v1/documents/{rejected}/void", json={"reason": "x"}, headers=support)
    assert answer.status_code == 409 and "only an accepted document" in answer.json["error"]
    assert posted(erp, "document.voided") == []


def _850_from_demo(icn: int, purpose: str) -> bytes:
    """The sample 850 as sent by the demo partner (we are the supplier here)."""
    data = SAMPLE_850.read_bytes()
    data = data.replace(b"ZZ*BUYERCO        *ZZ*ACMESUPPLY     ", b"ZZ*ACMESUPPLY     *ZZ*BUYERCO        ")
    data = data.replace(b"*BUYERCO*ACMESUPPLY*", b"*ACMESUPPLY*BUYERCO*")
    control = f"{icn:09d}".encode()
    data = data.replace(b"*000000050*", b"*" + control + b"*", 1).replace(b"IEA*1*000000050", b"IEA*1*" + control)
    return data.replace(b"BEG*00*SA*", b"BEG*" + purpose.encode() + b"*SA*", 1)


def test_a_cancelling_850_names_the_po_events_it_cancels(rt, erp):
    original = send(rt, _850_from_demo(51, "00"), "po.edi")
    [po_event] = events_of(rt, original, "purchase_order.received")
    cancel = send(rt, _850_from_demo(52, "01"), "cancel.edi")
    [cancel_event] = events_of(rt, cancel, "purchase_order.received")
    [cancelled] = posted(erp, "purchase_order.cancelled")
    assert cancelled["payload"]["original_event_ids"] == [po_event]
    assert cancelled["payload"]["replaced_by_event_id"] == cancel_event
    assert cancelled["payload"]["po_number"] == "4500012345"
    # the same cancellation sent again (new ISA13): the PO was cancelled already
    send(rt, _850_from_demo(53, "01"), "cancel-again.edi")
    assert len(posted(erp, "purchase_order.cancelled")) == 1


def _credit_memo(icn: int) -> bytes:
    data = SAMPLE_810.read_bytes()
    control = f"{icn:09d}".encode()
    data = data.replace(b"*000000103*", b"*" + control + b"*", 1).replace(b"IEA*1*000000103", b"IEA*1*" + control)
    data = data.replace(b"BIG*20261202*INV-88001*20261118*4500012345", b"BIG*20261203*CM-1*20261118*4500012345***CR")
    return data.replace(b"REF*BM*BOL-990011~", b"REF*BM*BOL-990011~\nREF*OI*INV-88001~").replace(b"SE*21*", b"SE*22*")


def test_a_credit_memo_credits_the_invoice_it_names(rt, erp):
    invoice = send(rt, SAMPLE_810.read_bytes(), "inv.edi")
    [invoice_event] = events_of(rt, invoice, "invoice.received")
    memo = send(rt, _credit_memo(104), "cm.edi")
    [memo_event] = events_of(rt, memo, "invoice.received")
    [memo_body] = [b for b in posted(erp, "invoice.received") if b["event_id"] == memo_event]
    assert memo_body["payload"]["invoice_type"] == "credit_memo"
    assert memo_body["payload"]["original_invoice_number"] == "INV-88001"
    [credited] = posted(erp, "invoice.credited")
    assert credited["payload"]["original_event_ids"] == [invoice_event]
    assert credited["payload"]["replaced_by_event_id"] == memo_event
    assert (credited["payload"]["invoice_number"], credited["payload"]["credit_memo_number"]) == ("INV-88001", "CM-1")
    assert credited["payload"]["credit_amount"] == memo_body["payload"]["total_amount"]


CXML_INVOICE = SAMPLES / "cxml" / "InvoiceDetailRequest_acme_inv-88060.xml"


def _cxml_credit_memo() -> bytes:
    data = CXML_INVOICE.read_bytes().replace(b"20270106081500.INV-88060@", b"20270107081500.CM-88060@")
    data = data.replace(b'invoiceID="INV-88060" purpose="standard"', b'invoiceID="CM-88060" purpose="creditMemo"')
    last_partner = data.rindex(b"</InvoicePartner>") + len(b"</InvoicePartner>")
    return data[:last_partner] + b'\n        <InvoiceIDInfo invoiceID="INV-88060"/>' + data[last_partner:]


def test_a_cxml_credit_memo_credits_the_invoice_it_names(rt, erp):
    invoice = send(rt, CXML_INVOICE.read_bytes(), "inv.xml")
    [invoice_event] = events_of(rt, invoice, "invoice.received")
    memo = send(rt, _cxml_credit_memo(), "cm.xml")
    [memo_event] = events_of(rt, memo, "invoice.received")
    [credited] = posted(erp, "invoice.credited")
    assert credited["payload"]["original_event_ids"] == [invoice_event]
    assert credited["payload"]["replaced_by_event_id"] == memo_event
    assert (credited["payload"]["invoice_number"], credited["payload"]["credit_memo_number"]) == ("INV-88060",
                                                                                                  "CM-88060")


def test_gateway_void_on_the_command_line(rt, env, erp):
    document_id, originals = _855_from(rt)

    def gateway(*args):
        return subprocess.run([sys.executable, "-m", "gateway", *args], env=env, capture_output=True, text=True,
                              timeout=60)

    assert gateway("void", document_id, "--reason", " ").returncode == 2  # say why
    result = gateway("void", document_id, "--reason", "wrong map version", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["changed"] is True and sorted(report["original_event_ids"]) == sorted(originals)
    drain(rt)
    [voided] = posted(erp, "document.voided")
    assert voided["event_id"] == report["event_id"]
    again = gateway("void", document_id, "--reason", "again")
    assert again.returncode == 0 and "voided before" in again.stdout
    assert gateway("void", "no-such-document", "--reason", "x").returncode == 1
    with rt.session() as s:
        assert [a.actor.startswith("cli:") for a in s.query(AuditEntry).filter_by(action="document.void")] == [True]


def test_the_earlier_events_are_one_read_each_kind_bounded_and_named_oldest_first(rt, monkeypatch):
    """Recording an 855 reads the PO's earlier acknowledgments and earlier supersessions in
    one statement (on PostgreSQL after its transaction lock), the ``LOOKBACK`` newest of
    each; it names them oldest first, production with production, none named before."""
    import re
    import uuid
    from datetime import timedelta

    from sqlalchemy import event

    from gateway.routing import compensation
    from gateway.store.models import Document, utcnow

    monkeypatch.setattr(compensation, "LOOKBACK", 3)
    ack = json.loads((SAMPLES.parent / "maps" / "translate" / "x12-855-004010.acme.expected.json").read_text())[0]
    ids = [str(uuid.uuid4()) for _ in range(6)]  # acks 0-3 production, 4 test data, 5 the new one
    start = utcnow() - timedelta(hours=1)
    with rt.session() as s:
        s.add(Document(id="doc-acks", partner_id="demo", channel="sftp", filename="acks", sha256="0" * 64, size=0,
                       format="x12", status="accepted", correlation_id="cor", received_at=start))
        s.flush()
        for i, event_id in enumerate(ids[:5]):
            body = {**ack, "event_id": event_id, **({"test": True} if i == 4 else {})}
            s.add(EventRecord(event_id=event_id, type=ack["type"], partner_id="demo", document_id="doc-acks",
                              body=body, reference=ack["payload"]["po_number"], created_at=start + timedelta(minutes=i)))
        s.add(EventRecord(event_id=str(uuid.uuid4()), type="acknowledgment.superseded", partner_id="demo",
                          document_id="doc-acks", reference=ack["payload"]["po_number"],
                          created_at=start + timedelta(minutes=2, seconds=30),
                          body={"payload": {"original_event_ids": [ids[1]]}}))
    sent: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        table = re.search(r"\bFROM\s+\"?(\w+)", statement, re.I)
        sent.append(f"{statement.split()[0].upper()} {table.group(1) if table else ''}".strip())

    with rt.session() as s:
        engine = s.get_bind().engine
        event.listen(engine, "before_cursor_execute", seen)
        try:
            [superseded] = compensation.compensating_events(s, {**ack, "event_id": ids[5]})
        finally:
            event.remove(engine, "before_cursor_execute", seen)
    # the 3 newest acks are 2, 3 and the test one; 1 was superseded already and 0 is beyond the bound
    assert superseded["payload"]["original_event_ids"] == [ids[2], ids[3]]
    lock = ["SELECT"] if engine.dialect.name == "postgresql" else []
    assert sent == [*lock, "SELECT events"]
