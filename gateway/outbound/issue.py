"""Issue a purchase order: the ERP's ``purchase_order.issued`` becomes the partner's 850,
recorded and sent once per Idempotency-Key.

Order of work, so nothing is lost and nothing goes twice:
1. check the request (partner, payload schema); a key seen before answers with what it
   made then (a different body under the same key is refused, never sent);
2. map, envelope and validate (422 with the findings when the standard does not allow it);
3. in ONE transaction: envelope again with our control numbers (database counters, so a
   rolled-back attempt gives its numbers back and none is handed out twice), store the
   bytes (blob + ``documents`` row), the ``outbound_documents`` row and the
   ``purchase_order.issued`` event with its deliveries;
4. after the commit, send (:mod:`gateway.outbound.send`). A failed send stays recorded
   as ``send_failed``; the ERP repeats the request with the same key and it is sent then.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gateway.bootstrap import Runtime
from gateway.domain.status import DocumentStatus
from gateway.events.payloads import PurchaseOrderSchema
from gateway.intake.receive import new_id
from gateway.outbound.envelope import EnvelopeError, envelope
from gateway.outbound.events import outbound_event
from gateway.outbound.reverse_map import ReverseMapError, load_reverse_map, render
from gateway.outbound.validation import outbound_errors
from gateway.processing.control_numbers import DatabaseControlNumbers
from gateway.store.models import Document, utcnow
from gateway.store.models_outbound import OutboundDocument

log = logging.getLogger("gateway.outbound")

EVENT = "purchase_order.issued"
SET_ID, VERSION = "850", "004010"


class IssueRefused(ValueError):
    """The request cannot become an 850 (HTTP 400/409/422); nothing was recorded or sent."""

    def __init__(self, status: int, message: str, errors: list | dict | None = None):
        super().__init__(message)
        self.status, self.errors = status, errors or []


@dataclass
class Issued:
    record: dict
    created: bool
    deliveries: list[tuple[str, str]] = field(default_factory=list)  # (delivery id, queue) to relay


def request_digest(partner_id: str, payload: dict) -> str:
    return hashlib.sha256(json.dumps([partner_id, payload], sort_keys=True).encode()).hexdigest()


def issue_purchase_order(rt: Runtime, partner_id: str, payload: dict, key: str) -> Issued:
    """Record the 850 for ``payload`` under ``key`` (or find the one recorded before)."""
    partner = rt.partners.get(partner_id)
    if partner is None:
        raise IssueRefused(400, f"unknown partner {partner_id!r}")
    errors = PurchaseOrderSchema().validate(payload)
    if errors:
        raise IssueRefused(422, "the payload is not a valid purchase_order.issued", errors)
    digest = request_digest(partner_id, payload)
    found = existing(rt, partner_id, key, digest)
    if found is not None:
        return Issued(found, created=False)
    try:
        if partner.cxml is not None and partner.cxml.order_url:  # it takes orders as cXML, over HTTP
            from gateway.outbound.cxml_issue import record_order_request

            return record_order_request(rt, partner, payload, key, digest)
        return _record(rt, partner, payload, key, digest)
    except IntegrityError:  # the same key, at the same moment, in another request: theirs won
        found = existing(rt, partner_id, key, digest)
        if found is None:
            raise
        return Issued(found, created=False)


def existing(rt: Runtime, partner_id: str, key: str, digest: str) -> dict | None:
    with rt.session() as s:
        row = s.scalar(select(OutboundDocument).where(OutboundDocument.partner_id == partner_id,
                                                      OutboundDocument.idempotency_key == key))
        if row is None:
            return None
        if row.request_sha256 != digest:
            raise IssueRefused(409, f"Idempotency-Key {key!r} was used for a different purchase order "
                                    f"({row.id}, PO {row.po_number}); use a new key for a new order")
        return summary(row)


class _WidestNumbers:
    """Control numbers of the greatest width, for validating before the real ones are taken."""

    def next(self, name: str) -> int:
        return 9_999 if name == "transaction" else 999_999_999


def _build(rmap, partner, payload: dict, now, control_numbers):
    try:
        return envelope(partner, render(rmap, payload), set_id=SET_ID, version=VERSION,
                        functional_id=rmap.functional_id, control_numbers=control_numbers, now=now)
    except (ReverseMapError, EnvelopeError) as exc:
        raise IssueRefused(422, str(exc)) from None


def _record(rt: Runtime, partner, payload: dict, key: str, digest: str) -> Issued:
    rmap = load_reverse_map(SET_ID, VERSION)
    now = utcnow()
    # Validated before the transaction: the counters (shared with our acks) and, on SQLite,
    # the write lock are then held for milliseconds, not for the validation of a long PO.
    # Only the control numbers differ in what is sent, and they are checked at their widest.
    problems = outbound_errors(_build(rmap, partner, payload, now, _WidestNumbers()).text.encode("ascii"))
    if problems:
        raise IssueRefused(422, f"the {SET_ID} this order makes is not valid X12: {problems[0]['message']}", problems)
    outbound_id, correlation_id = new_id("out"), new_id("cor")
    with rt.session() as s:
        env = _build(rmap, partner, payload, now, DatabaseControlNumbers(s))
        data = env.text.encode("ascii")
        sha = rt.blobs.put(data)
        filename = f"{SET_ID}_{env.interchange_control_number}.x12"
        doc = Document(id=outbound_id, partner_id=partner.id, channel="outbound", filename=filename, sha256=sha,
                       size=len(data), format="x12", status=DocumentStatus.ACCEPTED, correlation_id=correlation_id,
                       received_at=now, processed_at=now, errors=[])
        row = OutboundDocument(
            id=outbound_id, document_id=outbound_id, partner_id=partner.id, idempotency_key=key, request_sha256=digest,
            transaction_set=SET_ID, version=VERSION, po_number=payload.get("po_number"),
            interchange_control_number=env.interchange_control_number, group_control_number=env.group_control_number,
            transaction_control_number=env.transaction_control_number, status="pending", ack_status="awaiting",
            ack_errors=[], created_at=now, attempts=0)
        s.add_all([doc, row])
        s.flush()
        body = outbound_event(row, EVENT, now, payload)
        from gateway.processing.x12_interchange import record_event

        deliveries = [(d.id, d.queue) for d in record_event(rt, s, doc, body)]
        result = summary(row)
    log.info("850 %s for PO %s to %s recorded (ISA13 %s)", outbound_id, payload.get("po_number"), partner.id,
             env.interchange_control_number)
    return Issued(result, created=True, deliveries=deliveries)


def summary(row: OutboundDocument) -> dict:
    """What the API and the CLI show of an outbound document."""
    at = lambda v: v.isoformat() if v else None  # noqa: E731
    return {"id": row.id, "partner_id": row.partner_id, "idempotency_key": row.idempotency_key,
            "transaction_set": row.transaction_set, "version": row.version, "po_number": row.po_number,
            "interchange_control_number": row.interchange_control_number,
            "group_control_number": row.group_control_number,
            "transaction_control_number": row.transaction_control_number,
            "status": row.status, "destination": row.destination, "last_error": row.last_error,
            "sent_at": at(row.sent_at), "ack_status": row.ack_status, "ack_due_at": at(row.ack_due_at),
            "ack_kind": row.ack_kind, "ack_document_id": row.ack_document_id, "ack_errors": row.ack_errors or [],
            "acked_at": at(row.acked_at), "overdue_at": at(row.overdue_at), "created_at": at(row.created_at),
            "format": row.format or "x12", "payload_id": row.payload_id, "response_code": row.response_code,
            "response_text": row.response_text, "attempts": row.attempts, "next_attempt_at": at(row.next_attempt_at)}
