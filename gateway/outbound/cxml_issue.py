"""Issue a purchase order to a partner that speaks cXML: ``purchase_order.issued`` becomes
a cXML ``OrderRequest``, recorded once per Idempotency-Key like an 850
(:mod:`gateway.outbound.issue` checks the request and the key, then calls this).

Mapped (``maps/translate/outbound/cxml-OrderRequest.yaml``), enveloped with the partner's
credentials and a payloadID of our own, checked against what the cXML DTD requires
(:mod:`gateway.outbound.cxml_check`) and against the DTD itself when
``GATEWAY_SCHEMA_DIR`` has it (422 with the findings when either fails), then stored (blob + ``documents`` row),
recorded as an ``outbound_documents`` row (format ``cxml``) with the event and its
deliveries in ONE transaction. Sending is :mod:`gateway.outbound.cxml_send`'s.
"""

from __future__ import annotations

import logging

from gateway.bootstrap import Runtime
from gateway.domain.partner import PartnerProfile
from gateway.domain.status import DocumentStatus
from gateway.intake.receive import new_id
from gateway.outbound.cxml_check import cxml_errors
from gateway.outbound.cxml_envelope import envelope, payload_id
from gateway.outbound.cxml_map import load_cxml_map, render_cxml
from gateway.outbound.events import outbound_event
from gateway.outbound.reverse_map import ReverseMapError
from gateway.store.models import Document, utcnow
from gateway.store.models_outbound import OutboundDocument
from gateway.xml.check import check_xml
from gateway.xml.schemas import schema_dir

log = logging.getLogger("gateway.outbound")

DOCUMENT = "OrderRequest"


def record_order_request(rt: Runtime, partner: PartnerProfile, payload: dict, key: str, digest: str):
    """Record the cXML OrderRequest for ``payload`` under ``key``; returns an ``Issued``."""
    from gateway.outbound.issue import EVENT, Issued, IssueRefused, summary

    settings = partner.cxml
    now = utcnow()
    outbound_id, correlation_id = new_id("out"), new_id("cor")
    try:
        body = render_cxml(load_cxml_map(DOCUMENT), payload)
    except ReverseMapError as exc:
        raise IssueRefused(422, str(exc)) from None
    pid = payload_id(now, outbound_id, settings.from_[1])
    data = envelope(settings, body, payload_id=pid, now=now)
    problems = cxml_errors(data)
    if not problems:  # and against the real cXML DTD, when GATEWAY_SCHEMA_DIR holds it (they are not shipped)
        problems = [f.to_dict() for f in check_xml(data, schema_dir()).findings]
    if problems:
        raise IssueRefused(422, f"the cXML {DOCUMENT} this order makes is not valid cXML: "
                                f"{problems[0]['segment_id']}: {problems[0]['message']}", problems)
    sha = rt.blobs.put(data)  # holds a placeholder, never the shared secret
    with rt.session() as s:
        doc = Document(id=outbound_id, partner_id=partner.id, channel="outbound", filename=f"{DOCUMENT}_{outbound_id}.xml",
                       sha256=sha, size=len(data), format="xml", status=DocumentStatus.ACCEPTED,
                       correlation_id=correlation_id, received_at=now, processed_at=now, errors=[])
        row = OutboundDocument(
            id=outbound_id, document_id=outbound_id, partner_id=partner.id, idempotency_key=key, request_sha256=digest,
            transaction_set=DOCUMENT, version=settings.version, po_number=payload.get("po_number"),
            interchange_control_number="", group_control_number="", transaction_control_number="",
            format="cxml", payload_id=pid, status="pending", ack_status="awaiting", ack_errors=[], created_at=now,
            attempts=0)
        s.add_all([doc, row])
        s.flush()
        event = outbound_event(row, EVENT, now, payload)
        from gateway.processing.x12_interchange import record_event

        deliveries = [(d.id, d.queue) for d in record_event(rt, s, doc, event)]
        result = summary(row)
    log.info("cXML %s %s for PO %s to %s recorded (payloadID %s)", DOCUMENT, outbound_id, payload.get("po_number"),
             partner.id, pid)
    return Issued(result, created=True, deliveries=deliveries)
