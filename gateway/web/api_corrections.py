"""``/api/v1/corrections``: corrected copies waiting for a second approver, for scripts
(the console's ``/corrections``). Operators only; the approver must not be the requester."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from gateway.intake import correction_approval as approvals
from gateway.intake.resubmit import ResubmitConflict
from gateway.web.auth import OPERATORS, require

bp = Blueprint("api_corrections", __name__, url_prefix="/api/v1")


def _reason():
    body = request.get_json(silent=True) if request.get_data(cache=True) else {}
    return body.get("reason") if isinstance(body, dict) else None


@bp.get("/corrections")
@require(*OPERATORS)
def waiting():
    return jsonify({"corrections": approvals.pending(current_app.extensions["gateway"])})


@bp.post("/corrections/<int:approval_id>/approve")
@require(*OPERATORS)
def approve(approval_id: int):
    try:
        receipt = approvals.approve(current_app.extensions["gateway"], approval_id, g.principal.actor, _reason())
    except LookupError as exc:
        return jsonify({"error": str(exc)}), 404
    except ResubmitConflict as exc:
        return jsonify({"error": str(exc)}), 400 if isinstance(exc, approvals.ReasonRequired) else 409
    return jsonify({"id": receipt.document_id, "status": "received", "correlation_id": receipt.correlation_id,
                    "sha256": receipt.sha256}), 202


@bp.post("/corrections/<int:approval_id>/decline")
@require(*OPERATORS)
def decline(approval_id: int):
    try:
        return jsonify(approvals.decline(current_app.extensions["gateway"], approval_id, g.principal.actor,
                                         _reason()))
    except LookupError as exc:
        return jsonify({"error": str(exc)}), 404
    except ResubmitConflict as exc:
        return jsonify({"error": str(exc)}), 400 if isinstance(exc, approvals.ReasonRequired) else 409


_ERR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_ID = [{"name": "approval_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_REASON = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}}}}}
OPENAPI_PATHS = {
    "/api/v1/corrections": {"get": {
        "summary": "corrected copies waiting for a second approver (partners with corrections.second_approver)",
        "responses": {"200": {"description": "corrections"}, "403": _ERR}}},
    "/api/v1/corrections/{approval_id}/approve": {"post": {
        "summary": "approve a correction (not your own): it enters as a new document linked to the original",
        "parameters": _ID, "requestBody": _REASON,
        "responses": {"202": {"description": "received", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Receipt"}}}}, "400": _ERR, "404": _ERR, "409": _ERR}}},
    "/api/v1/corrections/{approval_id}/decline": {"post": {
        "summary": "decline (or withdraw) a correction; the original stays an open rejection",
        "parameters": _ID, "requestBody": _REASON,
        "responses": {"200": {"description": "declined"}, "400": _ERR, "404": _ERR, "409": _ERR}}},
}
