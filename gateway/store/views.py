"""JSON views of stored documents, shared by the CLI and the API."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.store.models import DeliveryRecord, Document


def _iso(dt):
    return dt.isoformat() if dt else None


def document_summary(doc: Document) -> dict:
    return {
        "id": doc.id,
        "partner_id": doc.partner_id,
        "channel": doc.channel,
        "filename": doc.filename,
        "format": doc.format,
        "status": doc.status,
        "reason": doc.reason,
        "size": doc.size,
        "sha256": doc.sha256,
        "received_at": _iso(doc.received_at),
        "processed_at": _iso(doc.processed_at),
        "correlation_id": doc.correlation_id,
        "duplicate_of": doc.duplicate_of,
        "test": bool(doc.test),  # test data: never delivered to production adapters
        "map_version": doc.map_version,  # the translation map version that translated (or refused) it
    }


def delivery_view(d: DeliveryRecord) -> dict:
    return {
        "id": d.id,
        "adapter": d.adapter,
        "status": d.status,
        "attempts": d.attempts,
        "last_error": d.last_error,
        "response_status": d.response_status,
        "next_attempt_at": _iso(d.next_attempt_at) if d.status == "pending" else None,
        "delivered_at": _iso(d.delivered_at),
    }


def document_detail(doc: Document) -> dict:
    out = document_summary(doc)
    out["errors"] = doc.errors or []
    out["transaction_sets"] = [
        {"set_id": t.set_id, "control_number": t.control_number, "group_control_number": t.group_control_number,
         "interchange_control_number": t.interchange_control_number, "version": t.version, "status": t.status,
         "errors": t.errors or []}
        for t in doc.transactions
    ]
    out["acks"] = [
        {"kind": a.kind, "interchange_control_number": a.interchange_control_number,
         "acknowledges": a.acknowledged_control_number, "status": a.status,
         "destination": a.destination, "sent_at": _iso(a.sent_at), "text": a.text}
        for a in doc.acks
    ]
    out["ack"] = out["acks"][0] if out["acks"] else None
    out["events"] = [
        {"event_id": e.event_id, "type": e.type, "created_at": _iso(e.created_at), "event": e.body,
         "deliveries": [delivery_view(d) for d in e.deliveries]}
        for e in doc.events
    ]
    voided = next((e.body for e in doc.events if e.type == "document.voided"), None)  # gateway.processing.void
    out["voided"] = voided and {"event_id": voided["event_id"], "at": voided["payload"]["voided_at"],
                                "reason": voided["payload"]["reason"]}
    return out


def list_documents(s: Session, *, status: str | None = None, partner_id: str | None = None,
                   limit: int = 100) -> list[Document]:
    q = select(Document).order_by(Document.received_at.desc()).limit(limit)
    if status:
        q = q.where(Document.status == status)
    if partner_id:
        q = q.where(Document.partner_id == partner_id)
    return list(s.scalars(q))
