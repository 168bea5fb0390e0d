"""Reprocess a stored document from its original bytes (after a map or profile fix).

The document goes back to ``received`` and through the same job. Its earlier
transaction-set and interchange rows are replaced; its events keep their ids (they are
deterministic), so nothing already delivered is delivered again, and no second ack is
sent for an interchange that was acknowledged once. A ``failed`` document (processing
could not finish; gateway.processing.failure) is the exception: its partner was only
told "not processed", so the reprocess answers with the real outcome.

``audit``, when given, is called with the session inside the transaction that resets
the document, so the audit row and the reset commit together; the job is queued only
after that commit.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete
from sqlalchemy.orm import Session

from gateway.bootstrap import Runtime
from gateway.domain.status import MAX_PROCESS_ATTEMPTS, DocumentStatus
from gateway.intake.receive import enqueue_processing
from gateway.store.models import Document, InterchangeRecord, TransactionSetRecord, utcnow


class NotReprocessable(ValueError):
    pass


def check_reprocessable(doc: Document | None, document_id: str) -> Document:
    """``doc`` if it may be processed again, else :class:`NotReprocessable` saying why."""
    if doc is None:
        raise NotReprocessable(f"no document {document_id!r}")
    if doc.channel == "outbound":
        raise NotReprocessable(f"{document_id} is a document we sent (issue #13), not one we received")
    if doc.status == DocumentStatus.DUPLICATE:
        raise NotReprocessable(f"{document_id} is a duplicate of {doc.duplicate_of}; reprocess that one")
    if doc.status == DocumentStatus.RECEIVED and doc.process_attempts < MAX_PROCESS_ATTEMPTS:
        raise NotReprocessable(f"{document_id} is still waiting to be processed")
    return doc


def reset_for_reprocess(s: Session, doc: Document) -> None:
    """Put ``doc`` back to ``received`` in the caller's transaction (its set and interchange
    rows go; its events stay, their ids are deterministic). Queue it after the commit."""
    reset_many(s, [doc])


def reset_many(s: Session, docs: list[Document], chunk: int = 500) -> None:
    """:func:`reset_for_reprocess` for many documents, their rows deleted a chunk at a time."""
    ids = [d.id for d in docs]
    for i in range(0, len(ids), chunk):
        part = ids[i:i + chunk]
        s.execute(delete(TransactionSetRecord).where(TransactionSetRecord.document_id.in_(part)))
        s.execute(delete(InterchangeRecord).where(InterchangeRecord.document_id.in_(part)))
    now = utcnow()
    for doc in docs:
        doc.status, doc.reason, doc.errors = DocumentStatus.RECEIVED, None, []
        doc.process_attempts, doc.last_error, doc.map_version = 0, None, None
        doc.lease_until, doc.processed_at, doc.queued_at = None, None, now


def reprocess(rt: Runtime, document_id: str, *, audit: Callable[[Session], None] | None = None) -> bool:
    """Queue the document again; True when it was put on the queue (else the sweeper will)."""
    with rt.session() as s:
        doc = check_reprocessable(s.get(Document, document_id), document_id)
        reset_for_reprocess(s, doc)
        if audit is not None:
            audit(s)
    return enqueue_processing(rt, document_id)
