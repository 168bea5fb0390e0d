"""The whole loop with a cXML supplier, over real HTTP both ways: the ERP issues a PO,
the supplier takes the OrderRequest, later posts its ConfirmationRequest to /cxml naming
that order, and the ERP receives the order it issued, the supplier's acceptance of the
request, and the confirmation (with the date changes derived from it), each once."""

from __future__ import annotations

import json
from pathlib import Path

import requests
from cxml_kit import SECRET, SECRET_ENV, Gateway, Supplier, cxml_profile, cxml_response
from lxml import etree
from support import drain, with_partner_settings

from gateway.web.auth import create_token

REPO = Path(__file__).resolve().parents[3]
CONFIRMATION = (REPO / "sample_docs" / "cxml" / "ConfirmationRequest_acme_po_4500012360.xml").read_bytes()


def test_po_out_as_cxml_and_the_suppliers_confirmation_back_in(rt, tmp_path, monkeypatch, erp_receiver):
    po = json.loads((REPO / "maps/translate/x12-850-004010.buyerco.expected.json").read_text())[0]["payload"]
    supplier = Supplier([(200, {"Content-Type": "text/xml"}, cxml_response(200, "OK"))])
    monkeypatch.setenv(SECRET_ENV, SECRET)
    rt2 = with_partner_settings(rt, monkeypatch, tmp_path, cxml=cxml_profile(supplier.url))
    gateway = Gateway(rt2)
    try:
        issued = requests.post(f"{gateway.url}/api/v1/purchase-orders", timeout=60, json={
            "type": "purchase_order.issued", "partner_id": "demo", "payload": po}, headers={
            "Authorization": f"Bearer {create_token(rt2, 'erp', 'buyer')}", "Idempotency-Key": "erp-loop-1"})
        assert issued.status_code == 201 and issued.json()["ack_status"] == "accepted", issued.text
        order = etree.fromstring(supplier.requests[0][2])

        confirmation = (CONFIRMATION
                        .replace(b"not-a-real-secret", SECRET.encode())
                        .replace(b'orderID="4500012360"', b'orderID="4500012345"')
                        .replace(b"20261118090000.4500012360@buyerco.example", order.get("payloadID").encode()))
        answer = requests.post(f"{gateway.url}/cxml", data=confirmation, timeout=60)
        assert etree.fromstring(answer.content).find("Response/Status").get("code") == "200", answer.text
        drain(rt2)
    finally:
        gateway.stop()
        supplier.stop()
    posted = [p["body"] for p in erp_receiver.posts]
    types = [b["type"] for b in posted]
    for once in ("purchase_order.issued", "ack.received", "purchase_order.acknowledged"):
        assert types.count(once) == 1, types
    assert set(types) - {"purchase_order.issued", "ack.received", "purchase_order.acknowledged"} <= {
        "delivery_date.changed"}  # derived from the confirmed dates against the PO's
    assert {b["payload"]["po_number"] for b in posted} == {"4500012345"}
    assert len({b["event_id"] for b in posted}) == len(posted)  # each delivered once
