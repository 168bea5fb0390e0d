"""The console's remaining single-document actions for scripts: ``POST
/api/v1/documents/<id>/ignore`` (close an open rejection with a reason) and ``POST
/api/v1/validate`` (the report ``gateway validate --json`` gives, for a document in the
body: what the console's editor shows as you type). Operators only."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from gateway.actions.ignore import NotIgnorable, ignore_document
from gateway.processing.validate import validate_bytes
from gateway.web.auth import OPERATORS, require
from gateway.web.body import BodyTooLarge, read_body

bp = Blueprint("api_support", __name__, url_prefix="/api/v1")


@bp.post("/documents/<document_id>/ignore")
@require(*OPERATORS)
def ignore(document_id: str):
    body = request.get_json(silent=True) if request.get_data(cache=True) else {}
    reason = body.get("reason") if isinstance(body, dict) else None
    if not isinstance(reason, str) or not reason.strip():
        return jsonify({"error": 'say why: a JSON body {"reason": "..."} is required (it goes to the audit log)'}), 400
    try:
        ignore_document(current_app.extensions["gateway"], g.principal.actor, document_id, reason, via="api")
    except LookupError as exc:
        return jsonify({"error": str(exc)}), 404
    except NotIgnorable as exc:
        return jsonify({"error": str(exc)}), 409
    return jsonify({"id": document_id, "resolution": "ignored"})


@bp.post("/validate")
@require(*OPERATORS)
def validate():
    rt = current_app.extensions["gateway"]
    try:
        data = read_body(request, rt.settings.max_request_bytes)
    except BodyTooLarge as exc:
        return jsonify({"error": str(exc)}), 413
    if not data:
        return jsonify({"error": "the request carried no document"}), 400
    return jsonify(validate_bytes(data, request.headers.get("X-Filename", "upload")[:255]))


_ERR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
OPENAPI_PATHS = {
    "/api/v1/documents/{document_id}/ignore": {"post": {
        "summary": "close an open rejection on purpose, with a reason (the document is not changed)",
        "parameters": [{"name": "document_id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}}}}},
        "responses": {"200": {"description": "ignored"}, "400": _ERR, "403": _ERR, "404": _ERR, "409": _ERR}}},
    "/api/v1/validate": {"post": {
        "summary": "validate a document without storing it: the `gateway validate --json` report",
        "requestBody": {"required": True, "content": {"application/octet-stream": {"schema": {
            "type": "string", "format": "binary"}}}},
        "responses": {"200": {"description": "report: file, format, valid, errors, transactions"},
                      "400": _ERR, "403": _ERR, "413": _ERR}}},
}
