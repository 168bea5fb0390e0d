"""Outbound cXML OrderRequest end to end: the ERP posts a PO over real HTTP, the gateway
POSTs the OrderRequest to a real HTTP server playing the supplier, and records its
cXML Response. SQLite and PostgreSQL; real Redis and worker for the ERP deliveries."""

from __future__ import annotations

import json
from argparse import Namespace
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from cxml_kit import SECRET, SECRET_ENV, Gateway, Supplier, cxml_profile, cxml_response
from lxml import etree
from sqlalchemy import func, select
from support import CORPUS, drain, with_partner_settings

from gateway.outbound.cxml_check import cxml_errors
from gateway.outbound.send import send_unsent
from gateway.store.models import Document, utcnow
from gateway.store.models_outbound import OutboundDocument
from gateway.web.auth import create_token

REPO = Path(__file__).resolve().parents[3]
PO = json.loads((REPO / "maps" / "translate" / "x12-850-004010.buyerco.expected.json").read_text())[0]["payload"]
OK = (200, {"Content-Type": "text/xml"}, cxml_response(200, "OK"))


@pytest.fixture
def world(rt, tmp_path, monkeypatch, request):
    param = getattr(request, "param", [OK])
    supplier = Supplier([OK], tls_dir=tmp_path) if param == "self-signed" else Supplier(param)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    rt2 = with_partner_settings(rt, monkeypatch, tmp_path, cxml=cxml_profile(supplier.url))
    gateway = Gateway(rt2)
    yield rt2, gateway.url, create_token(rt2, "erp", "buyer"), supplier
    gateway.stop()
    supplier.stop()


def post_po(base, token, key, payload=None):
    return requests.post(f"{base}/api/v1/purchase-orders", timeout=60,
                         headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
                         json={"type": "purchase_order.issued", "partner_id": "demo", "payload": payload or PO})


def _row(rt, outbound_id) -> OutboundDocument:
    with rt.session() as s:
        row = s.get(OutboundDocument, outbound_id)
        s.expunge(row)
        return row


def test_an_order_request_is_posted_once_with_the_secret_and_the_suppliers_200_accepts_it(world, erp_receiver):
    rt, base, token, supplier = world
    first = post_po(base, token, "erp-po-1")
    assert first.status_code == 201, first.text
    sent = first.json()
    assert (sent["format"], sent["transaction_set"], sent["status"], sent["ack_status"]) == (
        "cxml", "OrderRequest", "sent", "accepted")
    assert (sent["response_code"], sent["response_text"]) == (200, "OK")
    again = post_po(base, token, "erp-po-1")  # the ERP retries: nothing goes twice
    assert again.status_code == 200 and again.json()["id"] == sent["id"] and again.json()["repeat"] is True
    assert len(supplier.requests) == 1

    path, headers, body = supplier.requests[0]
    assert path == "/cxml/orders" and headers["Content-Type"].startswith("text/xml")
    root = etree.fromstring(body)
    assert root.get("payloadID") == sent["payload_id"] and "@" in sent["payload_id"]
    assert root.findtext("Header/Sender/Credential/SharedSecret") == SECRET
    assert root.find("Header/To/Credential/Identity").text == "ACMESUPPLY"
    assert root.find("Request").get("deploymentMode") == "production"
    assert root.find("Request/OrderRequest/OrderRequestHeader").get("orderID") == "4500012345"
    assert len(root.findall("Request/OrderRequest/ItemOut")) == len(PO["lines"])
    assert cxml_errors(body) == []

    with rt.session() as s:
        stored = rt.blobs.get(s.get(Document, sent["id"]).sha256)
        assert s.scalar(select(func.count()).select_from(OutboundDocument)) == 1
    assert SECRET.encode() not in stored  # what we keep never holds the secret
    assert stored.replace(b"[shared secret: written when sent]", SECRET.encode()) == body
    auth = {"Authorization": f"Bearer {token}"}  # found and downloaded like any document
    shown = requests.get(f"{base}/api/v1/documents/{sent['id']}", headers=auth, timeout=60)
    raw = requests.get(f"{base}/api/v1/documents/{sent['id']}/raw", headers=auth, timeout=60)
    assert shown.status_code == 200 and shown.json()["channel"] == "outbound" and raw.content == stored
    listed = requests.get(f"{base}/api/v1/purchase-orders/outbound/{sent['id']}", headers=auth, timeout=60).json()
    assert (listed["response_code"], listed["payload_id"], listed["format"]) == (200, sent["payload_id"], "cxml")
    drain(rt)
    posted = {p["body"]["type"]: p["body"] for p in erp_receiver.posts}
    assert posted["purchase_order.issued"]["payload"] == PO
    assert posted["purchase_order.issued"]["source"]["format"] == "cxml"
    assert posted["ack.received"]["payload"]["status"] == "accepted"


@pytest.mark.parametrize("world", [[(200, {}, cxml_response(400, "Bad Request", "Unknown SupplierPartID AC-F300"))]],
                         indirect=True)
def test_a_cxml_400_marks_the_order_rejected_with_the_suppliers_text(world):
    rt, base, token, supplier = world
    answer = post_po(base, token, "erp-po-2")
    assert answer.status_code == 201, answer.text
    row = _row(rt, answer.json()["id"])
    assert (row.status, row.ack_status, row.response_code) == ("sent", "rejected", 400)
    assert "Unknown SupplierPartID AC-F300" in row.response_text
    assert row.ack_errors == [{"code": "400", "message": "Bad Request Unknown SupplierPartID AC-F300"}]
    assert send_unsent(rt, utcnow() + timedelta(days=1)) == 0 and len(supplier.requests) == 1  # never re-sent


@pytest.mark.parametrize("world", [[(503, {}, b"<html>maintenance</html>"),
                                    (200, {}, cxml_response(500, "Internal Server Error", "try later")), OK]],
                         indirect=True)
def test_transient_failures_are_retried_with_backoff_and_the_same_payload_id(world):
    rt, base, token, supplier = world
    answer = post_po(base, token, "erp-po-3")
    assert answer.status_code == 503, answer.text
    [outbound_id] = [r[0] for r in _ids(rt)]
    row = _row(rt, outbound_id)
    assert row.status == "send_failed" and row.attempts == 1 and "503" in row.last_error
    first_retry = row.next_attempt_at
    assert send_unsent(rt, first_retry - timedelta(seconds=1), grace=timedelta(0)) == 0  # not before its time
    assert len(supplier.requests) == 1
    assert send_unsent(rt, first_retry + timedelta(seconds=1), grace=timedelta(0)) == 0  # cXML 500: transient
    row = _row(rt, outbound_id)
    assert row.status == "send_failed" and row.response_code == 500
    assert row.next_attempt_at - utcnow() > first_retry - row.created_at  # the wait grew
    assert send_unsent(rt, row.next_attempt_at + timedelta(seconds=1), grace=timedelta(0)) == 1
    row = _row(rt, outbound_id)
    assert (row.status, row.ack_status, row.attempts) == ("sent", "accepted", 3)
    assert len({etree.fromstring(b).get("payloadID") for _, _, b in supplier.requests[1:]} |
               {_payload_id(supplier.requests[0][2])}) == 1


def _payload_id(body: bytes) -> str:
    return etree.fromstring(body).get("payloadID")


def _ids(rt):
    with rt.session() as s:
        return s.execute(select(OutboundDocument.id)).all()


@pytest.mark.parametrize("world", [[(302, {"Location": "http://127.0.0.1:9/elsewhere"}, b""), OK]], indirect=True)
def test_a_redirect_is_not_followed_and_the_operator_resends_once_it_is_fixed(world, capsys):
    rt, base, token, supplier = world
    answer = post_po(base, token, "erp-po-4")
    assert answer.status_code == 201, answer.text
    assert (answer.json()["status"], answer.json()["response_code"]) == ("failed", 302)
    assert "redirects are not followed" in answer.json()["last_error"]
    assert len(supplier.requests) == 1
    assert send_unsent(rt, utcnow() + timedelta(days=1), grace=timedelta(0)) == 0  # failed: not retried

    from gateway.cli_outbound import cmd_outbound_resend  # the partner fixed its side

    assert cmd_outbound_resend(Namespace(id=answer.json()["id"], reason="ACME fixed its URL")) == 0
    resent = json.loads(capsys.readouterr().out)
    assert (resent["status"], resent["ack_status"], resent["attempts"]) == ("sent", "accepted", 1)
    assert [_payload_id(b) for _, _, b in supplier.requests] == [resent["payload_id"]] * 2
    assert cmd_outbound_resend(Namespace(id=resent["id"], reason="again")) == 1  # sent: never twice by hand


@pytest.mark.parametrize("world", [[(200, {}, b"<x>" + b"a" * 10_000 + b"</x>")],
                                   [(200, {"Content-Length": "none"}, b"<x>" + b"a" * 10_000 + b"</x>")]],
                         indirect=True, ids=["declared", "undeclared"])
def test_an_oversized_answer_is_not_read_and_counts_as_a_failed_attempt(world):
    rt, base, token, supplier = world
    answer = post_po(base, token, "erp-po-5")
    assert answer.status_code == 503, answer.text
    [outbound_id] = [r[0] for r in _ids(rt)]
    row = _row(rt, outbound_id)
    assert row.status == "send_failed" and "4096" in row.last_error and row.ack_status == "awaiting"


@pytest.mark.parametrize("world", [[(200, {"X-Stall": "120"}, cxml_response(200, "OK"))]], indirect=True)
def test_a_supplier_that_does_not_answer_in_time_is_a_failed_attempt(world):
    rt, base, token, supplier = world  # cxml.timeout is 2 s; the supplier would answer after 120 s
    answer = post_po(base, token, "erp-po-7")
    assert answer.status_code == 503, answer.text
    [outbound_id] = [r[0] for r in _ids(rt)]
    row = _row(rt, outbound_id)
    assert row.status == "send_failed" and "Timeout" in row.last_error and row.ack_status == "awaiting"


def test_a_po_the_dtd_would_refuse_is_not_recorded_or_sent(world):
    rt, base, token, supplier = world
    payload = {**PO, "lines": [{k: v for k, v in line.items() if k != "vendor_part"} for line in PO["lines"]]}
    answer = post_po(base, token, "erp-po-6", payload)
    assert answer.status_code == 422, answer.text
    assert "SupplierPartID" in answer.json()["error"] and "vendor_part" in answer.json()["error"]
    assert supplier.requests == [] and _ids(rt) == []


def test_our_unset_secret_keeps_the_order_unsent_and_says_whose_fault_it_is(world, monkeypatch):
    rt, base, token, supplier = world
    monkeypatch.delenv(SECRET_ENV)
    answer = post_po(base, token, "erp-po-8")
    assert answer.status_code == 503 and SECRET_ENV in answer.json()["error"], answer.text
    [outbound_id] = [r[0] for r in _ids(rt)]
    row = _row(rt, outbound_id)
    assert row.status == "send_failed" and row.last_error.startswith("our side:") and supplier.requests == []
    monkeypatch.setenv(SECRET_ENV, SECRET)  # the operator sets it: the next pass sends it
    assert send_unsent(rt, row.next_attempt_at + timedelta(seconds=1), grace=timedelta(0)) == 1
    assert _row(rt, outbound_id).ack_status == "accepted" and len(supplier.requests) == 1


@pytest.mark.parametrize("world", ["self-signed"], indirect=True)
def test_a_supplier_certificate_no_ca_vouches_for_is_refused(world):
    rt, base, token, supplier = world
    assert supplier.url.startswith("https://")
    answer = post_po(base, token, "erp-po-9")
    assert answer.status_code == 503, answer.text
    [outbound_id] = [r[0] for r in _ids(rt)]
    row = _row(rt, outbound_id)
    assert row.status == "send_failed" and "SSLError" in row.last_error and supplier.requests == []


@pytest.mark.skipif(not (CORPUS / "schemas" / "cxml").is_dir(), reason="no cXML DTDs on this machine (not shipped)")
def test_with_the_real_dtd_configured_an_order_it_refuses_is_not_sent(world, monkeypatch):
    rt, base, token, supplier = world
    monkeypatch.setenv("GATEWAY_SCHEMA_DIR", str(CORPUS / "schemas"))
    answer = post_po(base, token, "erp-po-10", {**PO, "purpose": "information_copy"})  # no cXML order type
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["code"] == "DTD_INVALID" and "information_copy" in answer.json()["error"]
    assert supplier.requests == [] and _ids(rt) == []
    assert post_po(base, token, "erp-po-11").status_code == 201  # a good one passes the same DTD
