"""``/api/v1/purchase-orders``: the ERP issues a PO; we send the partner its 850.

``POST`` with an ``Idempotency-Key`` header and ``{"partner_id", "payload"}`` (the
``purchase_order.issued`` payload; ``type``, when given, must be that). The same key and
body again answers 200 with what the first request made and sends nothing; the same key
with another body is 409. Status codes: 201 recorded and sent, 200 a repeat, 400 a bad
request, 409 a reused key, 422 a PO that cannot become a valid 850 (nothing recorded),
503 recorded but our side could not send it yet (repeat the request with the same key).
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import select

from gateway.outbound.issue import IssueRefused, issue_purchase_order, summary
from gateway.outbound.send import SendFailed, send_outbound
from gateway.routing.outbox import relay
from gateway.store.models_outbound import OutboundDocument
from gateway.web.auth import READERS, audit, require

bp = Blueprint("purchase_orders", __name__, url_prefix="/api/v1")
ISSUERS = ("admin", "buyer")
KEY = re.compile(r"^[A-Za-z0-9_-]{1,120}$")  # RQ job ids and our event ids allow no more


def _rt():
    return current_app.extensions["gateway"]


def _error(status: int, message: str, errors=None):
    body = {"error": message}
    if errors:
        body["errors"] = errors
    return jsonify(body), status


@bp.post("/purchase-orders")
@require(*ISSUERS)
def issue():
    key = request.headers.get("Idempotency-Key", "")
    if not KEY.fullmatch(key):
        return _error(400, "an Idempotency-Key header is required: 1-120 characters of A-Z a-z 0-9 _ -")
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("payload"), dict):
        return _error(400, 'the body must be JSON {"partner_id": "...", "payload": {purchase_order.issued payload}}')
    if body.get("type", "purchase_order.issued") != "purchase_order.issued":
        return _error(400, f"type must be purchase_order.issued, not {body.get('type')!r}")
    partner_id = body.get("partner_id")
    if not isinstance(partner_id, str):
        return _error(400, "partner_id (the supplier to send the 850 to) is required")
    try:
        issued = issue_purchase_order(_rt(), partner_id, body["payload"], key)
    except IssueRefused as exc:
        return _error(exc.status, str(exc), exc.errors)
    if issued.created:
        relay(_rt(), issued.deliveries, [])
        audit(g.principal, "purchase_order.issue", issued.record["id"],
              details={"partner": partner_id, "po_number": issued.record["po_number"], "key": key})
    try:
        send_outbound(_rt(), issued.record["id"])
    except SendFailed as exc:
        return _error(503, f"{exc}; repeat the request with the same Idempotency-Key to send it")
    record = show_record(issued.record["id"])
    return jsonify({**record, "repeat": not issued.created}), 201 if issued.created else 200


def show_record(outbound_id: str) -> dict | None:
    with _rt().session() as s:
        row = s.get(OutboundDocument, outbound_id)
        return summary(row) if row is not None else None


@bp.get("/purchase-orders/outbound")
@require(*READERS)
def list_outbound():
    """Outbound documents, newest first; ``?ack_status=overdue`` for the ones to chase."""
    q = select(OutboundDocument).order_by(OutboundDocument.created_at.desc())
    q = q.limit(min(int(request.args.get("limit", 100)), 1000))
    if g.principal.role == "partner":
        q = q.where(OutboundDocument.partner_id == g.principal.partner_id)
    elif request.args.get("partner"):
        q = q.where(OutboundDocument.partner_id == request.args["partner"])
    for column in ("ack_status", "status", "po_number"):
        if request.args.get(column):
            q = q.where(getattr(OutboundDocument, column) == request.args[column])
    with _rt().session() as s:
        return jsonify({"outbound": [summary(r) for r in s.scalars(q)]})


@bp.get("/purchase-orders/outbound/<outbound_id>")
@require(*READERS)
def show_outbound(outbound_id: str):
    record = show_record(outbound_id)
    if record is None or not g.principal.may_see(record["partner_id"]):
        return _error(404, f"no outbound document {outbound_id!r}")
    return jsonify(record)
