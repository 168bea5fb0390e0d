"""``/documents/<id>``: one document as support needs it - the raw segments with the
failing one marked beside its finding, the acks, events and deliveries, a timeline from
receipt to delivery, the resolution and resubmission chain, and the audit trail."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import or_, select

from gateway.store.models_api import AuditEntry
from gateway.store.models_users import DocumentResolution, Resubmission
from gateway.store.views import document_detail
from gateway.web.auth import audit
from gateway.web.pages import partner
from gateway.web.pages.access import (
    OPERATORS,
    READERS,
    allow,
    not_found,
    principal,
    rt,
    visible_document,
)
from gateway.web.pages.po_flow import flows_of_document
from gateway.web.pages.raw_view import RawView, raw_view

bp = Blueprint("console_document", __name__)


def timeline(detail: dict, trail: list[dict]) -> list[tuple[str, str]]:
    """(ISO time, what happened), oldest first, from the stored facts only."""
    items = [(detail["received_at"], f"received over {detail['channel']} as {detail['filename']}")]
    if detail["processed_at"]:
        items.append((detail["processed_at"], f"processed: {detail['status']}"
                      + (f" ({detail['reason']})" if detail["reason"] else "")))
    for a in detail["acks"]:
        if a["sent_at"]:
            items.append((a["sent_at"], f"{a['kind']} sent to {a['destination'] or 'the partner'}"))
    for e in detail["events"]:
        items.append((e["created_at"], f"event {e['type']} recorded"))
        for d in e["deliveries"]:
            if d["delivered_at"]:
                items.append((d["delivered_at"], f"delivered to {d['adapter']} after {d['attempts']} attempt(s)"))
            elif d["status"] == "dead_lettered":
                items.append((e["created_at"], f"dead-lettered at {d['adapter']}: {d['last_error'] or ''}"))
    items += [(t["at"], f"{t['actor']}: {t['action']}" + (f" - {t['reason']}" if t["reason"] else ""))
              for t in trail if t["action"] != "document.view"]
    return sorted((i for i in items if i[0]), key=lambda i: i[0])


def _key(e: dict) -> tuple:
    return e.get("code"), e.get("message"), e.get("segment_index"), e.get("element")


def findings(detail: dict, view: RawView) -> list[dict]:
    """The document's and its sets' findings, each once (a set's finding is often also the
    document's), with ``line``: the numbered segment it points at, when the view shows it."""
    lines = {_key(f): line.number for line in view.lines for f in line.findings}
    seen, out = set(), []
    for e in detail["errors"] + [e for t in detail["transaction_sets"] for e in t["errors"]]:
        if _key(e) not in seen:
            seen.add(_key(e))
            out.append({**e, "line": lines.get(_key(e))})
    return out


def audit_trail(s, document_id: str, delivery_ids: list[str]) -> list[dict]:
    q = (select(AuditEntry).where(or_(AuditEntry.target == document_id, AuditEntry.target.in_(delivery_ids)))
         .order_by(AuditEntry.at))
    return [{"at": a.at.isoformat(), "actor": a.actor, "action": a.action, "reason": a.reason,
             "details": a.details} for a in s.scalars(q)]


def chain(s, document_id: str) -> tuple[list[str], list[dict]]:
    """The originals this document corrects (oldest first), and its own resubmissions."""
    back, current = [], document_id
    for _ in range(50):  # a chain is short; the bound guards against a cycle in bad data
        row = s.get(Resubmission, current)
        if row is None:
            break
        back.insert(0, row.original_id)
        current = row.original_id
    forward = [{"document_id": r.document_id, "reason_code": r.reason_code, "note": r.note, "actor": r.actor,
                "at": r.at.isoformat(), "diff": r.diff, "send_ack": r.send_ack}
               for r in s.scalars(select(Resubmission).where(Resubmission.original_id == document_id)
                                  .order_by(Resubmission.at))]
    return back, forward


@bp.get("/documents/<document_id>")
@allow(*READERS)
def show(document_id: str):
    if principal().role == "partner":  # the partner's own view: no deliveries to our systems, no audit trail
        return partner.document_page(document_id)
    with rt().session() as s:
        doc = visible_document(s, document_id)
        if doc is None:
            return not_found(f"document {document_id!r} you may see")
        detail = document_detail(doc)
        deliveries = [d["id"] for e in detail["events"] for d in e["deliveries"]]
        trail = audit_trail(s, document_id, deliveries)
        resolution = s.get(DocumentResolution, document_id)
        resolved = resolution and {"kind": resolution.kind, "by": resolution.resolved_by, "actor": resolution.actor,
                                   "reason": resolution.reason, "at": resolution.at.isoformat()}
        originals, resubmissions = chain(s, document_id)
        flows = flows_of_document(s, document_id)
    view = raw_view(rt().blobs.get(detail["sha256"]), detail["transaction_sets"])
    audit(principal(), "document.view", document_id, details={"via": "console"})
    return render_template("console/document.html", d=detail, view=view, findings=findings(detail, view), trail=trail, resolved=resolved,
                           originals=originals, resubmissions=resubmissions, timeline=timeline(detail, trail),
                           may_act=principal().role in OPERATORS, flows=flows)
