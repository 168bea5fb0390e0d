"""The second approver of a corrected copy (a partner's ``corrections: second_approver``).

Support's correction waits, bytes stored, no document made, until another operator
approves it (then it enters exactly as an unapproved one would: a new document linked to
the original, queued after the commit) or someone declines it (the original stays an
open rejection; the requester may withdraw their own). The approver must be a different
person from the one who made the correction. Each decision is audited in its own
transaction together with the change.
"""

from __future__ import annotations

from sqlalchemy import select

from gateway.bootstrap import Runtime
from gateway.intake.receive import Receipt, enqueue_processing
from gateway.intake.resubmit import Correction, ResubmitConflict, _make_copy, _open_original
from gateway.store.models import utcnow
from gateway.store.models_api import AuditEntry
from gateway.store.models_users import CorrectionApproval

MAX_REASON = 2000


class NotDecidable(ResubmitConflict):
    """The correction cannot be decided as asked (the message says why)."""


class ReasonRequired(NotDecidable):
    pass


def pending(rt: Runtime, limit: int = 200) -> list[dict]:
    """Corrections waiting for a second approver, oldest first."""
    with rt.session() as s:
        rows = s.scalars(select(CorrectionApproval).where(CorrectionApproval.state == "pending")
                         .order_by(CorrectionApproval.requested_at, CorrectionApproval.id).limit(limit))
        return [describe(r) for r in rows]


def count_pending(s) -> int:
    from sqlalchemy import func

    return s.scalar(select(func.count()).select_from(CorrectionApproval)
                    .where(CorrectionApproval.state == "pending")) or 0


def describe(r: CorrectionApproval) -> dict:
    return {"id": r.id, "original_id": r.original_id, "reason_code": r.reason_code, "note": r.note, "diff": r.diff,
            "send_ack": r.send_ack, "requested_by": r.requested_by, "requested_at": r.requested_at.isoformat(),
            "state": r.state, "decided_by": r.decided_by,
            "decided_at": r.decided_at.isoformat() if r.decided_at else None,
            "decision_reason": r.decision_reason, "new_document_id": r.new_document_id}


def _pending_row(s, approval_id: int) -> CorrectionApproval:
    row = s.get(CorrectionApproval, approval_id, with_for_update=True)
    if row is None:
        raise LookupError(f"no correction {approval_id}")
    if row.state != "pending":
        raise NotDecidable(f"correction {approval_id} was already {row.state} by {row.decided_by}")
    return row


def _reason(reason) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ReasonRequired("say why: a reason is required (it goes to the audit log)")
    return reason.strip()[:MAX_REASON]


def approve(rt: Runtime, approval_id: int, approver: str, reason) -> Receipt:
    """The correction enters as a new document linked to the original; queued after commit."""
    why = _reason(reason)
    with rt.session() as s:
        row = _pending_row(s, approval_id)
        if row.requested_by == approver:
            raise NotDecidable("a second person must approve a correction: you made this one")
        original = _open_original(s, row.original_id)
        fix = Correction(b"", row.reason_code, row.note, row.requested_by, row.send_ack)
        document_id, correlation_id = _make_copy(s, original, row.sha256, row.size, row.diff, fix)
        row.state, row.decided_by, row.decided_at = "approved", approver, utcnow()
        row.decision_reason, row.new_document_id = why, document_id
        s.add(AuditEntry(at=row.decided_at, actor=approver, action="correction.approve", target=row.original_id,
                         reason=why, details={"approval_id": row.id, "new_document_id": document_id,
                                              "requested_by": row.requested_by}))
        sha, size = row.sha256, row.size
    enqueued = enqueue_processing(rt, document_id, size)
    return Receipt(document_id, correlation_id, sha, enqueued)


def decline(rt: Runtime, approval_id: int, actor: str, reason) -> dict:
    """The correction is dropped (its bytes stay in the blob store); the original stays open."""
    why = _reason(reason)
    with rt.session() as s:
        row = _pending_row(s, approval_id)
        row.state, row.decided_by, row.decided_at, row.decision_reason = "declined", actor, utcnow(), why
        s.add(AuditEntry(at=row.decided_at, actor=actor, action="correction.decline", target=row.original_id,
                         reason=why, details={"approval_id": row.id, "requested_by": row.requested_by}))
        return describe(row)
