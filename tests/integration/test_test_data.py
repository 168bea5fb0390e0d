"""Test data never reaches the production ERP (issue #10 item 3): ISA15 = T and cXML
deploymentMode="test" are validated and acknowledged as usual, marked test, and held,
or delivered only on a test route when the partner's profile asks for that."""

from __future__ import annotations

import json

import pytest
from support import CORPUS, SAMPLES, Receiver, drain, with_partner_settings

from gateway.intake.receive import receive
from gateway.store.models import Document
from gateway.store.views import document_detail

SAMPLE_855 = (SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi").read_bytes()
TEST_855 = SAMPLE_855.replace(b"*000000101*0*P*", b"*000000501*0*T*", 1).replace(b"IEA*1*000000101~",
                                                                                  b"IEA*1*000000501~")
CXML = (SAMPLES / "cxml" / "ConfirmationRequest_acme_po_4500012360.xml").read_bytes()
REAL_TEST_855 = CORPUS / "real" / "x12-855" / "855_4010_two-sets-same-group_staedi.edi"  # ISA15 = T


def show(rt, document_id: str) -> dict:
    with rt.session() as s:
        return document_detail(s.get(Document, document_id))


def test_a_test_interchange_is_acknowledged_marked_and_held_from_the_erp(rt, erp_receiver):
    receipt = receive(rt, TEST_855, channel="sftp", filename="test.edi", partner_id="demo")
    drain(rt)
    assert erp_receiver.posts == []  # the real ERP receiver got nothing
    doc = show(rt, receipt.document_id)
    assert doc["status"] == "accepted" and doc["test"] is True
    assert "test data: held" in doc["reason"]
    [event] = doc["events"]
    assert event["event"]["test"] is True and event["deliveries"] == []
    [ack] = doc["acks"]  # validated and acknowledged as usual
    assert ack["kind"] == "997" and ack["status"] == "sent" and "AK9*A*1*1*1" in ack["text"]
    # a production interchange right after it still goes through
    production = receive(rt, SAMPLE_855, channel="sftp", filename="prod.edi", partner_id="demo")
    drain(rt)
    assert show(rt, production.document_id)["test"] is False
    assert len(erp_receiver.posts) == 1 and "test" not in erp_receiver.posts[0]["body"]


def test_a_partner_routing_test_data_reaches_only_the_test_route(rt, erp_receiver, monkeypatch, tmp_path):
    test_erp = Receiver()
    try:
        rt = with_partner_settings(rt, monkeypatch, tmp_path, test_data="route")
        (tmp_path / "partners" / "demo" / "routes.yaml").write_text(json.dumps({
            "adapters": {"erp_test": {"type": "erp_http", "queue": "erp", "url": test_erp.url}},
            "routes": [{"events": ["*"], "adapters": ["erp_test"], "test": True}],
        }))
        receipt = receive(rt, TEST_855, channel="sftp", filename="test.edi", partner_id="demo")
        drain(rt)
        doc = show(rt, receipt.document_id)
        assert doc["test"] is True and "only on routes marked test" in doc["reason"]
        [event] = doc["events"]
        assert [d["adapter"] for d in event["deliveries"]] == ["erp_test"]
        assert test_erp.keys() == [event["event_id"]] and test_erp.posts[0]["body"]["test"] is True
        assert erp_receiver.posts == []
        # and production data does not take the test route
        receive(rt, SAMPLE_855, channel="sftp", filename="prod.edi", partner_id="demo")
        drain(rt)
        assert len(erp_receiver.posts) == 1 and len(test_erp.posts) == 1
    finally:
        test_erp.stop()


def test_a_cxml_document_in_test_mode_is_marked_and_held(rt, erp_receiver):
    data = CXML.replace(b'deploymentMode="production"', b'deploymentMode="test"')
    assert data != CXML
    receipt = receive(rt, data, channel="sftp", filename="test.xml", partner_id="demo")
    drain(rt)
    assert erp_receiver.posts == []
    doc = show(rt, receipt.document_id)
    assert doc["status"] == "accepted" and doc["test"] is True, doc["reason"]
    assert all(e["event"]["test"] is True and e["deliveries"] == [] for e in doc["events"])


@pytest.mark.skipif(not REAL_TEST_855.exists(), reason="the shared corpus is not here")
def test_a_real_suppliers_test_interchange_is_held(rt, erp_receiver, monkeypatch, tmp_path):
    with_partner_settings(rt, monkeypatch, tmp_path)  # a copy of the partners, to add this sender
    (tmp_path / "partners" / "staedi").mkdir()
    (tmp_path / "partners" / "staedi" / "partner.yaml").write_text(
        "id: staedi\nname: StAEDI sample sender\nx12: {qualifier: ZZ, id: ALEXANDRE0JACOB}\n"
        "our_x12: {qualifier: ZZ, id: ALEXANDRE0JACOB}\n")
    rt = with_partner_settings(rt, monkeypatch, tmp_path)
    receipt = receive(rt, REAL_TEST_855.read_bytes(), channel="sftp", filename=REAL_TEST_855.name,
                      partner_id="staedi")
    drain(rt)
    assert erp_receiver.posts == []
    doc = show(rt, receipt.document_id)
    assert doc["status"] == "accepted" and doc["test"] is True, doc["reason"]
    assert len(doc["events"]) == 2 and all(e["event"]["test"] and e["deliveries"] == [] for e in doc["events"])
    [ack] = doc["acks"]
    assert ack["kind"] == "997" and ack["status"] == "sent" and "*T*" in ack["text"]  # answered as test, too
