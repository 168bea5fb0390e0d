"""``/api/v1`` acks: the TA1/997/999 we sent for a received document, as JSON or as the
X12 file. Any role may read them; a ``partner`` token only its own partner's (another's
is answered 404, as if it did not exist), as for documents."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify

from gateway.domain.status import AckStatus
from gateway.processing.acks import ack_filename
from gateway.store.models import AckRecord
from gateway.web.api import content_disposition
from gateway.web.auth import READERS, audit, document_for, require

bp = Blueprint("api_acks", __name__, url_prefix="/api/v1")
_ACK_ID = {"name": "ack_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_404 = {"description": "no such ack, or not yours"}
PATHS = {  # added to /openapi.json
    "/api/v1/documents/{document_id}/acks": {"get": {
        "summary": "the acks we sent for a received document (a partner token: its own only)",
        "parameters": [{"name": "document_id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "acks"}, "404": _404}}},
    "/api/v1/acks/{ack_id}/raw": {"get": {
        "summary": "download one ack as the X12 file we sent",
        "parameters": [_ACK_ID],
        "responses": {"200": {"description": "the X12 text", "content": {"application/edi-x12": {}}}, "404": _404}}},
}


def ack_view(a: AckRecord) -> dict:
    return {"id": a.id, "kind": a.kind, "interchange_control_number": a.interchange_control_number,
            "acknowledges": a.acknowledged_control_number, "status": a.status,
            "sent_at": a.sent_at.isoformat() if a.sent_at else None, "filename": ack_filename(a)}


def _shown(a: AckRecord) -> bool:
    """A partner sees the acks that went to it (not one withheld for support's corrected copy)."""
    return g.principal.role != "partner" or a.status == AckStatus.SENT


@bp.get("/documents/<document_id>/acks")
@require(*READERS)
def document_acks(document_id: str):
    with current_app.extensions["gateway"].session() as s:
        doc = document_for(s, g.principal, document_id)
        if doc is None:
            return jsonify({"error": f"no document {document_id!r}"}), 404
        return jsonify({"document_id": document_id, "acks": [ack_view(a) for a in doc.acks if _shown(a)]})


@bp.get("/acks/<int:ack_id>/raw")
@require(*READERS)
def ack_raw(ack_id: int):
    with current_app.extensions["gateway"].session() as s:
        ack = s.get(AckRecord, ack_id)
        if ack is None or not _shown(ack) or document_for(s, g.principal, ack.document_id) is None:
            return jsonify({"error": f"no ack {ack_id}"}), 404
        text, name = ack.text, ack_filename(ack)
    audit(g.principal, "ack.download", str(ack_id))
    return Response(text, mimetype="application/edi-x12", headers={"Content-Disposition": content_disposition(name)})
