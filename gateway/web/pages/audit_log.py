"""The audit log, read-only: ``/audit`` (page) and ``/api/v1/audit`` (bearer token).

Partners never see it: it names every partner's documents and every operator."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from sqlalchemy import select

from gateway.store.models_api import AuditEntry
from gateway.web.auth import require
from gateway.web.pages.access import STAFF, allow, rt

bp = Blueprint("console_audit", __name__)
PAGE_SIZE = 100


def entries(args) -> list[dict]:
    """Newest first, filtered by ``actor``, ``action``, ``target`` (exact) and ``before`` (an entry id)."""
    q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(PAGE_SIZE)
    for name in ("actor", "action", "target"):
        if args.get(name):
            q = q.where(getattr(AuditEntry, name) == args[name])
    if (args.get("before") or "").isdigit():
        q = q.where(AuditEntry.id < int(args["before"]))
    with rt().session() as s:
        return [{"id": a.id, "at": a.at.isoformat(), "actor": a.actor, "action": a.action, "target": a.target,
                 "reason": a.reason, "details": a.details} for a in s.scalars(q)]


@bp.get("/audit")
@allow(*STAFF)
def page():
    rows = entries(request.args)
    return render_template("console/audit.html", rows=rows, args={k: request.args.get(k, "") for k in
                                                                  ("actor", "action", "target")})


@bp.get("/api/v1/audit")
@require(*STAFF)
def api():
    return jsonify({"entries": entries(request.args)})
