"""Routes as data: defaults, environment, per-partner overrides, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import load_settings
from gateway.routing.routes import RouteConfigError, adapter_spec, build_adapter, routes_for


@pytest.fixture
def settings(tmp_path, monkeypatch):
    for key in ("GATEWAY_PLANNING_URL", "GATEWAY_WEBHOOK_URL", "GATEWAY_WEBHOOK_SECRET", "GATEWAY_EVENTS_DIR",
                "GATEWAY_ROUTES_FILE"):
        monkeypatch.delenv(key, raising=False)
    (tmp_path / "partners").mkdir()
    return load_settings({"GATEWAY_HOME": str(tmp_path), "GATEWAY_ERP_URL": "http://erp/events",
                          "GATEWAY_PARTNERS_DIR": str(tmp_path / "partners")})


def names(routes):
    return [(r.adapter, r.queue) for r in routes]


def test_only_configured_targets_get_routes(settings, monkeypatch):
    assert names(routes_for("delivery_date.changed", settings)) == [("erp_http", "erp")]
    monkeypatch.setenv("GATEWAY_PLANNING_URL", "http://planning/receipts")
    monkeypatch.setenv("GATEWAY_WEBHOOK_URL", "http://hooks/x")
    assert names(routes_for("delivery_date.changed", settings)) == [("erp_http", "erp"), ("planning_http", "planning")]
    monkeypatch.setenv("GATEWAY_WEBHOOK_SECRET", "k")  # a webhook needs its secret too
    monkeypatch.setenv("GATEWAY_EVENTS_DIR", "/tmp/events")
    assert names(routes_for("delivery_date.changed", settings)) == [
        ("erp_http", "erp"), ("file", "notify"), ("planning_http", "planning"), ("webhook", "notify")]
    assert names(routes_for("purchase_order.acknowledged", settings)) == [("erp_http", "erp"), ("file", "notify")]


def test_retry_policies_and_timeouts_per_adapter(settings, monkeypatch):
    monkeypatch.setenv("GATEWAY_WEBHOOK_URL", "http://hooks/x")
    monkeypatch.setenv("GATEWAY_WEBHOOK_SECRET", "k")
    assert adapter_spec("erp_http", settings).retry.max_attempts == settings.delivery_max_attempts
    webhook = adapter_spec("webhook", settings)
    assert webhook.retry.max_attempts == 5 and build_adapter("webhook", settings).timeout == 5.0
    delays = [adapter_spec("erp_http", settings).retry.delay(n).total_seconds() for n in (1, 2, 3, 20)]
    base = settings.delivery_backoff_seconds
    assert base / 2 <= delays[0] <= base and 2 * base / 2 <= delays[1] <= 2 * base and delays[3] <= 3600


def test_a_partner_file_overrides_options_and_adds_routes(settings, monkeypatch):
    monkeypatch.setenv("GATEWAY_WEBHOOK_SECRET", "default-secret")
    folder = settings.partners_dir / "acme"
    folder.mkdir()
    (folder / "routes.yaml").write_text(
        "adapters:\n"
        "  webhook: {url: 'https://acme.example/hooks', secret: '${ACME_HOOK_SECRET:-acme-secret}'}\n"
        "routes:\n"
        "  - events: [purchase_order.acknowledged]\n"
        "    adapters: [webhook]\n")
    assert names(routes_for("purchase_order.acknowledged", settings, "acme")) == [("erp_http", "erp"),
                                                                                   ("webhook", "notify")]
    assert build_adapter("webhook", settings, "acme").secret == "acme-secret"
    assert names(routes_for("purchase_order.acknowledged", settings, "other")) == [("erp_http", "erp")]
    (folder / "routes.yaml").write_text("replace_routes: true\nroutes: []\n")
    assert routes_for("purchase_order.acknowledged", settings, "acme") == []


@pytest.mark.parametrize("text, message", [
    ("adapters: {x: {type: ftp}}\nroutes: []\n", "no adapter type 'ftp'"),
    ("adapters: {erp_http: {queue: fast}}\nroutes: []\n", "queue 'fast'"),
    ("adapters: {}\nroutes: [{events: ['*'], adapters: [nowhere]}]\n", "unknown adapters ['nowhere']"),
    ("adapters: {erp_http: {retry: {max_attempts: many}}}\nroutes: []\n", "must be numbers"),
    ("- just a list\n", "expected a mapping"),
    ("adapters: {file: {}}\nroutes: [{events: ['*'], adapters: [file], test: 'yes'}]\n", "`test` must be true or false"),
])
def test_a_broken_routes_file_fails_loudly(settings, monkeypatch, tmp_path, text, message):
    path = Path(tmp_path / "routes.yaml")
    path.write_text(text)
    monkeypatch.setenv("GATEWAY_ROUTES_FILE", str(path))
    with pytest.raises(RouteConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        routes_for("purchase_order.acknowledged", settings)


def test_test_data_takes_only_test_routes_and_production_never_does(settings, monkeypatch, tmp_path):
    path = Path(tmp_path / "routes.yaml")
    path.write_text("adapters: {erp_http: {url: http://erp}, erp_test: {type: erp_http, queue: erp, url: http://t}}\n"
                    "routes: [{events: ['*'], adapters: [erp_http]}, {events: ['*'], adapters: [erp_test], test: true}]\n")
    monkeypatch.setenv("GATEWAY_ROUTES_FILE", str(path))
    assert [r.adapter for r in routes_for("shipment.noticed", settings)] == ["erp_http"]
    assert [r.adapter for r in routes_for("shipment.noticed", settings, test=True)] == ["erp_test"]
