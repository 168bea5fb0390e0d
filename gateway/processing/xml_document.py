"""The worker's XML path: one stored cXML or UBL document -> accepted, duplicate or rejected.

Steps, each ending the document's processing with a clear reason when it fails:
parse hardened and tell the kind (:mod:`gateway.xml`), validate against the DTD/XSD
from ``GATEWAY_SCHEMA_DIR`` (skipped, and said so, without one), identify the partner
from the cXML From/Sender credentials or the UBL sending party (it must be the partner
the channel logged in, like ISA06 for X12), deduplicate, translate with the partner's
maps, and record the events with their deliveries (the outbox) in the caller's
transaction. Deduplication: the same bytes from the same partner as an accepted
document are a ``duplicate`` (nothing delivered again); a cXML ``payloadID`` or UBL
``cbc:ID`` already used by another document with different bytes is rejected, so a
reused id can never overwrite the events of the first document.

Nothing here commits, enqueues or acknowledges; the caller (``service.process``) does.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from gateway.bootstrap import Runtime
from gateway.domain.partner import PartnerProfile
from gateway.domain.status import DocumentStatus
from gateway.processing.x12_interchange import InterchangeOutcome, record_event
from gateway.store.models import Document, EventRecord
from gateway.xml import XmlErrorCode, XmlFinding, XmlRejected, check_xml, identify, schema_dir
from gateway.xml.check import XmlCheck
from gateway.xml.identity import describe

log = logging.getLogger("gateway.xml")


def process_xml(rt: Runtime, s, doc: Document, data: bytes) -> InterchangeOutcome:
    """Process ``doc`` (its bytes are ``data``); sets its status, reason and errors."""
    check = check_xml(data, schema_dir(), max_bytes=rt.settings.max_document_bytes)
    try:
        if check.root is None:
            raise XmlRejected(check.findings)
        partner = _identify(rt, doc, check)
        doc.test = _is_test(check)  # before any rejection: its document.rejected is test data too
        doc.partner_id = doc.partner_id or partner.id
        original = _same_bytes(s, doc, partner)
        if original is not None:
            doc.status, doc.duplicate_of, doc.errors = DocumentStatus.DUPLICATE, original, []
            doc.reason = f"the same document was already received as {original}; nothing is delivered again"
            return InterchangeOutcome(DocumentStatus.DUPLICATE, doc.reason, duplicate_of=original)
        if check.findings:
            raise XmlRejected(check.findings)
        events = _translate(doc, check, partner)
        _refuse_reused_ids(s, doc, check, events)
    except XmlRejected as exc:
        _reject(doc, check, exc.findings)
        return InterchangeOutcome(DocumentStatus.REJECTED, doc.reason)
    for body in events:
        if doc.test:
            body["test"] = True
    deliveries = [d for body in events for d in record_event(rt, s, doc, body)]
    notes = [check.skipped, partner.test_data_handling if doc.test else None]
    doc.status, doc.reason, doc.errors = DocumentStatus.ACCEPTED, "; ".join(filter(None, notes)) or None, []
    return InterchangeOutcome(DocumentStatus.ACCEPTED, doc.reason, deliveries=deliveries)


def _is_test(check: XmlCheck) -> bool:
    """cXML ``<Request deploymentMode="test">`` (the default is production). UBL has no
    such marker: a partner sends its UBL test documents to a test gateway."""
    if check.kind.standard != "cxml":
        return False
    request = check.root.find("Request")
    return request is not None and request.get("deploymentMode", "production").strip().lower() == "test"


def _identify(rt: Runtime, doc: Document, check: XmlCheck) -> PartnerProfile:
    partner, ids = identify(rt.partners, check.root, check.kind)
    place = (check.root.sourceline, "/cXML/Header" if check.kind.standard == "cxml" else None)
    if doc.partner_id and (partner is None or partner.id != doc.partner_id):
        raise XmlRejected([XmlFinding(
            XmlErrorCode.SENDER_MISMATCH,
            f"the {check.kind.label} says it is from {describe(ids)}, but it arrived from partner "
            f"{doc.partner_id!r}, whose xml ids in partner.yaml do not include it", *place)])
    if partner is None:
        raise XmlRejected([XmlFinding(
            XmlErrorCode.UNKNOWN_SENDER,
            f"unknown sender: the {check.kind.label} names {describe(ids)}, and no partner profile "
            "lists these ids under xml:", *place)])
    return partner


def _same_bytes(s, doc: Document, partner: PartnerProfile) -> str | None:
    return s.scalar(select(Document.id).where(
        Document.sha256 == doc.sha256, Document.partner_id == partner.id, Document.id != doc.id,
        Document.status == DocumentStatus.ACCEPTED,
    ).order_by(Document.received_at, Document.id).limit(1))


def _translate(doc: Document, check: XmlCheck, partner: PartnerProfile) -> list[dict]:
    from gateway.mapping import SourceContext, TranslationError, translate_xml

    context = SourceContext(partner_id=partner.id, document_id=doc.id, received_at=doc.received_at,
                            correlation_id=doc.correlation_id)
    from gateway.mapping.fingerprint import xml_map_version

    doc.map_version = xml_map_version(partner.maps_dir, check.root)
    try:
        events = translate_xml(check.root, context, partner_maps_dir=partner.maps_dir)
    except TranslationError as exc:
        raise XmlRejected([XmlFinding(XmlErrorCode.TRANSLATION_FAILED, str(exc)[:500])]) from None
    if not events:
        raise XmlRejected([XmlFinding(XmlErrorCode.UNSUPPORTED_DOCUMENT,
                                      f"no map turns a {check.kind.label} into events")])
    return events


def _refuse_reused_ids(s, doc: Document, check: XmlCheck, events: list[dict]) -> None:
    """Event ids come from the document's own id: one already owned by another document
    means the id was reused for different content (same content was a duplicate above)."""
    for body in events:
        owner = s.scalar(select(EventRecord.document_id).where(EventRecord.event_id == body["event_id"]))
        if owner is not None and owner != doc.id:
            what = "payloadID" if check.kind.standard == "cxml" else f"{check.kind.name} ID"
            xpath = "/cXML/@payloadID" if check.kind.standard == "cxml" else f"/{check.kind.name}/cbc:ID"
            raise XmlRejected([XmlFinding(
                XmlErrorCode.DUPLICATE_DOCUMENT_ID,
                f"{what} {check.kind.document_id!r} was already used by document {owner} with different "
                "content; a corrected document needs a new id", check.root.sourceline, xpath)])


def _reject(doc: Document, check: XmlCheck, findings: list[XmlFinding]) -> None:
    label = check.kind.label if check.kind else "XML document"
    more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
    against = f" against {check.schema}" if check.schema and findings[0].code.name.endswith("_INVALID") else ""
    doc.status = DocumentStatus.REJECTED
    doc.reason = f"{label} rejected{against}: {findings[0].text()}{more}"[:2000]
    doc.errors = [f.to_dict() for f in findings][:200]
    log.info("document %s rejected: %s", doc.id, doc.reason[:300])
