"""Intake -> RQ -> processing -> 997 + canonical event -> ERP over HTTP, in process, on a
real Redis and on both databases (SQLite and PostgreSQL)."""

from __future__ import annotations

from support import SAMPLES, drain

from gateway.intake.receive import receive
from gateway.store.models import Document
from gateway.store.views import document_detail

SAMPLE_855 = SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi"


def show(rt, document_id: str) -> dict:
    with rt.session() as s:
        return document_detail(s.get(Document, document_id))


def test_855_reaches_the_erp_once_and_a_997_goes_back(rt, erp_receiver):
    receipt = receive(rt, SAMPLE_855.read_bytes(), channel="sftp", filename=SAMPLE_855.name, partner_id="demo")
    assert receipt.enqueued
    drain(rt)

    doc = show(rt, receipt.document_id)
    assert doc["status"] == "accepted", doc["reason"]
    assert [t["set_id"] for t in doc["transaction_sets"]] == ["855"]
    [event] = doc["events"]
    assert event["type"] == "purchase_order.acknowledged"
    assert [d["status"] for d in event["deliveries"]] == ["delivered"]

    assert erp_receiver.keys() == [event["event_id"]]
    body = erp_receiver.posts[0]["body"]
    assert body["payload"]["po_number"] == "4500012345"
    assert [line["line_number"] for line in body["payload"]["lines"]] == ["1", "2", "3"]

    outbound = list((rt.settings.sftp_root / "demo" / "outbound").iterdir())
    assert len(outbound) == 1
    ack = outbound[0].read_text()
    assert "AK1*PR*101" in ack and "AK9*A*1*1*1" in ack
    assert doc["ack"]["kind"] == "997" and doc["ack"]["status"] == "sent"


def test_the_same_file_twice_is_a_duplicate_and_is_not_posted_again(rt, erp_receiver):
    first = receive(rt, SAMPLE_855.read_bytes(), channel="sftp", filename="a.edi", partner_id="demo")
    drain(rt)
    second = receive(rt, SAMPLE_855.read_bytes(), channel="sftp", filename="b.edi", partner_id="demo")
    drain(rt)
    dup = show(rt, second.document_id)
    assert dup["status"] == "duplicate"
    assert dup["duplicate_of"] == first.document_id
    assert dup["events"] == []
    assert len(erp_receiver.posts) == 1
    # the original 997 is sent again, byte for byte
    assert dup["acks"][0]["text"] == show(rt, first.document_id)["acks"][0]["text"]


def test_a_file_that_is_not_x12_is_stored_and_rejected_with_a_reason(rt, erp_receiver):
    data = b"Hello, this is a PDF invoice, honestly.\n"
    receipt = receive(rt, data, channel="sftp", filename="invoice.txt", partner_id="demo")
    drain(rt)
    doc = show(rt, receipt.document_id)
    assert doc["status"] == "rejected"
    assert "not an X12 interchange" in doc["reason"] and "Hello, this is" in doc["reason"]
    assert rt.blobs.get(doc["sha256"]) == data  # nothing lost
    assert erp_receiver.posts == []
    [event] = doc["events"]  # support hears of it through document.rejected's routes, not the ERP
    assert event["type"] == "document.rejected" and event["deliveries"] == []
    assert event["event"]["payload"]["reason"] == doc["reason"]


def test_an_interchange_from_another_sender_than_the_login_is_rejected(rt, erp_receiver):
    data = SAMPLE_855.read_bytes().replace(b"ACMESUPPLY     ", b"SOMEONEELSE    ", 1)
    receipt = receive(rt, data, channel="sftp", filename="spoof.edi", partner_id="demo")
    drain(rt)
    doc = show(rt, receipt.document_id)
    assert doc["status"] == "rejected"
    assert "ZZ/SOMEONEELSE" in doc["reason"] and "'demo'" in doc["reason"]
    assert erp_receiver.posts == []


def test_an_erp_that_fails_then_recovers_gets_the_event_once_with_the_same_key(rt, erp_receiver):
    erp_receiver.script = [500, 503]
    receipt = receive(rt, SAMPLE_855.read_bytes(), channel="sftp", filename="a.edi", partner_id="demo")
    drain(rt, rounds=40)
    [event] = show(rt, receipt.document_id)["events"]
    assert [p["status"] for p in erp_receiver.posts] == [500, 503, 200]
    assert set(erp_receiver.keys()) == {event["event_id"]}
    [delivery] = event["deliveries"]
    assert delivery["status"] == "delivered" and delivery["attempts"] == 3


def test_an_erp_refusal_is_dead_lettered_without_retries(rt, erp_receiver):
    erp_receiver.script = [422]
    receipt = receive(rt, SAMPLE_855.read_bytes(), channel="sftp", filename="a.edi", partner_id="demo")
    drain(rt)
    [event] = show(rt, receipt.document_id)["events"]
    [delivery] = event["deliveries"]
    assert delivery["status"] == "dead_lettered"
    assert "422" in delivery["last_error"]
    assert len(erp_receiver.posts) == 1


def test_an_isa13_reused_with_other_content_is_rejected_with_ta1_025(rt, erp_receiver):
    receive(rt, SAMPLE_855.read_bytes(), channel="sftp", filename="a.edi", partner_id="demo")
    drain(rt)
    changed = SAMPLE_855.read_bytes().replace(b"PO1*3*25*BX", b"PO1*3*26*BX").replace(b"ACK*IA*25*BX", b"ACK*IA*26*BX")
    second = receive(rt, changed, channel="sftp", filename="b.edi", partner_id="demo")
    drain(rt)
    doc = show(rt, second.document_id)
    assert doc["status"] == "rejected"
    assert "ISA13 000000101 was already used" in doc["reason"]
    assert doc["ack"]["kind"] == "TA1" and "TA1*000000101*" in doc["ack"]["text"] and "*R*025~" in doc["ack"]["text"]
    assert len(erp_receiver.posts) == 1


def test_an_isa13_reused_after_the_duplicate_window_is_a_new_interchange(rt, erp_receiver):
    from datetime import timedelta

    first = receive(rt, SAMPLE_855.read_bytes(), channel="sftp", filename="a.edi", partner_id="demo")
    drain(rt)
    with rt.session() as s:  # as if it arrived four months ago
        s.get(Document, first.document_id).received_at -= timedelta(days=120)
    later = SAMPLE_855.read_bytes().replace(b"*261120*1030*", b"*270320*0900*")  # ISA09/ISA10 of the new one
    second = receive(rt, later, channel="sftp", filename="b.edi", partner_id="demo")
    drain(rt)
    doc = show(rt, second.document_id)
    assert doc["status"] == "accepted", doc["reason"]
    acks = {p["headers"].get("Idempotency-Key") for p in erp_receiver.posts
            if p["body"]["type"] == "purchase_order.acknowledged"}
    assert len(acks) == 2  # a new event, not mistaken for the old one (and it supersedes the old one)
