"""The partner's own pages: its documents with their errors in plain language, the acks
we sent it (downloadable), and an upload form. Only a ``partner`` user comes here, and
only ever to its own partner's data: another partner's document or ack is answered 404,
exactly as one that does not exist, so ids cannot be probed.

A partner user opening ``/documents/<id>`` gets :func:`document_page` (what the partner
needs: the raw segments with the failing one marked, the findings, our acks, the events
it caused) instead of support's view (deliveries to our systems, our audit trail).
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.exceptions import RequestEntityTooLarge

from gateway.domain.status import AckStatus
from gateway.intake.portal import UploadRefused, max_upload_bytes, receive_upload
from gateway.processing.acks import ack_filename
from gateway.store.models import AckRecord, Document
from gateway.store.views import document_detail, document_summary
from gateway.web.api import content_disposition
from gateway.web.auth import audit
from gateway.web.pages.access import allow, not_found, principal, rt, visible_document
from gateway.web.pages.raw_view import raw_view

bp = Blueprint("console_partner", __name__)
log = logging.getLogger("gateway.web")
PAGE_SIZE = 50
NOT_FROM_PARTNER = ("outbound", "console")  # what we sent it; support's corrected copies
STATUS_WORDS = {"received": "Received, being checked", "accepted": "Accepted", "rejected": "Rejected",
                "failed": "Could not be processed (our side; we are on it)", "duplicate": "Duplicate, not processed"}


def plain_status(status: str) -> str:
    return STATUS_WORDS.get(status, status.replace("_", " ").capitalize())


def sent(ack: AckRecord) -> bool:
    """The partner sees the acks that went to it: not one withheld for support's corrected copy."""
    return ack.status == AckStatus.SENT


def first_finding(doc: Document) -> str | None:
    for e in doc.errors or []:
        if isinstance(e, dict) and e.get("message"):
            return e["message"]
    return doc.reason


def _no_profile():
    """The user's partner has no profile here any more (removed from the partners folder)."""
    return render_template("console/error.html", title="No partner profile",
                           message="Your partner account is not set up on this gateway at the moment. "
                                   "Please contact your buyer."), 409


@bp.get("/partner")
@allow("partner")
def home():
    """The partner's documents, newest first (``?status=rejected`` for the open problems)."""
    me = principal().partner_id
    if me not in rt().partners:
        return _no_profile()
    status = request.args.get("status") if request.args.get("status") in STATUS_WORDS else None
    raw_page = request.args.get("page", "")
    page = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) < 10_000 else 1
    with rt().session() as s:
        q = select(Document).where(Document.partner_id == me, Document.channel.not_in(NOT_FROM_PARTNER))
        if status:
            q = q.where(Document.status == status)
        total = s.scalar(select(func.count()).select_from(q.subquery()))
        docs = s.scalars(q.order_by(Document.received_at.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
        rows = [{**document_summary(d), "plain_status": plain_status(d.status), "problem": first_finding(d)
                 if d.status == "rejected" else None,
                 "acks": [{"id": a.id, "kind": a.kind, "status": a.status} for a in d.acks if sent(a)]} for d in docs]
    return render_template("console/partner_home.html", title="Your documents", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)), status=status, statuses=STATUS_WORDS,
                           limit=max_upload_bytes(rt(), me), partner=rt().partners[me])


@bp.post("/partner/upload")
@allow("partner")
def upload():
    """Receive a file the partner chose: stored before we answer, then validated and acked as from SFTP."""
    me = principal().partner_id
    if me not in rt().partners:
        return _no_profile()
    try:
        file = request.files.get("file")
        data = file.read() if file else b""
    except RequestEntityTooLarge:
        flash("The file is over the upload limit. Nothing was received.", "error")
        return redirect(url_for("console_partner.home")), 303
    try:
        receipt = receive_upload(rt(), me, file.filename if file else None, data)
    except UploadRefused as exc:
        return render_template("console/error.html", title="Upload refused", message=str(exc)), exc.status
    except Exception:  # ours, not the partner's: say so
        log.exception("portal upload from %s could not be stored", me)
        return render_template("console/error.html", title="Not received",
                               message="The gateway could not store your file just now. Nothing was received; "
                                       "please try again in a few minutes."), 503
    audit(principal(), "document.upload", receipt.document_id, details={"bytes": len(data), "via": "console"})
    flash("Received and stored. It is being checked now; the result and our acknowledgment appear here.", "info")
    return redirect(url_for("console_document.show", document_id=receipt.document_id), 303)


@bp.get("/partner/acks/<int:ack_id>")
@allow("partner")
def download_ack(ack_id: int):
    """The X12 text of an ack we sent the partner (997/999/TA1), as a file."""
    with rt().session() as s:
        ack = s.get(AckRecord, ack_id)
        if ack is None or not sent(ack) or visible_document(s, ack.document_id) is None:
            return not_found(f"acknowledgment {ack_id}")
        text, name = ack.text, ack_filename(ack)
    audit(principal(), "ack.download", str(ack_id), details={"via": "console"})
    return Response(text, mimetype="application/edi-x12",
                    headers={"Content-Disposition": content_disposition(name)})


def document_page(document_id: str):
    """``/documents/<id>`` for a partner user (the caller checked the role)."""
    with rt().session() as s:
        doc = visible_document(s, document_id)
        if doc is None:
            return not_found(f"document {document_id!r} you may see")
        detail = document_detail(doc)
        ack_ids = [a.id for a in doc.acks]
        detail["acks"] = [dict(view, id=ack_id) for view, ack_id, a in zip(detail["acks"], ack_ids, doc.acks, strict=True)
                          if sent(a)]  # only what went to the partner (not a withheld one)
    from gateway.web.pages.document import findings

    view = raw_view(rt().blobs.get(detail["sha256"]), detail["transaction_sets"])
    audit(principal(), "document.view", document_id, details={"via": "console"})
    return render_template("console/partner_document.html", d=detail, view=view, findings=findings(detail, view),
                           plain_status=plain_status(detail["status"]))
