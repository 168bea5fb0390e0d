"""``/api/v1/bulk``: bulk actions for scripts, previewed then confirmed (the console's
``/bulk`` page calls the same functions, :mod:`gateway.actions.bulk`).

``POST /api/v1/bulk/<action>/preview`` with the filter as a JSON object answers what the
action would touch now: the count, per partner, a sample and a ``token``. ``POST
/api/v1/bulk/previews/<token>/confirm`` with ``{"reason": "..."}`` applies the action to
exactly the previewed ids (202), once, for the token's own holder. Operators only.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from gateway.actions import bulk
from gateway.web.auth import OPERATORS, require

bp = Blueprint("api_bulk", __name__, url_prefix="/api/v1/bulk")
# URL segment -> action: the URL names what happens in the words of the console.
ACTIONS = {"replay-dead-letters": bulk.REPLAY_DEAD_LETTERS, "reprocess-rejected": bulk.REPROCESS_REJECTED}


def _json() -> dict:
    body = request.get_json(silent=True) if request.get_data(cache=True) else {}
    if not isinstance(body, dict):
        raise bulk.BulkError("the body must be a JSON object")
    return body


def _error(status: int, message: str):
    return jsonify({"error": message}), status


@bp.post("/<action>/preview")
@require(*OPERATORS)
def preview(action: str):
    if action not in ACTIONS:
        return _error(404, f"no bulk action {action[:40]!r}; known: {', '.join(ACTIONS)}")
    try:
        shown = bulk.preview(current_app.extensions["gateway"], g.principal.actor, ACTIONS[action], _json())
    except bulk.BulkError as exc:
        return _error(400, str(exc))
    return jsonify(shown.to_dict())


@bp.get("/previews/<token>")
@require(*OPERATORS)
def show_preview(token: str):
    try:
        shown = bulk.load_preview(current_app.extensions["gateway"], g.principal.actor, token)
    except bulk.PreviewUnusable as exc:
        return _error(404, str(exc))
    return jsonify(shown.to_dict())


@bp.post("/previews/<token>/confirm")
@require(*OPERATORS)
def confirm(token: str):
    try:
        result = bulk.confirm(current_app.extensions["gateway"], g.principal.actor, token, _json().get("reason"))
    except bulk.NoSuchPreview as exc:
        return _error(404, str(exc))
    except bulk.PreviewUnusable as exc:
        return _error(409, str(exc))
    except bulk.BulkError as exc:
        return _error(400, str(exc))
    return jsonify(result.to_dict()), 202


_ERR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_FILTERS = {
    "replay-dead-letters": {"adapter": "the adapter whose dead letters to replay (required), e.g. erp_http",
                            "partner": "only this partner's",
                            "dead_lettered_from": "dead-lettered at or after (date or ISO 8601 date-time, UTC)",
                            "dead_lettered_to": "dead-lettered up to (a date: that whole day)"},
    "reprocess-rejected": {"map_version": "the map version that rejected them (required), as the document shows it",
                           "partner": "only this partner's", "received_from": "received at or after",
                           "received_to": "received up to (a date: that whole day)"},
}
_PREVIEW = {"type": "object", "properties": {
    "token": {"type": "string"}, "kind": {"type": "string"}, "filters": {"type": "object"},
    "count": {"type": "integer"}, "by_partner": {"type": "object"}, "sample": {"type": "array", "items": {
        "type": "object"}}, "expires_at": {"type": "string", "format": "date-time"}}}
OPENAPI_PATHS = {
    **{f"/api/v1/bulk/{name}/preview": {"post": {
        "summary": f"preview: {name.replace('-', ' ')} (what the filter matches now: count, per partner, a "
                   "sample, and a token that confirms exactly these)",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": [bulk.REQUIRED[ACTIONS[name]]],
            "properties": {k: {"type": "string", "description": v} for k, v in fields.items()}}}}},
        "responses": {"200": {"description": "preview", "content": {"application/json": {"schema": _PREVIEW}}},
                      "400": _ERR, "401": _ERR, "403": _ERR}}} for name, fields in _FILTERS.items()},
    "/api/v1/bulk/previews/{token}": {"get": {
        "summary": "a preview again (only its own holder's, while it can be confirmed)",
        "parameters": [{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "preview", "content": {"application/json": {"schema": _PREVIEW}}},
                      "404": _ERR}}},
    "/api/v1/bulk/previews/{token}/confirm": {"post": {
        "summary": "apply a previewed bulk action to exactly the previewed ids, once (one audit row)",
        "parameters": [{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}}}}},
        "responses": {"202": {"description": "applied: ids applied and skipped (with why), the audit entry id"},
                      "400": _ERR, "403": _ERR, "404": _ERR, "409": _ERR}}},
}
