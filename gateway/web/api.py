"""``/api/v1``: documents (upload, search, show, raw, reprocess) and events.

Every route needs a bearer token (``gateway tokens create``). A ``partner`` token sees
and uploads only its own documents; another partner's document is answered 404, as if
it did not exist. Actions that change anything are written to the audit log, in the
same transaction as the change: input is checked first (a bad one is a 400 and nothing
happens), and nothing is queued or sent until the change and its audit row committed.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from gateway.domain.status import DocumentStatus
from gateway.intake.receive import DocumentTooLarge, receive
from gateway.processing.reprocess import NotReprocessable, reprocess
from gateway.store.models import DeliveryRecord, Document, EventRecord
from gateway.store.views import document_detail, document_summary, list_documents
from gateway.web.auth import OPERATORS, READERS, audit, audit_entry, document_for, require
from gateway.web.body import BodyTooLarge, read_body

bp = Blueprint("api", __name__, url_prefix="/api/v1")
STATUSES = tuple(DocumentStatus)
MAX_LIMIT = 1000
MAX_REASON_CHARS = 2000


class BadInput(ValueError):
    """The request is malformed: answered 400 with this message, before anything is done."""


@bp.errorhandler(BadInput)
def _bad_input(exc: BadInput):
    return _error(400, str(exc))


def _rt():
    return current_app.extensions["gateway"]


def _error(status: int, message: str):
    return jsonify({"error": message}), status


def _limit() -> int:
    raw = request.args.get("limit", "100")
    try:
        limit = int(raw)
    except ValueError:
        raise BadInput(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {raw[:40]!r}") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return limit


def _body() -> dict:
    """The JSON object the request carries ({} when it carries none)."""
    if not request.get_data(cache=True):
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadInput("the body must be a JSON object, e.g. {\"reason\": \"...\"}")
    return body


def _action() -> tuple[str, bool]:
    """``(reason, force)`` of an action request, checked: the reason goes to the audit log."""
    body = _body()
    reason = body["reason"] if "reason" in body else request.args.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise BadInput("say why: a JSON body {\"reason\": \"...\"} with a non-empty text reason is required "
                       "(it goes to the audit log)")
    if len(reason) > MAX_REASON_CHARS:
        raise BadInput(f"the reason is over {MAX_REASON_CHARS} characters")
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise BadInput("force must be true or false")
    return reason.strip(), force


def content_disposition(filename: str) -> str:
    """An RFC 6266 ``attachment`` header for a partner-chosen name: an ASCII fallback with
    anything unsafe (controls, quotes, backslashes, path separators, non-ASCII) replaced,
    and the exact name as UTF-8 in ``filename*``."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\/;%' else "_" for c in filename).strip() or "document"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _visible_document(s, document_id: str) -> Document | None:
    return document_for(s, g.principal, document_id)


@bp.post("/documents")
@require("partner", *OPERATORS)
def upload():
    """Store the request body (or the multipart ``file``) as a received document: 202 once durable."""
    principal = g.principal
    partner_id = principal.partner_id if principal.role == "partner" else request.args.get("partner")
    if partner_id is not None and partner_id not in _rt().partners:
        return _error(400, f"unknown partner {partner_id!r}")
    try:
        if request.mimetype == "multipart/form-data":  # the form parser is held to MAX_CONTENT_LENGTH: 413
            upload = request.files.get("file")
            data, filename = (upload.read(), upload.filename or "upload") if upload else (b"", "upload")
        else:
            data = read_body(request, _rt().settings.max_request_bytes)
            filename = request.headers.get("X-Filename") or request.args.get("filename") or "upload"
    except (BodyTooLarge, RequestEntityTooLarge):
        return _error(413, f"request bodies are limited to {_rt().settings.max_request_bytes} bytes")
    if not data:
        return _error(400, "the request carried no document")
    if "\x00" in filename:  # PostgreSQL cannot store it: refuse it as the sender's mistake, not fail later
        return _error(400, "the file name must not contain a NUL character")
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
    limit = _limit()
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
                    headers={"Content-Disposition": content_disposition(filename)})


@bp.post("/documents/<document_id>/reprocess")
@require(*OPERATORS)
def reprocess_document(document_id: str):
    reason, _ = _action()
    entry = audit_entry(g.principal, "document.reprocess", document_id, reason=reason)
    try:
        queued = reprocess(_rt(), document_id, audit=lambda s: s.add(entry))
    except NotReprocessable as exc:
        return _error(409, str(exc))
    return jsonify({"id": document_id, "status": "received", "queued": queued}), 202


@bp.get("/events")
@require(*READERS)
def events():
    q = select(EventRecord).order_by(EventRecord.created_at.desc()).limit(_limit())
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


def _audited(action: str, target: str, reason: str, details=lambda report: report.to_dict()):
    """A replay ``audit`` callback: the row goes into the replay's own transaction."""
    return lambda s, report: s.add(audit_entry(g.principal, action, target, reason=reason, details=details(report)))


@bp.post("/deliveries/<delivery_id>/replay")
@require(*OPERATORS)
def replay_one_delivery(delivery_id: str):
    """Send one delivery again under the same Idempotency-Key (``force`` for a delivered one)."""
    from gateway.routing.replay import replay_delivery

    reason, force = _action()
    try:
        report = replay_delivery(_rt(), delivery_id, force=force, audit=_audited("delivery.replay", delivery_id, reason))
    except LookupError as exc:
        return _error(404, str(exc))
    return jsonify(report.to_dict()), 202


@bp.post("/documents/<document_id>/replay")
@require(*OPERATORS)
def replay_one_document(document_id: str):
    """Replay every delivery of a document's events (dead letters; pending ones nudged)."""
    from gateway.routing.replay import replay_document

    reason, force = _action()
    with _rt().session() as s:
        if s.get(Document, document_id) is None:
            return _error(404, f"no document {document_id!r}")
    report = replay_document(_rt(), document_id, force=force, audit=_audited("document.replay", document_id, reason))
    return jsonify(report.to_dict()), 202


@bp.post("/adapters/<adapter>/dead-letters/replay")
@require(*OPERATORS)
def replay_adapter_dead_letters(adapter: str):
    """Replay all dead letters of one adapter (say, once the ERP is back)."""
    from gateway.routing.replay import replay_dead_letters

    reason, _ = _action()
    if len(adapter) > DeliveryRecord.adapter.type.length:  # no delivery can name it (nor can the audit target)
        return _error(404, f"no adapter {adapter[:40]!r}...")
    report = replay_dead_letters(_rt(), adapter, audit=_audited("dead_letters.replay", f"adapter:{adapter}", reason,
                                                                lambda report: {"requeued": len(report.requeued)}))
    return jsonify(report.to_dict()), 202
