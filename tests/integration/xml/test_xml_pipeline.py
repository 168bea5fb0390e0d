"""cXML and UBL through the running gateway: intake -> RQ -> validate (DTD/XSD) ->
identify -> translate -> ERP, on a real Redis and on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from support import SAMPLES, drain

from gateway.intake.receive import receive
from gateway.store.models import Document
from gateway.store.views import document_detail

CXML, UBL = SAMPLES / "cxml", SAMPLES / "ubl"
DOCUMENTS = {
    "ConfirmationRequest_acme_po_4500012360.xml": ("purchase_order.acknowledged", "po_number", "4500012360"),
    "ShipNoticeRequest_acme_sh-77060.xml": ("shipment.noticed", "shipment_id", "SH-77060"),
    "InvoiceDetailRequest_acme_inv-88060.xml": ("invoice.received", "invoice_number", "INV-88060"),
    "OrderRequest_acme_po_ac-9001.xml": ("purchase_order.received", "po_number", "AC-9001"),
    "OrderResponse_acme_po_4500012370.xml": ("purchase_order.acknowledged", "po_number", "4500012370"),
    "DespatchAdvice_acme_sh-77070.xml": ("shipment.noticed", "shipment_id", "DA-77070"),
    "Invoice_acme_inv-88070.xml": ("invoice.received", "invoice_number", "INV-88070"),
    "Order_acme_po_ac-9002.xml": ("purchase_order.received", "po_number", "AC-9002"),
}


def path_of(name: str):
    return (CXML / name) if (CXML / name).exists() else (UBL / name)


def show(rt, document_id: str) -> dict:
    with rt.session() as s:
        return document_detail(s.get(Document, document_id))


def send(rt, data: bytes, name: str = "doc.xml", partner_id: str | None = "demo") -> dict:
    receipt = receive(rt, data, channel="sftp", filename=name, partner_id=partner_id)
    drain(rt)
    return show(rt, receipt.document_id)


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_each_document_kind_is_validated_translated_and_delivered_once(rt, erp_receiver, schemas, name):
    event_type, key, value = DOCUMENTS[name]
    doc = send(rt, path_of(name).read_bytes(), name)
    assert doc["status"] == "accepted", (doc["reason"], doc["errors"])
    assert doc["format"] == "xml" and doc["partner_id"] == "demo" and doc["reason"] is None
    [event] = [e for e in doc["events"] if e["type"] == event_type]
    assert event["event"]["payload"][key] == value
    assert event["event"]["source"]["document_id"] == doc["id"]
    assert event["event_id"] in erp_receiver.keys()
    assert erp_receiver.keys().count(event["event_id"]) == 1


def test_without_a_schema_directory_ubl_is_checked_and_cxml_says_validation_was_skipped(
        rt, erp_receiver, monkeypatch):
    monkeypatch.delenv("GATEWAY_SCHEMA_DIR", raising=False)
    ubl = send(rt, (UBL / "Invoice_acme_inv-88070.xml").read_bytes())
    assert ubl["status"] == "accepted" and ubl["reason"] is None  # the shipped UBL XSD was applied
    cxml = send(rt, (CXML / "InvoiceDetailRequest_acme_inv-88060.xml").read_bytes(), "c.xml")
    assert cxml["status"] == "accepted"
    assert "validation skipped" in cxml["reason"] and "GATEWAY_SCHEMA_DIR" in cxml["reason"]
    assert len(erp_receiver.posts) == 2


def test_a_schema_invalid_ubl_invoice_is_rejected_with_line_and_xpath_and_nothing_is_delivered(
        rt, erp_receiver, schemas):
    data = (UBL / "Invoice_acme_inv-88070.xml").read_bytes()
    data = data.replace(b'<cbc:InvoicedQuantity unitCode="EA">40<', b'<cbc:InvoicedQuantity unitCode="EA">forty<')
    data = data.replace(b"<cbc:IssueDate>2026-12-02</cbc:IssueDate>", b"")
    doc = send(rt, data)
    assert doc["status"] == "rejected"
    assert "UBL-Invoice-2.1.xsd" in doc["reason"] and "(and 1 more)" in doc["reason"]
    by_path = {e["segment_id"]: e for e in doc["errors"]}
    quantity = by_path["/Invoice/cac:InvoiceLine[2]/cbc:InvoicedQuantity"]
    assert quantity["code"] == "XSD_INVALID" and "forty" in quantity["message"]
    assert quantity["segment_index"] == 34 and quantity["message"].startswith("line 34, /Invoice/cac:InvoiceLine[2]")
    assert by_path["/Invoice"]["segment_index"] == 2
    assert [e["type"] for e in doc["events"]] == ["document.rejected"] and erp_receiver.posts == []


def test_a_dtd_invalid_cxml_confirmation_is_rejected_with_line_and_xpath(rt, erp_receiver, schemas):
    data = (CXML / "ConfirmationRequest_acme_po_4500012360.xml").read_bytes()
    data = data.replace(b'<ConfirmationStatus type="detail"', b'<ConfirmationStatus type="maybe"')
    doc = send(rt, data)
    assert doc["status"] == "rejected"
    [error] = doc["errors"]
    assert error["code"] == "DTD_INVALID" and "maybe" in error["message"]
    assert error["segment_id"] == "/cXML/Request/ConfirmationRequest/ConfirmationItem[2]/ConfirmationStatus"
    assert error["segment_index"] == 19
    assert "cxml/1.2.063/Fulfill.dtd" in doc["reason"]
    assert erp_receiver.posts == []


def test_an_unknown_sender_is_rejected_with_the_ids_it_gave(rt, erp_receiver, schemas):
    data = (CXML / "InvoiceDetailRequest_acme_inv-88060.xml").read_bytes().replace(b"ACMESUPPLY", b"STRANGERCO")
    doc = send(rt, data, partner_id=None)
    assert doc["status"] == "rejected"
    assert doc["errors"][0]["code"] == "UNKNOWN_SENDER"
    assert "unknown sender" in doc["reason"] and "From NetworkId:STRANGERCO" in doc["reason"]
    assert erp_receiver.posts == []


def test_a_document_naming_another_sender_than_the_login_is_rejected(rt, erp_receiver, schemas):
    data = (UBL / "DespatchAdvice_acme_sh-77070.xml").read_bytes().replace(b">ACME01<", b">OTHER99<")
    doc = send(rt, data, partner_id="demo")
    assert doc["status"] == "rejected" and doc["errors"][0]["code"] == "SENDER_MISMATCH"
    assert "92:OTHER99" in doc["reason"] and "'demo'" in doc["reason"]
    assert erp_receiver.posts == []


def test_the_same_bytes_twice_are_a_duplicate_and_posted_once(rt, erp_receiver, schemas):
    data = (CXML / "ShipNoticeRequest_acme_sh-77060.xml").read_bytes()
    first = send(rt, data, "a.xml")
    second = send(rt, data, "b.xml")
    assert first["status"] == "accepted"
    assert second["status"] == "duplicate" and second["duplicate_of"] == first["id"]
    assert second["events"] == [] and len(erp_receiver.posts) == 1


def test_a_reused_payload_id_with_other_content_is_rejected_and_the_first_events_stay(rt, erp_receiver, schemas):
    data = (CXML / "ConfirmationRequest_acme_po_4500012360.xml").read_bytes()
    first = send(rt, data)
    changed = send(rt, data.replace(b'quantity="50"', b'quantity="45"'))
    assert first["status"] == "accepted"
    assert changed["status"] == "rejected" and changed["errors"][0]["code"] == "DUPLICATE_DOCUMENT_ID"
    assert "20261220103000.C-4500012360@acmesupply.example" in changed["reason"] and first["id"] in changed["reason"]
    assert changed["errors"][0]["segment_id"] == "/cXML/@payloadID"
    assert len(erp_receiver.posts) == 1
    assert show(rt, first["id"])["events"][0]["event"]["payload"]["lines"][1]["quantity"] == "50"


def test_a_document_without_a_logged_in_partner_is_identified_by_its_sender(rt, erp_receiver, schemas):
    doc = send(rt, (UBL / "OrderResponse_acme_po_4500012370.xml").read_bytes(), partner_id=None)
    assert doc["status"] == "accepted" and doc["partner_id"] == "demo"
    assert len(erp_receiver.posts) == 1


def test_reprocessing_an_accepted_document_delivers_nothing_new(rt, erp_receiver, schemas):
    from gateway.processing.reprocess import reprocess

    first = send(rt, (CXML / "InvoiceDetailRequest_acme_inv-88060.xml").read_bytes())
    assert reprocess(rt, first["id"])
    drain(rt)
    again = show(rt, first["id"])
    assert again["status"] == "accepted"
    assert [e["event_id"] for e in again["events"]] == [e["event_id"] for e in first["events"]]
    assert len(erp_receiver.posts) == 1
