"""``/readyz`` (may this gateway take work: see :mod:`gateway.observe.readiness`),
``/healthz`` (is the database and Redis reachable; do our AS2 keys and the partners'
certificates load; under ``gateway up``, is each worker and the embedded Redis running,
and how often was it restarted) and ``/metrics`` (Prometheus text).

``/metrics`` names partners (certificate expiry per partner), so by default it is not
public: ``GATEWAY_METRICS_ACCESS=token`` (the default) wants a bearer token of any
role but ``partner``; ``open`` serves anyone but drops every series labelled with a
partner for a caller without a token (for a scrape on a private listener); ``off``
answers 404.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from gateway.web.auth import authenticate

bp = Blueprint("health", __name__)


def _rt():
    return current_app.extensions["gateway"]


@bp.get("/healthz")
def healthz():
    from gateway.observe.readiness import dependency_checks
    from gateway.transports.as2_profiles import as2_status

    rt = _rt()
    checks = dependency_checks(rt)

    checks["as2"] = as2_status(rt)
    body = {"checks": checks}
    supervisor = current_app.extensions.get("gateway.supervisor")  # set by `gateway up`
    if supervisor is not None:
        body["processes"] = supervisor.status()  # pid, restarts, last exit of each worker and Redis
        checks.update({name: "ok" if p["state"] == "running" else p["state"] for name, p in body["processes"].items()})
    healthy = all(v == "ok" for v in checks.values())
    return jsonify({"status": "ok" if healthy else "degraded", **body}), 200 if healthy else 503


@bp.get("/readyz")
def readyz():
    """Ready to take work: database, Redis, Redis not evicting, workers serving the critical queues."""
    from gateway.observe.readiness import readiness

    ready, checks = readiness(_rt())
    return jsonify({"status": "ready" if ready else "not ready", "checks": checks}), 200 if ready else 503


def _metrics_caller(rt):
    """``(anonymous, refusal)``: who asks for /metrics, or the answer that refuses them."""
    if rt.settings.metrics_access == "off":
        return True, (jsonify({"error": "metrics are off here (GATEWAY_METRICS_ACCESS=off)"}), 404)
    principal = authenticate(rt, request.headers.get("Authorization"))
    if principal is None and rt.settings.metrics_access == "token":
        return True, (jsonify({"error": "/metrics needs a bearer token (GATEWAY_METRICS_ACCESS=token)"}), 401,
                      {"WWW-Authenticate": "Bearer"})
    if principal is not None and principal.role == "partner":
        return False, (jsonify({"error": "the partner role may not read metrics"}), 403)
    return principal is None, None


@bp.get("/metrics")
def metrics():
    rt = _rt()
    anonymous, refusal = _metrics_caller(rt)
    if refusal is not None:
        return refusal
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

    from gateway.observe.metrics import GatewayCollector

    registry = CollectorRegistry(auto_describe=False)
    # Partner ids are for callers with a token: a series labelled with one is left out otherwise.
    registry.register(GatewayCollector(rt, with_partners=not anonymous))
    # The classic text format (version 0.0.4) every Prometheus since 2.0 reads; our names need no escaping.
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_PLAIN_0_0_4)
