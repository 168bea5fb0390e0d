"""Void an accepted document: every target is told to reverse what it applied.

Support voids a document whose events were delivered but should not have been (it
came from the wrong partner, it was translated with the wrong map version). The
gateway records one ``document.voided`` event naming every event of the document and
routes it like any event, in ONE transaction with the audit row; its deliveries are
queued only after that commit. The document keeps its status and its events (nothing
is deleted: the record shows what was delivered and that it was voided).

Voiding twice changes nothing: the event id derives from the document id, so the second
call finds the first void and reports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.bootstrap import Runtime
from gateway.domain.status import DocumentStatus
from gateway.events.compensation import voided_event
from gateway.processing.x12_interchange import record_event
from gateway.routing.outbox import relay
from gateway.store.models import Document, EventRecord, utcnow

NOT_TAKEN_BACK = ("document.voided", "document.rejected")
MAX_REASON = 2000


class NotVoidable(ValueError):
    """The document cannot be voided; the message says why."""


@dataclass
class VoidReport:
    document_id: str
    event_id: str
    changed: bool  # False: it was voided before; nothing was done now
    original_event_ids: list[str] = field(default_factory=list)
    deliveries: list[str] = field(default_factory=list)
    voided_at: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict:
        return {"id": self.document_id, "voided": True, "changed": self.changed, "event_id": self.event_id,
                "original_event_ids": self.original_event_ids, "deliveries": self.deliveries,
                "voided_at": self.voided_at, "reason": self.reason}


def void_record(doc: Document) -> EventRecord | None:
    """The ``document.voided`` event of ``doc``, if it was voided."""
    return next((e for e in doc.events if e.type == "document.voided"), None)


def void_document(rt: Runtime, document_id: str, reason: str, *,
                  audit: Callable[[Session, VoidReport], None] | None = None) -> VoidReport:
    """Void ``document_id``; ``audit`` adds its row in the same transaction (only when
    something changed). Raises NotVoidable, saying why, when it cannot be voided."""
    try:
        return _void(rt, document_id, reason, audit)
    except IntegrityError:  # voided at the same moment by someone else: theirs stands
        return _void(rt, document_id, reason, audit)


def _void(rt: Runtime, document_id: str, reason: str, audit) -> VoidReport:
    reason = (reason or "").strip()[:MAX_REASON]
    if not reason:
        raise NotVoidable("say why the document is voided: the reason goes to every target and the audit log")
    with rt.session() as s:
        doc = s.get(Document, document_id)
        if doc is None:
            raise NotVoidable(f"no document {document_id!r}")
        existing = void_record(doc)
        if existing is not None:
            payload = existing.body["payload"]
            return VoidReport(document_id, existing.event_id, False, payload["original_event_ids"],
                              voided_at=payload["voided_at"], reason=payload["reason"])
        if doc.channel == "outbound":
            raise NotVoidable(f"{document_id} is a document we sent; the ERP cancels it with a new purchase order "
                              "(BEG01 01), not by a void")
        if doc.status != DocumentStatus.ACCEPTED:
            raise NotVoidable(f"only an accepted document can be voided; {document_id} is {doc.status}"
                              + (" (ignore a rejected document instead)" if doc.status == DocumentStatus.REJECTED
                                 else ""))
        originals = [e.body for e in sorted(doc.events, key=lambda e: (e.created_at, e.event_id))
                     if e.type not in NOT_TAKEN_BACK]
        if not originals:
            raise NotVoidable(f"{document_id} has no events to take back")
        body = voided_event(document_id=document_id, events=originals, reason=reason,
                            voided_at=utcnow().isoformat())
        new = record_event(rt, s, doc, body)
        s.flush()
        report = VoidReport(document_id, body["event_id"], True, body["payload"]["original_event_ids"],
                            [d.id for d in new], body["payload"]["voided_at"], reason)
        if audit is not None:
            audit(s, report)
        queued = [(d.id, d.queue) for d in new]
    relay(rt, queued, [])
    return report
