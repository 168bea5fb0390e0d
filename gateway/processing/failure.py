"""The final answer for a document whose processing cannot finish.

A job that hits its time limit, or crashes MAX_PROCESS_ATTEMPTS times, would otherwise
leave the document ``received`` for ever: no status anyone acts on, no answer to the
partner, and (with retries) a worker held again and again. Instead the document ends
``failed`` (our failure, said in its reason; never ``rejected``, which blames the
partner), and every interchange whose envelope can be read gets a TA1 R 024 so the
partner knows it was not processed. The envelope read is one linear pass with no
validation, so it finishes where the full processing could not.

The TA1 is recorded without an interchange index: it answers the file, not a processed
interchange, so a reprocess after the fix answers again with the real outcome.
"""

from __future__ import annotations

import logging

from gateway.bootstrap import Runtime
from gateway.domain.status import AckStatus, DocumentStatus
from gateway.processing.control_numbers import DatabaseControlNumbers
from gateway.processing.detect import Format, detect
from gateway.routing.outbox import relay
from gateway.store.models import AckRecord, Document, utcnow
from gateway.x12.findings import Finding, FindingCode

log = logging.getLogger("gateway.processing")


def give_up(rt: Runtime, document_id: str, why: str) -> bool:
    """End ``document_id`` as ``failed`` with ``why``, and send the partner a TA1 for each
    readable interchange. False when the document already had a final status."""
    with rt.session() as s:
        doc = s.get(Document, document_id)
        if doc is None or doc.status != DocumentStatus.RECEIVED:
            return False
        doc.status, doc.lease_until, doc.processed_at = DocumentStatus.FAILED, None, utcnow()
        acks = _rejection_acks(rt, s, doc, why)
        told = "the partner was sent a TA1 saying it was not processed" if acks else "no ack could be addressed"
        doc.reason = (f"processing could not finish: {why}. This is a gateway failure, not an error in the "
                      f"document; nothing was delivered and {told}. Reprocess it once the cause is fixed")[:2000]
        doc.errors = [{"code": "PROCESSING_FAILED", "message": why[:500], "segment_id": None,
                       "segment_index": None, "element": None}]
        s.flush()
        ack_ids = [a.id for a in acks]
    log.error("document %s failed: %s", document_id, why)
    relay(rt, [], ack_ids)
    return True


def _rejection_acks(rt: Runtime, s, doc: Document, why: str) -> list[AckRecord]:
    from gateway.acks import build_acknowledgments
    from gateway.processing.x12_interchange import identify_partner
    from gateway.x12.reader import read_x12

    try:
        data = rt.blobs.get(doc.sha256)
        if detect(data[:4096]) is not Format.X12:
            return []  # XML has no acknowledgment of its own here; the status and reason say it
        result = read_x12(data, keep_segments=False)
    except Exception:  # the blob store is away: the status still ends the document's limbo
        log.exception("could not read %s to acknowledge it", doc.id)
        return []
    records = []
    for index, ic in enumerate(result.interchanges):
        partner, _ = identify_partner(rt, doc, ic)
        if partner is None or partner.x12.ack == "none":
            continue
        doc.partner_id = doc.partner_id or partner.id
        not_processed = Finding(FindingCode.INVALID_INTERCHANGE_CONTENT, f"not processed: {why}",
                                interchange_index=index)
        for ack in build_acknowledgments(result, index, our_qualifier=ic.receiver_qualifier, our_id=ic.receiver_id,
                                         control_numbers=DatabaseControlNumbers(s), extra_findings=[not_processed]):
            record = AckRecord(document_id=doc.id, kind=ack.kind, interchange_control_number=str(
                ack.interchange_control_number), text=ack.text, status=AckStatus.PENDING,
                acknowledged_control_number=ic.control_number[:9], interchange_index=None)
            s.add(record)
            records.append(record)
    return records
