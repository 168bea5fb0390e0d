"""``/api/v1/purchase-orders/<po>/flow`` and ``/api/v1/partners/<id>/open-steps``.

A partner token sees only its own flows (another's PO answers 404, so numbers cannot be
probed); staff may name the partner with ``?partner=`` and must when two suppliers
share a PO number (409 lists them).
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from gateway.flow.timeline import flow_view, flows_for, open_steps
from gateway.store.models import utcnow
from gateway.web.auth import READERS, require

bp = Blueprint("po_flow_api", __name__, url_prefix="/api/v1")


def _rt():
    return current_app.extensions["gateway"]


def _scope() -> str | None:
    return g.principal.partner_id if g.principal.role == "partner" else request.args.get("partner") or None


@bp.get("/purchase-orders/<path:po_number>/flow")
@require(*READERS)
def show_flow(po_number: str):
    with _rt().session() as s:
        flows = flows_for(s, po_number, _scope())
        if not flows:
            return jsonify({"error": f"no flow for PO {po_number!r}"}), 404
        if len(flows) > 1:
            return jsonify({"error": f"PO {po_number!r} exists for several partners: name one with ?partner=",
                            "partners": [f.partner_id for f in flows]}), 409
        return jsonify(flow_view(_rt(), s, flows[0], utcnow()))


@bp.get("/partners/<partner_id>/open-steps")
@require(*READERS)
def partner_open_steps(partner_id: str):
    if not g.principal.may_see(partner_id) or partner_id not in _rt().partners:
        return jsonify({"error": f"no partner {partner_id!r}"}), 404
    with _rt().session() as s:
        return jsonify({"partner_id": partner_id, "as_of": utcnow().isoformat(),
                        "open_steps": open_steps(_rt(), s, partner_id, utcnow())})
