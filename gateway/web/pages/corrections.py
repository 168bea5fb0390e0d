"""``/corrections``: corrected copies waiting for a second approver (partners whose
profile sets ``corrections: second_approver: true``). Another operator approves one (it
enters as a new document linked to the original) or declines it, with a reason; both
audited (:mod:`gateway.intake.correction_approval`, which the API calls too)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from gateway.intake import correction_approval as approvals
from gateway.intake.resubmit import ResubmitConflict
from gateway.web.pages.access import OPERATORS, allow, not_found, principal, rt

bp = Blueprint("console_corrections", __name__)


def _page(status: int = 200, error: str | None = None):
    return render_template("console/corrections.html", rows=approvals.pending(rt()), error=error,
                           me=principal().actor), status


@bp.get("/corrections")
@allow(*OPERATORS)
def waiting():
    return _page()


def _decide(approval_id: int, approving: bool):
    try:
        if approving:
            receipt = approvals.approve(rt(), approval_id, principal().actor, request.form.get("reason", ""))
        else:
            approvals.decline(rt(), approval_id, principal().actor, request.form.get("reason", ""))
    except LookupError:
        return not_found(f"correction {approval_id}")
    except ResubmitConflict as exc:
        return _page(400 if isinstance(exc, approvals.ReasonRequired) else 409, str(exc))
    if approving:
        flash("Approved: the corrected copy is a new document, linked to the original.", "info")
        return redirect(url_for("console_document.show", document_id=receipt.document_id))
    flash("Declined: the original stays an open rejection.", "info")
    return redirect(url_for("console_corrections.waiting"))


@bp.post("/corrections/<int:approval_id>/approve")
@allow(*OPERATORS)
def approve(approval_id: int):
    return _decide(approval_id, True)


@bp.post("/corrections/<int:approval_id>/decline")
@allow(*OPERATORS)
def decline(approval_id: int):
    return _decide(approval_id, False)
