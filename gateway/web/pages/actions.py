"""Support's actions from the document page: reprocess, ignore, void, replay a dead letter.

Each needs an operator role (``admin`` or ``support``) and a reason, calls the same
function the API calls, and lands in the audit log. A refusal says why and changes nothing.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from sqlalchemy import select

from gateway.actions.ignore import NotIgnorable
from gateway.actions.ignore import ignore_document as ignore
from gateway.processing.reprocess import NotReprocessable, reprocess
from gateway.processing.void import NotVoidable, void_document
from gateway.routing.replay import replay_delivery
from gateway.store.models import DeliveryRecord, EventRecord
from gateway.web.auth import audit_entry
from gateway.web.pages.access import OPERATORS, allow, not_found, principal, rt, visible_document

bp = Blueprint("console_actions", __name__)
MAX_REASON = 2000


def reason() -> str | None:
    text = (request.form.get("reason") or "").strip()
    return text[:MAX_REASON] or None


def _back(document_id: str, message: str, category: str = "info"):
    flash(message, category)
    return redirect(url_for("console_document.show", document_id=document_id))


@bp.post("/documents/<document_id>/reprocess")
@allow(*OPERATORS)
def reprocess_document(document_id: str):
    with rt().session() as s:
        if visible_document(s, document_id) is None:
            return not_found(f"document {document_id!r}")
    why = reason()
    if not why:
        return _back(document_id, "Say why you reprocess it: the reason goes to the audit log.", "error"), 400
    entry = audit_entry(principal(), "document.reprocess", document_id, reason=why, details={"via": "console"})
    try:  # the audit row commits with the reset, or neither happens
        queued = reprocess(rt(), document_id, audit=lambda s: s.add(entry))
    except NotReprocessable as exc:
        return _back(document_id, f"Not reprocessed: {exc}", "error"), 409
    return _back(document_id, "Queued for processing again." if queued
                 else "Marked for processing again; it will be queued as soon as Redis is reachable.")


@bp.post("/documents/<document_id>/ignore")
@allow(*OPERATORS)
def ignore_document(document_id: str):
    """Close a rejected document on purpose (say, the partner sent a corrected one itself)."""
    with rt().session() as s:
        if visible_document(s, document_id) is None:
            return not_found(f"document {document_id!r}")
    why = reason()
    if not why:
        return _back(document_id, "Say why it may be ignored: the reason goes to the audit log.", "error"), 400
    try:
        ignore(rt(), principal().actor, document_id, why, via="console")
    except NotIgnorable as exc:
        return _back(document_id, f"Not ignored: {exc}.", "error"), 409
    return _back(document_id, "Ignored. It no longer counts as an open rejection.")


@bp.post("/documents/<document_id>/void")
@allow(*OPERATORS)
def void_document_action(document_id: str):
    """Take back an accepted, delivered document: ``document.voided`` goes to every route."""
    with rt().session() as s:
        if visible_document(s, document_id) is None:
            return not_found(f"document {document_id!r}")
    why = reason()
    if not why:
        return _back(document_id, "Say why you void it: the reason goes to every target and the audit log.",
                     "error"), 400
    who = principal()
    try:
        report = void_document(rt(), document_id, why, audit=lambda s, report: s.add(audit_entry(
            who, "document.void", document_id, reason=why, details={"event_id": report.event_id, "via": "console"})))
    except NotVoidable as exc:
        return _back(document_id, f"Not voided: {exc}", "error"), 409
    if not report.changed:
        return _back(document_id, "This document was voided before; nothing was sent again.")
    return _back(document_id, f"Voided: every target is sent document.voided naming its "
                              f"{len(report.original_event_ids)} events.")


@bp.post("/deliveries/<delivery_id>/replay")
@allow(*OPERATORS)
def replay(delivery_id: str):
    """Replay one delivery under its same Idempotency-Key (a delivered one is left alone)."""
    with rt().session() as s:
        document_id = s.scalar(select(EventRecord.document_id).join(DeliveryRecord)
                               .where(DeliveryRecord.id == delivery_id))
        if document_id is None or visible_document(s, document_id) is None:
            return not_found(f"delivery {delivery_id!r}")
    why = reason()
    if not why:
        return _back(document_id, "Say why you replay it: the reason goes to the audit log.", "error"), 400
    who = principal()
    report = replay_delivery(rt(), delivery_id, audit=lambda s, report: s.add(audit_entry(  # in the replay's transaction
        who, "delivery.replay", delivery_id, reason=why, details={**report.to_dict(), "via": "console"})))
    if delivery_id in report.skipped:
        return _back(document_id, f"Not replayed: {report.skipped[delivery_id]}.", "error"), 409
    return _back(document_id, "Queued again under the same idempotency key.")
