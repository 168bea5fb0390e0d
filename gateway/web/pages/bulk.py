"""``/bulk``: bulk actions on a search result, previewed before they happen.

Support picks the action and its filter (after an ERP outage: the dead letters of one
adapter from one partner in a time window; after a map fix: every open rejection of one
map version), sees how many and a sample, and confirms with a reason. The confirmation
acts on the previewed ids only (:mod:`gateway.actions.bulk`), writes one audit row, and
is the same function ``POST /api/v1/bulk/...`` calls. Operators only.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from gateway.actions import bulk
from gateway.web.pages.access import OPERATORS, allow, principal, rt

bp = Blueprint("console_bulk", __name__)
LABELS = {bulk.REPLAY_DEAD_LETTERS: "Replay dead letters", bulk.REPROCESS_REJECTED: "Reprocess rejected documents"}


def _form(error: str | None = None, status: int = 200):
    with rt().session() as s:
        choices = bulk.choices(s)
    return render_template("console/bulk.html", choices=choices, partners=sorted(rt().partners), args=request.values,
                           labels=LABELS, error=error), status


@bp.get("/bulk")
@allow(*OPERATORS)
def start():
    return _form()


@bp.post("/bulk/preview")
@allow(*OPERATORS)
def preview():
    try:
        shown = bulk.preview(rt(), principal().actor, request.form.get("kind", ""), request.form)
    except bulk.BulkError as exc:
        return _form(str(exc), 400)
    return redirect(url_for("console_bulk.review", token=shown.token))


@bp.get("/bulk/previews/<token>")
@allow(*OPERATORS)
def review(token: str):
    try:
        shown = bulk.load_preview(rt(), principal().actor, token)
    except bulk.PreviewUnusable as exc:
        return render_template("console/error.html", title="Preview not usable", message=str(exc)), 404
    return render_template("console/bulk_preview.html", p=shown, label=LABELS[shown.kind])


@bp.post("/bulk/previews/<token>/confirm")
@allow(*OPERATORS)
def confirm(token: str):
    try:
        result = bulk.confirm(rt(), principal().actor, token, request.form.get("reason", ""))
    except bulk.NoSuchPreview as exc:
        return render_template("console/error.html", title="Preview not usable", message=str(exc)), 404
    except bulk.PreviewUnusable as exc:
        return render_template("console/error.html", title="Preview not usable", message=str(exc)), 409
    except bulk.BulkError as exc:  # no reason: show the preview again, saying why
        shown = bulk.load_preview(rt(), principal().actor, token)
        return render_template("console/bulk_preview.html", p=shown, label=LABELS[shown.kind], error=str(exc)), 400
    return render_template("console/bulk_done.html", r=result, label=LABELS[result.kind])
