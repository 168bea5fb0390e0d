"""``POST /api/v1/documents/<id>/void``: take back an accepted document that was delivered.

JSON body ``{"reason": "..."}`` (required; it goes to every target in the
``document.voided`` event and to the audit log). Operators only (``admin``,
``support``). Answers 200 with the void (``changed: false`` when the document was
voided before: nothing is done again), 404 for a document the token cannot see, 409
when it cannot be voided (the message says why).
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from gateway.processing.void import MAX_REASON, NotVoidable, void_document
from gateway.web.auth import OPERATORS, audit_entry, document_for, require

bp = Blueprint("api_void", __name__, url_prefix="/api/v1")


@bp.post("/documents/<document_id>/void")
@require(*OPERATORS)
def void(document_id: str):
    rt = current_app.extensions["gateway"]
    body = request.get_json(silent=True) if request.get_data(cache=True) else {}
    reason = body.get("reason") if isinstance(body, dict) else None
    if not isinstance(reason, str) or not reason.strip():
        return jsonify({"error": "say why: a JSON body {\"reason\": \"...\"} with a non-empty text reason is "
                                 "required (it goes to every target and the audit log)"}), 400
    if len(reason) > MAX_REASON:
        return jsonify({"error": f"the reason is over {MAX_REASON} characters"}), 400
    with rt.session() as s:
        if document_for(s, g.principal, document_id) is None:
            return jsonify({"error": f"no document {document_id!r}"}), 404
    who = g.principal
    try:
        report = void_document(rt, document_id, reason, audit=lambda s, report: s.add(audit_entry(
            who, "document.void", document_id, reason=reason.strip(), details={"event_id": report.event_id})))
    except NotVoidable as exc:
        return jsonify({"error": str(exc)}), 409
    return jsonify(report.to_dict()), 200
