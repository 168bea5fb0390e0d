"""deploy/prometheus-rules.yml and deploy/grafana-dashboard.json load, and every gateway
metric they query is one our /metrics really serves (a renamed metric would leave an
alert that can never fire)."""

from __future__ import annotations

import json
import re

import yaml
from prometheus_client.parser import text_string_to_metric_families
from support import REPO

from gateway.web.app import create_app
from gateway.web.auth import create_token

METRIC = re.compile(r"\b(gateway_[a-z_]+)")


def served_names(rt) -> set[str]:
    """Every sample name /metrics can serve (counters with _total, histograms with _bucket, ...)."""
    token = create_token(rt, "prometheus", "viewer")
    text = create_app(rt).test_client().get("/metrics", headers={"Authorization": f"Bearer {token}"})
    names = set()
    for family in text_string_to_metric_families(text.get_data(as_text=True)):
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}.get(family.type, [""])
        names |= {family.name + s for s in suffixes}
    return names


def test_every_alert_rule_queries_a_metric_we_serve(rt):
    rules = yaml.safe_load((REPO / "deploy" / "prometheus-rules.yml").read_text())
    [group] = rules["groups"]
    served = served_names(rt)
    assert len(group["rules"]) >= 8
    for rule in group["rules"]:
        assert rule["alert"] and rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        used = set(METRIC.findall(rule["expr"]))
        assert used <= served, (rule["alert"], used - served)
    alerted = {m for r in group["rules"] for m in METRIC.findall(r["expr"])}
    for needed in ("gateway_dead_letters", "gateway_documents_rejected_total", "gateway_acks_overdue",
                   "gateway_queue_oldest_job_age_seconds", "gateway_certificate_expiry_days", "gateway_workers"):
        assert needed in alerted, needed


def test_every_dashboard_panel_queries_metrics_we_serve(rt):
    dashboard = json.loads((REPO / "deploy" / "grafana-dashboard.json").read_text())
    served = served_names(rt)
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)) and dashboard["uid"]
    for panel in dashboard["panels"]:
        used = {m for t in panel["targets"] for m in METRIC.findall(t["expr"])}
        assert used and used <= served, (panel["title"], used - served)
