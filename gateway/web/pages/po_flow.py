"""``/purchase-orders/<po>/flow``: one PO's flow as a timeline (each step's status, due
time and documents, the alerts raised, ordered / shipped / invoiced per line), and
``/partners/<id>/open-steps``: what a partner still owes. A partner user sees only its
own; another partner's PO or list answers 404, as the API does."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from gateway.flow.timeline import flow_view, flows_for, open_steps
from gateway.store.models import utcnow
from gateway.web.pages.access import READERS, allow, not_found, principal, rt

bp = Blueprint("console_po_flow", __name__)


@bp.get("/purchase-orders/<path:po_number>/flow")
@allow(*READERS)
def show(po_number: str):
    p = principal()
    scope = p.partner_id if p.role == "partner" else request.args.get("partner") or None
    with rt().session() as s:
        flows = flows_for(s, po_number, scope)
        if not flows:
            return not_found(f"flow for PO {po_number!r} you may see")
        if len(flows) > 1:
            return render_template("console/po_flow_choose.html", po_number=po_number,
                                   partners=[f.partner_id for f in flows])
        view = flow_view(rt(), s, flows[0], utcnow())
    return render_template("console/po_flow.html", f=view)


@bp.get("/partners/<partner_id>/open-steps")
@allow(*READERS)
def owed(partner_id: str):
    if not principal().may_see(partner_id) or partner_id not in rt().partners:
        return not_found(f"partner {partner_id!r} you may see")
    with rt().session() as s:
        steps = open_steps(rt(), s, partner_id, utcnow())
    return render_template("console/open_steps.html", partner_id=partner_id, steps=steps, as_of=utcnow().isoformat())


def flows_of_document(s, document_id: str) -> list[tuple[str, str]]:
    """(partner, PO number) of every flow the document is a step of: the document page links them."""
    from sqlalchemy import select

    from gateway.flow.models import FlowStep, PurchaseOrderFlow

    q = (select(PurchaseOrderFlow.partner_id, PurchaseOrderFlow.po_number).join(FlowStep)
         .where(FlowStep.document_id == document_id).distinct().limit(50))
    return [(partner, po) for partner, po in s.execute(q)]
