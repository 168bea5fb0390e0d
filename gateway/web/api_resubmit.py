"""``POST /api/v1/documents/<id>/resubmit``: a corrected copy of a rejected document, as
a new document linked to the original (the console's edit-and-resubmit, for scripts).

JSON body: ``document`` (the corrected text), ``reason_code``, ``note`` and optionally
``send_ack``. Operators only (bearer token); audited like every action.
"""

from __future__ import annotations

import json

from flask import Blueprint, current_app, g, jsonify, request

from gateway.intake.resubmit import (
    AwaitingApproval,
    Correction,
    NotResubmittable,
    ResubmitConflict,
    resubmit,
)
from gateway.web.auth import OPERATORS, audit, require
from gateway.web.body import BodyTooLarge, read_body

bp = Blueprint("api_resubmit", __name__, url_prefix="/api/v1")


@bp.post("/documents/<document_id>/resubmit")
@require(*OPERATORS)
def resubmit_document(document_id: str):
    rt = current_app.extensions["gateway"]
    try:
        body = json.loads(read_body(request, rt.settings.max_request_bytes) or b"null")
    except BodyTooLarge as exc:
        return jsonify({"error": str(exc)}), 413
    except ValueError:
        return jsonify({"error": "the body must be JSON"}), 400
    if not isinstance(body, dict) or not isinstance(body.get("document"), str):
        return jsonify({"error": 'a JSON object with "document", "reason_code" and "note" is required'}), 400
    try:
        data = body["document"].encode("latin-1")
        fix = Correction(data, str(body.get("reason_code", "")), str(body.get("note", ""))[:2000], g.principal.actor,
                         bool(body.get("send_ack")))
        receipt = resubmit(rt, document_id, fix)
    except UnicodeEncodeError:
        return jsonify({"error": "the document holds characters an X12 document cannot carry"}), 400
    except LookupError as exc:
        return jsonify({"error": str(exc)}), 404
    except ResubmitConflict as exc:
        return jsonify({"error": str(exc)}), 409
    except NotResubmittable as exc:
        return jsonify({"error": str(exc)}), 400
    if isinstance(receipt, AwaitingApproval):  # the partner wants a second operator: POST /corrections/<id>/approve
        audit(g.principal, "document.resubmit", document_id, reason=fix.note,
              details={"via": "api", "awaiting_approval": receipt.approval_id, "reason_code": fix.reason_code,
                       "send_ack": fix.send_ack})
        return jsonify({"status": "awaiting_approval", "approval_id": receipt.approval_id,
                        "original_id": document_id}), 202
    audit(g.principal, "document.resubmit", document_id, reason=fix.note,
          details={"via": "api", "new_document_id": receipt.document_id, "reason_code": fix.reason_code,
                   "send_ack": fix.send_ack})
    return jsonify({"id": receipt.document_id, "original_id": document_id, "status": "received",
                    "correlation_id": receipt.correlation_id, "sha256": receipt.sha256}), 202
