"""``/api/v1``: documents (upload, search, show, raw, reprocess) and events.

Every route needs a bearer token (``gateway tokens create``). A ``partner`` token sees
and uploads only its own documents; another partner's document is answered 404, as if
it did not exist. Actions that change anything are written to the audit log.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy import select

from gateway.domain.status import DocumentStatus
from gateway.intake.receive import DocumentTooLarge, receive
from gateway.processing.reprocess import NotReprocessable, reprocess
from gateway.store.models import Document, EventRecord
from gateway.store.views import document_detail, document_summary, list_documents
from gateway.web.auth import OPERATORS, READERS, audit, require

bp = Blueprint("api", __name__, url_prefix="/api/v1")
STATUSES = tuple(DocumentStatus)


def _rt():
    return current_app.extensions["gateway"]


def _error(status: int, message: str):
    return jsonify({"error": message}), status


def _no_reason():
    return _error(400, "say why: a JSON body {\"reason\": \"...\"} is required (it goes to the audit log)")


def _visible_document(s, document_id: str) -> Document | None:
    doc = s.get(Document, document_id)
    if doc is None or not g.principal.may_see(doc.partner_id):
        return None
    return doc


@bp.post("/documents")
@require("partner", *OPERATORS)
def upload():
    """Store the request body (or the multipart ``file``) as a received document: 202 once durable."""
    principal = g.principal
    partner_id = principal.partner_id if principal.role == "partner" else request.args.get("partner")
    if partner_id is not None and partner_id not in _rt().partners:
        return _error(400, f"unknown partner {partner_id!r}")
    if "file" in request.files:
        upload = request.files["file"]
        data, filename = upload.read(), upload.filename or "upload"
    else:
        data = request.get_data(cache=False)
        filename = request.headers.get("X-Filename") or request.args.get("filename") or "upload"
    if not data:
        return _error(400, "the request carried no document")
    try:
        receipt = receive(_rt(), data, channel="http", filename=filename, partner_id=partner_id)
    except DocumentTooLarge as exc:
        return _error(413, str(exc))
    audit(principal, "document.upload", receipt.document_id, details={"bytes": len(data), "filename": filename})
    return jsonify({"id": receipt.document_id, "correlation_id": receipt.correlation_id, "status": "received",
                    "sha256": receipt.sha256}), 202


@bp.get("/documents")
@require(*READERS)
def search():
    status = request.args.get("status")
    if status and status not in STATUSES:
        return _error(400, f"status must be one of {', '.join(STATUSES)}")
    partner = g.principal.partner_id if g.principal.role == "partner" else request.args.get("partner")
    limit = min(int(request.args.get("limit", 100)), 1000)
    with _rt().session() as s:
        docs = [document_summary(d) for d in list_documents(s, status=status, partner_id=partner, limit=limit)]
    return jsonify({"documents": docs})


@bp.get("/documents/<document_id>")
@require(*READERS)
def show(document_id: str):
    with _rt().session() as s:
        doc = _visible_document(s, document_id)
        if doc is None:
            return _error(404, f"no document {document_id!r}")
        return jsonify(document_detail(doc))


@bp.get("/documents/<document_id>/raw")
@require(*READERS)
def raw(document_id: str):
    with _rt().session() as s:
        doc = _visible_document(s, document_id)
        if doc is None:
            return _error(404, f"no document {document_id!r}")
        sha, filename = doc.sha256, doc.filename
    audit(g.principal, "document.download", document_id)
    return Response(_rt().blobs.get(sha), mimetype="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.post("/documents/<document_id>/reprocess")
@require(*OPERATORS)
def reprocess_document(document_id: str):
    reason = _reason()
    if not reason:
        return _no_reason()
    try:
        queued = reprocess(_rt(), document_id)
    except NotReprocessable as exc:
        return _error(409, str(exc))
    audit(g.principal, "document.reprocess", document_id, reason=reason)
    return jsonify({"id": document_id, "status": "received", "queued": queued}), 202


@bp.get("/events")
@require(*READERS)
def events():
    q = select(EventRecord).order_by(EventRecord.created_at.desc()).limit(min(int(request.args.get("limit", 100)), 1000))
    if request.args.get("type"):
        q = q.where(EventRecord.type == request.args["type"])
    if g.principal.role == "partner":
        q = q.where(EventRecord.partner_id == g.principal.partner_id)
    elif request.args.get("partner"):
        q = q.where(EventRecord.partner_id == request.args["partner"])
    po = request.args.get("po_number")
    with _rt().session() as s:
        rows = [e.body for e in s.scalars(q)]
    if po:
        rows = [e for e in rows if e.get("payload", {}).get("po_number") == po]
    return jsonify({"events": rows})


def _reason() -> str | None:
    return (request.get_json(silent=True) or {}).get("reason") or request.args.get("reason")


def _force() -> bool:
    return bool((request.get_json(silent=True) or {}).get("force"))


@bp.post("/deliveries/<delivery_id>/replay")
@require(*OPERATORS)
def replay_one_delivery(delivery_id: str):
    """Send one delivery again under the same Idempotency-Key (``force`` for a delivered one)."""
    from gateway.routing.replay import replay_delivery

    if not _reason():
        return _no_reason()
    try:
        report = replay_delivery(_rt(), delivery_id, force=_force())
    except LookupError as exc:
        return _error(404, str(exc))
    audit(g.principal, "delivery.replay", delivery_id, reason=_reason(), details=report.to_dict())
    return jsonify(report.to_dict()), 202


@bp.post("/documents/<document_id>/replay")
@require(*OPERATORS)
def replay_one_document(document_id: str):
    """Replay every delivery of a document's events (dead letters; pending ones nudged)."""
    from gateway.routing.replay import replay_document

    if not _reason():
        return _no_reason()
    with _rt().session() as s:
        if s.get(Document, document_id) is None:
            return _error(404, f"no document {document_id!r}")
    report = replay_document(_rt(), document_id, force=_force())
    audit(g.principal, "document.replay", document_id, reason=_reason(), details=report.to_dict())
    return jsonify(report.to_dict()), 202


@bp.post("/adapters/<adapter>/dead-letters/replay")
@require(*OPERATORS)
def replay_adapter_dead_letters(adapter: str):
    """Replay all dead letters of one adapter (say, once the ERP is back)."""
    from gateway.routing.replay import replay_dead_letters

    if not _reason():
        return _no_reason()
    report = replay_dead_letters(_rt(), adapter)
    audit(g.principal, "dead_letters.replay", f"adapter:{adapter}", reason=_reason(),
          details={"requeued": len(report.requeued)})
    return jsonify(report.to_dict()), 202
