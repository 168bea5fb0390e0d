"""The built-in demo ERP receiver, used by `gateway up` when no GATEWAY_ERP_URL is set,
so a newcomer sees the whole path. It behaves like a real idempotent consumer: a
repeated ``Idempotency-Key`` is answered 200 and stored once."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gateway.store.models import DemoPosting

bp = Blueprint("demo_erp", __name__, url_prefix="/demo/erp")


def _rt():
    return current_app.extensions["gateway"]


@bp.post("/events")
def receive_event():
    key = request.headers.get("Idempotency-Key", "")
    body = request.get_json(silent=True)
    if not key or not isinstance(body, dict) or "type" not in body:
        return jsonify({"error": "expected a JSON event with an Idempotency-Key header"}), 400
    rt = _rt()
    try:
        with rt.session() as s:
            s.add(DemoPosting(idempotency_key=key, event_type=body["type"], body=body))
        return jsonify({"status": "created", "idempotency_key": key}), 201
    except IntegrityError:
        with rt.session() as s:
            posting = s.scalar(select(DemoPosting).where(DemoPosting.idempotency_key == key))
            posting.repeats += 1
        return jsonify({"status": "already received", "idempotency_key": key}), 200


def list_postings(rt, limit: int = 200) -> list[dict]:
    with rt.session() as s:
        rows = s.scalars(select(DemoPosting).order_by(DemoPosting.id.desc()).limit(limit)).all()
        return [{"idempotency_key": p.idempotency_key, "event_type": p.event_type,
                 "received_at": p.received_at.isoformat(), "repeats": p.repeats, "event": p.body} for p in rows]


@bp.get("/postings.json")
def postings_json():
    return jsonify(list_postings(_rt()))


@bp.get("")
def postings_page():
    return render_template("demo_erp.html", postings=list_postings(_rt()))
