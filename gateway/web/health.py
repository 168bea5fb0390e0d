"""``/healthz`` (is the database and Redis reachable, do our AS2 keys and the partners'
certificates load) and ``/metrics`` (Prometheus text)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import func, select, text

from gateway.store.models import DeliveryRecord, Document

bp = Blueprint("health", __name__)


def _rt():
    return current_app.extensions["gateway"]


@bp.get("/healthz")
def healthz():
    rt = _rt()
    checks = {}
    try:
        with rt.session() as s:
            s.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        rt.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    from gateway.transports.as2_profiles import as2_status

    checks["as2"] = as2_status(rt)
    healthy = all(v == "ok" for v in checks.values())
    return jsonify({"status": "ok" if healthy else "degraded", "checks": checks}), 200 if healthy else 503


@bp.get("/metrics")
def metrics():
    rt = _rt()
    lines = []
    with rt.session() as s:
        lines += ["# HELP gateway_documents Documents by status.", "# TYPE gateway_documents gauge"]
        for status, n in s.execute(select(Document.status, func.count()).group_by(Document.status)):
            lines.append(f'gateway_documents{{status="{status}"}} {n}')
        lines += ["# HELP gateway_deliveries Deliveries by adapter and status.", "# TYPE gateway_deliveries gauge"]
        rows = s.execute(select(DeliveryRecord.adapter, DeliveryRecord.status, func.count())
                         .group_by(DeliveryRecord.adapter, DeliveryRecord.status))
        for adapter, status, n in rows:
            lines.append(f'gateway_deliveries{{adapter="{adapter}",status="{status}"}} {n}')
    from gateway.transports.cert_monitor import metrics_lines

    lines += metrics_lines(rt)
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")
