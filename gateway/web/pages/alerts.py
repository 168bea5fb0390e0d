"""What was announced to whom: ``/alerts`` (page) and ``GET /api/v1/alerts`` (bearer
token), newest first, each alert with its recipients and whether each was reached.
``?kind=`` filters by kind, ``?status=failed`` shows the alerts someone never received.

Staff only: alerts name every partner's documents and every recipient's address."""

from __future__ import annotations

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select, update

from gateway.alerts.kinds import AlertKind
from gateway.store.models import utcnow
from gateway.store.models_alerts import Alert, AlertRecipient
from gateway.web.auth import audit_entry, require
from gateway.web.pages.access import OPERATORS, STAFF, allow, not_found, principal, rt

bp = Blueprint("console_alerts", __name__)
api_bp = Blueprint("api_alerts", __name__)  # bearer tokens, no cookies: outside the console's CSRF check
PAGE_SIZE = 100
RECIPIENT_STATUSES = ("pending", "sent", "failed")
PATHS = {"/api/v1/alerts": {"get": {  # added to /openapi.json
    "summary": "alerts, newest first, with each recipient and whether it was reached (not for partner tokens)",
    "parameters": [{"name": n, "in": "query", "schema": {"type": "string"}} for n in ("kind", "status", "before")],
    "responses": {"200": {"description": "alerts"}, "403": {"description": "a partner token"}}}},
    "/api/v1/alerts/{alert_id}/retry": {"post": {
        "summary": "send a failed alert again to the recipients it never reached (admin, support; audited)",
        "parameters": [{"name": "alert_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "properties": {"reason": {"type": "string"}}, "required": ["reason"]}}}},
        "responses": {"200": {"description": "how many recipients were queued again"},
                      "400": {"description": "no reason"}, "404": {"description": "no such alert"}}}}}
MAX_REASON = 2000


def alert_rows(args) -> list[dict]:
    q = select(Alert).order_by(Alert.id.desc()).limit(PAGE_SIZE)
    if args.get("kind") in set(AlertKind):
        q = q.where(Alert.kind == args["kind"])
    if args.get("status") in RECIPIENT_STATUSES:
        q = q.where(Alert.id.in_(select(AlertRecipient.alert_id).where(AlertRecipient.status == args["status"])))
    if (args.get("before") or "").isdigit():
        q = q.where(Alert.id < int(args["before"]))
    with rt().session() as s:
        return [{"id": a.id, "kind": a.kind, "partner_id": a.partner_id, "document_id": a.document_id,
                 "subject": a.subject, "path": a.path, "created_at": a.created_at.isoformat(),
                 "recipients": [{"channel": r.channel, "address": r.address, "why": r.why, "status": r.status,
                                 "attempts": r.attempts, "last_error": r.last_error,
                                 "sent_at": r.sent_at.isoformat() if r.sent_at else None} for r in a.recipients]}
                for a in s.scalars(q)]


@bp.get("/alerts")
@allow(*STAFF)
def page():
    args = {k: request.args.get(k, "") for k in ("kind", "status")}
    return render_template("console/alerts.html", title="Alerts", rows=alert_rows(request.args), args=args,
                           kinds=list(AlertKind), statuses=RECIPIENT_STATUSES,
                           may_act=principal().role in OPERATORS)


@api_bp.get("/api/v1/alerts")
@require(*STAFF)
def api():
    return jsonify({"alerts": alert_rows(request.args)})


def send_again(alert_id: int, why: str, via: str) -> int | None:
    """Give the recipients of alert ``alert_id`` it never reached (``failed``) a fresh set of
    attempts, audited with ``why``; how many, or None when there is no such alert."""
    with rt().session() as s:
        if s.get(Alert, alert_id) is None:
            return None
        again = s.execute(update(AlertRecipient).where(AlertRecipient.alert_id == alert_id,
                                                       AlertRecipient.status == "failed")
                          .values(status="pending", attempts=0, next_attempt_at=utcnow(), lease_until=None)).rowcount
        s.add(audit_entry(principal_now(), "alert.retry", f"alert:{alert_id}", reason=why,
                          details={"recipients": again, "via": via}))
        return again


@bp.post("/alerts/<int:alert_id>/retry")
@allow(*OPERATORS)
def retry(alert_id: int):
    """Send a ``failed`` alert again (after fixing the SMTP settings, say). Needs a reason."""
    why = (request.form.get("reason") or "").strip()[:MAX_REASON]
    if not why:
        flash("Say why it is sent again: the reason goes to the audit log.", "error")
        return redirect(url_for("console_alerts.page")), 303
    again = send_again(alert_id, why, "console")
    if again is None:
        return not_found(f"alert {alert_id}")
    flash(f"{again} recipient(s) will be tried again on the next sweep." if again
          else "Nothing to send again: no recipient of this alert failed.", "info")
    return redirect(url_for("console_alerts.page")), 303


@api_bp.post("/api/v1/alerts/<int:alert_id>/retry")
@require(*OPERATORS)
def api_retry(alert_id: int):
    body = request.get_json(silent=True)
    why = body.get("reason") if isinstance(body, dict) else None
    if not isinstance(why, str) or not why.strip() or len(why) > MAX_REASON:
        return jsonify({"error": "say why: a JSON body {\"reason\": \"...\"} (it goes to the audit log)"}), 400
    again = send_again(alert_id, why.strip(), "api")
    if again is None:
        return jsonify({"error": f"no alert {alert_id}"}), 404
    return jsonify({"alert_id": alert_id, "recipients_queued": again})


def principal_now():
    """The caller: a signed-in user (page) or a bearer token (API)."""
    return g.principal if "principal" in g else principal()
