"""A cXML cut off in transfer, through the pipeline: stored, rejected as incomplete and not
well-formed at its line (never as an XXE attack), nothing delivered (issue #10, 14)."""

from __future__ import annotations

from support import SAMPLES, drain

from gateway.intake.receive import receive
from gateway.store.models import Document
from gateway.store.views import document_detail

TRUNCATED = SAMPLES / "malformed" / "cxml_OrderRequest_acme_po_ac-9001_truncated.xml"


def test_a_truncated_cxml_is_rejected_as_incomplete(rt, erp_receiver):
    data = TRUNCATED.read_bytes()
    receipt = receive(rt, data, channel="sftp", filename=TRUNCATED.name, partner_id="demo")
    drain(rt)
    with rt.session() as s:
        doc = document_detail(s.get(Document, receipt.document_id))
    assert doc["status"] == "rejected"
    assert [e["code"] for e in doc["errors"]] == ["NOT_WELL_FORMED"]
    assert "line 7, /cXML/Header/Sender/Credential/Identity" in doc["reason"]
    assert "incomplete" in doc["reason"] and "XXE" not in doc["reason"] and "forbidden" not in doc["reason"]
    assert rt.blobs.get(doc["sha256"]) == data  # nothing lost
    assert erp_receiver.posts == []
