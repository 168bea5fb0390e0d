"""Edit and resubmit: support's corrected copy of a rejected document enters as a NEW
document linked to the original (issue #12).

The original row and its bytes stay as they are. What changed is kept as a unified diff
with a reason code, the original is marked "resolved by" the new one, and the chain of
resubmissions can be walked both ways (``Resubmission.original_id``). The copy keeps the
partner's control numbers (so its events get the ids the original's would have had), and
no acknowledgment goes to the partner for it unless support asks (``send_ack``): the
partner never sent these bytes.

Everything is written in one transaction, then queued: a crash in between leaves a
``received`` document that the sweeper queues, never a copy without its link.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from sqlalchemy import select

from gateway.bootstrap import Runtime
from gateway.domain.status import DocumentStatus
from gateway.intake.receive import Receipt, enqueue_processing, new_id
from gateway.store.models import Document, utcnow
from gateway.store.models_users import DocumentResolution, Resubmission

REASON_CODES = ("wrong_value", "missing_data", "format_error", "partner_confirmed", "other")
MAX_DIFF = 200_000  # characters of diff kept; a bigger change is noted as such


class NotResubmittable(ValueError):
    """The resubmission cannot be made as asked (the message says why)."""


class ResubmitConflict(NotResubmittable):
    """The original is in no state to be corrected (not rejected, or already resolved)."""


@dataclass(frozen=True)
class Correction:
    data: bytes
    reason_code: str
    note: str
    actor: str
    send_ack: bool = False


def unified_diff(before: bytes, after: bytes, name: str) -> str:
    """Line diff of two X12 texts, one segment a line (X12 is often a single line)."""
    def lines(data: bytes) -> list[str]:
        text = data.decode("latin-1")
        term = text[105] if text.startswith("ISA") and len(text) > 105 else "\n"
        end = term if term == "\n" else term + "\n"  # one line each: difflib joins them as they are
        return [seg.strip("\r\n") + end for seg in text.split(term) if seg.strip("\r\n")]

    diff = "".join(difflib.unified_diff(lines(before), [*lines(after)], f"{name} (original)",
                                        f"{name} (corrected)", n=1, lineterm="\n"))
    return diff if len(diff) <= MAX_DIFF else diff[:MAX_DIFF] + "\n... (diff cut here)\n"


#: The channel of support's corrected copies: only such a document has a Resubmission row.
CORRECTION_CHANNEL = "console"


def originals_of(s, document_id: str, limit: int = 50) -> list[str]:
    """The documents ``document_id`` corrects, nearest first (empty when it is no resubmission)."""
    chain, current = [], document_id
    while len(chain) < limit:
        original = s.scalar(select(Resubmission.original_id).where(Resubmission.document_id == current))
        if original is None:
            break
        chain.append(original)
        current = original
    return chain


def ack_withheld(s, document_id: str) -> bool:
    """True for support's corrected copy whose ack the partner is not to be sent."""
    row = s.get(Resubmission, document_id)
    return row is not None and not row.send_ack


@dataclass(frozen=True)
class AwaitingApproval:
    """The correction is kept, not yet a document: the partner wants a second approver."""

    approval_id: int
    original_id: str


def _check(rt: Runtime, fix: Correction) -> None:
    if fix.reason_code not in REASON_CODES:
        raise NotResubmittable(f"reason_code must be one of {', '.join(REASON_CODES)}")
    if not fix.note.strip():
        raise NotResubmittable("say what was corrected and why: a note is required (it goes to the audit log)")
    if not fix.data.strip():
        raise NotResubmittable("the corrected document is empty")
    if len(fix.data) > rt.settings.max_document_bytes:
        raise NotResubmittable(f"{len(fix.data)} bytes is over the {rt.settings.max_document_bytes}-byte limit")


def _open_original(s, original_id: str) -> Document:
    original = s.get(Document, original_id, with_for_update=True)
    if original is None:
        raise LookupError(f"no document {original_id!r}")
    if original.status != DocumentStatus.REJECTED:
        raise ResubmitConflict(f"only a rejected document can be corrected; {original_id} is {original.status}")
    if s.get(DocumentResolution, original_id) is not None:
        raise ResubmitConflict(f"{original_id} is already resolved")
    return original


def needs_second_approver(rt: Runtime, partner_id: str | None) -> bool:
    partner = rt.partner(partner_id)
    return bool(partner is not None and partner.corrections_second_approver)


def resubmit(rt: Runtime, original_id: str, fix: Correction) -> Receipt | AwaitingApproval:
    """The corrected copy as a new document, queued; or, when the original's partner wants a
    second approver, the correction kept for approval (:func:`approve`) and nothing queued."""
    _check(rt, fix)
    with rt.session() as s:
        original = _open_original(s, original_id)
        before = rt.blobs.get(original.sha256)
        if before == fix.data:
            raise NotResubmittable("nothing was changed: the corrected document is the original")
        sha = rt.blobs.put(fix.data)
        diff = unified_diff(before, fix.data, original.filename)
        if needs_second_approver(rt, original.partner_id):
            from gateway.store.models_users import CorrectionApproval

            if s.scalar(select(CorrectionApproval.id).where(CorrectionApproval.original_id == original_id,
                                                            CorrectionApproval.state == "pending")) is not None:
                raise ResubmitConflict(f"a correction of {original_id} is already waiting for approval")
            row = CorrectionApproval(original_id=original_id, sha256=sha, size=len(fix.data),
                                     reason_code=fix.reason_code, note=fix.note.strip(), diff=diff,
                                     send_ack=fix.send_ack, requested_by=fix.actor, requested_at=utcnow(),
                                     state="pending")
            s.add(row)
            s.flush()
            return AwaitingApproval(row.id, original_id)
        document_id, correlation_id = _make_copy(s, original, sha, len(fix.data), diff, fix)
    enqueued = enqueue_processing(rt, document_id, len(fix.data))
    return Receipt(document_id, correlation_id, sha, enqueued)


def _make_copy(s, original: Document, sha: str, size: int, diff: str, fix: Correction) -> tuple[str, str]:
    """The new document, its link to the original and the original's resolution, in ``s``."""
    document_id, now = new_id("doc"), utcnow()
    s.add(Document(id=document_id, partner_id=original.partner_id, channel=CORRECTION_CHANNEL,
                   filename=original.filename[:230] + " (corrected)", sha256=sha, size=size,
                   status=DocumentStatus.RECEIVED, correlation_id=original.correlation_id, received_at=now,
                   queued_at=now, errors=[]))
    s.flush()  # the new document's row must exist before rows that point at it
    s.add(Resubmission(document_id=document_id, original_id=original.id, reason_code=fix.reason_code,
                       note=fix.note.strip(), diff=diff, send_ack=fix.send_ack, actor=fix.actor, at=now))
    s.add(DocumentResolution(document_id=original.id, kind="resubmitted", resolved_by=document_id,
                             actor=fix.actor, reason=f"{fix.reason_code}: {fix.note.strip()}", at=now))
    return document_id, original.correlation_id
