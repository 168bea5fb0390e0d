"""Issue #10 item 1 through the whole pipeline (intake -> RQ -> processing -> ERP over
HTTP, on a real Redis and both databases): an 856 whose HLs leave HL02 empty reaches
the ERP with its lines; one whose item sits under no order is rejected with the
reason, and the ERP gets nothing short."""

from __future__ import annotations

from support import SAMPLES, drain

from gateway.intake.receive import receive
from gateway.store.models import Document
from gateway.store.views import document_detail

ASN_NO_HL02 = SAMPLES / "856" / "856_004010_acme_asn_sh-77005_no-hl02.edi"


def _run(rt, data: bytes, name: str) -> dict:
    receipt = receive(rt, data, channel="sftp", filename=name, partner_id="demo")
    drain(rt)
    with rt.session() as s:
        return document_detail(s.get(Document, receipt.document_id))


def test_an_856_without_hl02_reaches_the_erp_with_every_line(rt, erp_receiver):
    doc = _run(rt, ASN_NO_HL02.read_bytes(), ASN_NO_HL02.name)
    assert doc["status"] == "accepted", doc["reason"]
    [event] = [e for e in doc["events"] if e["type"] == "shipment.noticed"]
    assert [d["status"] for d in event["deliveries"]] == ["delivered"]
    [post] = [p["body"] for p in erp_receiver.posts if p["body"]["type"] == "shipment.noticed"]
    [order] = post["payload"]["orders"]
    assert order["po_number"] == "4500012345"
    assert [(line["line_number"], line["quantity_shipped"]) for line in order["lines"]] == [("1", "100"), ("3", "25")]


def test_an_856_item_under_no_order_is_rejected_with_the_reason(rt, erp_receiver):
    # HL 6 (item FASTENER-300) names HL 1, the shipment, as its parent: no order carries it
    data = ASN_NO_HL02.read_bytes().replace(b"HL*6**I~", b"HL*6*1*I~")
    doc = _run(rt, data, "orphan-item.edi")
    assert doc["status"] == "rejected"
    assert "has 2 line(s)" in doc["reason"] and "would carry 1" in doc["reason"], doc["reason"]
    [ts] = doc["transaction_sets"]
    assert ts["status"] == "rejected" and "LIN at segment 27" in ts["errors"][0]["message"]
    assert [p for p in erp_receiver.posts if p["body"]["type"] == "shipment.noticed"] == []
