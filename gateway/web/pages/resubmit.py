"""Edit and resubmit from the browser: ``/documents/<id>/edit`` shows the document one
segment a line with live validation; submitting it makes a new document linked to the
original (:mod:`gateway.intake.resubmit`). Operators only; audited with the reason."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for

from gateway.intake.resubmit import (
    REASON_CODES,
    AwaitingApproval,
    Correction,
    NotResubmittable,
    resubmit,
)
from gateway.processing.validate import validate_bytes
from gateway.web.auth import audit
from gateway.web.pages.access import OPERATORS, allow, not_found, principal, rt, visible_document
from gateway.x12.reader import read_x12

bp = Blueprint("console_resubmit", __name__)


def _terminator(data: bytes) -> str | None:
    result = read_x12(data, keep_segments=False)
    return result.interchanges[0].delimiters.segment if result.is_x12 and result.interchanges else None


def editable(data: bytes) -> str:
    """The document as the editor shows it: one segment a line when it came as one line."""
    text, term = data.decode("latin-1"), _terminator(data)
    if term and term != "\n" and term + "\n" not in text:
        text = text.replace(term, term + "\n")
    return text


def from_editor(text: str, original: bytes) -> bytes:
    """The edited text back in the original's layout (the line breaks the editor added go)."""
    term = _terminator(original)
    if term and term != "\n" and (term + "\n").encode("latin-1") not in original:
        text = text.replace(term + "\r\n", term).replace(term + "\n", term)
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise NotResubmittable(f"character {text[exc.start]!r} cannot be sent in an X12 document") from None


def _load(document_id: str):
    with rt().session() as s:
        doc = visible_document(s, document_id)
        return (doc.status, doc.sha256, doc.filename) if doc is not None else None


@bp.get("/documents/<document_id>/edit")
@allow(*OPERATORS)
def edit(document_id: str):
    found = _load(document_id)
    if found is None:
        return not_found(f"document {document_id!r}")
    status, sha, filename = found
    return render_template("console/edit.html", document_id=document_id, filename=filename, status=status,
                           text=editable(rt().blobs.get(sha)), reason_codes=REASON_CODES)


@bp.post("/documents/<document_id>/validate")
@allow(*OPERATORS)
def validate(document_id: str):
    """Live validation of the edited text (JSON, as ``gateway validate --json`` reports it)."""
    found = _load(document_id)
    if found is None:
        return jsonify({"error": f"no document {document_id!r}"}), 404
    try:
        data = from_editor(request.get_data(as_text=True), rt().blobs.get(found[1]))
    except NotResubmittable as exc:
        return jsonify({"valid": False, "errors": [{"message": str(exc)}], "transactions": []})
    return jsonify(validate_bytes(data, found[2]))


@bp.post("/documents/<document_id>/resubmit")
@allow(*OPERATORS)
def submit(document_id: str):
    found = _load(document_id)
    if found is None:
        return not_found(f"document {document_id!r}")
    form = request.form
    try:
        data = from_editor(form.get("document", ""), rt().blobs.get(found[1]))
        receipt = resubmit(rt(), document_id, Correction(data, form.get("reason_code", ""), form.get("note", "")[:2000],
                                                         principal().actor, form.get("send_ack") == "1"))
    except NotResubmittable as exc:
        flash(f"Not resubmitted: {exc}", "error")
        return render_template("console/edit.html", document_id=document_id, filename=found[2], status=found[0],
                               text=form.get("document", ""), reason_codes=REASON_CODES), 409
    if isinstance(receipt, AwaitingApproval):  # the partner wants a second operator to approve it
        audit(principal(), "document.resubmit", document_id, reason=form.get("note", "")[:2000],
              details={"via": "console", "awaiting_approval": receipt.approval_id,
                       "reason_code": form.get("reason_code"), "send_ack": form.get("send_ack") == "1"})
        flash("Kept for a second approver: this partner's corrections enter only once another operator "
              "approves them (Corrections).", "info")
        return redirect(url_for("console_document.show", document_id=document_id))
    audit(principal(), "document.resubmit", document_id, reason=form.get("note", "")[:2000],
          details={"via": "console", "new_document_id": receipt.document_id, "reason_code": form.get("reason_code"),
                   "send_ack": form.get("send_ack") == "1"})
    flash(f"Resubmitted as a new document, linked to {document_id}.", "info")
    return redirect(url_for("console_document.show", document_id=receipt.document_id))
