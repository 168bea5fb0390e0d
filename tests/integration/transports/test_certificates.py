"""Certificate expiry: 30 days' warning in the report and in /metrics; rollover with two
valid certificates (the newest encrypts what we send, either verifies)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from as2_kit import make_runtime, new_keys, write_partner

from gateway.transports.as2_profiles import directory
from gateway.transports.cert_monitor import expiry_report, warn_expiring
from gateway.web.app import create_app
from gateway.web.auth import create_token

NOW = datetime.now(UTC)


def test_expiry_report_and_metrics_warn_30_days_ahead(tmp_path):
    NOW = datetime.now(UTC)  # noqa: N806 - the module's NOW may be minutes old in a long run
    ours = new_keys("BUYERCO")
    soon = new_keys("SOON-AS2", not_before=NOW - timedelta(days=345), days=365)  # ~20 days left
    fine = new_keys("FINE-AS2")
    gone = new_keys("GONE-AS2", not_before=NOW - timedelta(days=100), days=30)
    partners = tmp_path / "partners"
    write_partner(partners, "soon", "SOON-AS2", [soon.cert_pem])
    write_partner(partners, "fine", "FINE-AS2", [fine.cert_pem])
    write_partner(partners, "gone", "GONE-AS2", [gone.cert_pem])
    rt = make_runtime(tmp_path / "home", partners, f"sqlite:///{tmp_path / 'gw.db'}", None, [ours])
    states = {r["partner_id"]: (r["state"], r["days_left"]) for r in expiry_report(rt)}
    assert states["soon"][0] == "expiring" and 19 < states["soon"][1] < 21
    assert states["fine"][0] == "ok" and states["(us)"][0] == "ok"
    assert states["gone"][0] == "expired" and states["gone"][1] < 0
    assert {r["partner_id"] for r in warn_expiring(rt)} == {"soon", "gone"}
    viewer = {"Authorization": "Bearer " + create_token(rt, "prometheus", "viewer")}
    metrics = create_app(rt).test_client().get("/metrics", headers=viewer).get_data(as_text=True)
    from prometheus_client.parser import text_string_to_metric_families

    samples = {f.name: f.samples for f in text_string_to_metric_families(metrics)}
    [soon_days] = [s for s in samples["gateway_certificate_expiry_days"] if s.labels["partner"] == "soon"]
    assert soon_days.labels == {"partner": "soon", "kind": "partner", "file": "cert0.pem"}
    assert 19 < soon_days.value < 21
    assert [s.value for s in samples["gateway_certificates_attention"]] == [2]


def test_metrics_never_name_partners_to_a_caller_without_a_token(tmp_path):
    partners = tmp_path / "partners"
    write_partner(partners, "soon", "SOON-AS2", [new_keys("SOON-AS2").cert_pem])
    rt = make_runtime(tmp_path / "home", partners, f"sqlite:///{tmp_path / 'gw.db'}", None, [new_keys("BUYERCO")])
    client = create_app(rt).test_client()
    anonymous = client.get("/metrics")
    assert anonymous.status_code == 401 and b"soon" not in anonymous.data  # the default: a token is needed
    partner = {"Authorization": "Bearer " + create_token(rt, "p", "partner", "soon")}
    assert client.get("/metrics", headers=partner).status_code == 403
    rt.settings = rt.settings.with_overrides(metrics_access="open")  # a scrape on a private listener
    opened = client.get("/metrics").get_data(as_text=True)
    assert "gateway_certificates_attention" in opened and "soon" not in opened
    viewer = {"Authorization": "Bearer " + create_token(rt, "prometheus", "viewer")}
    assert 'partner="soon"' in client.get("/metrics", headers=viewer).get_data(as_text=True)
    rt.settings = rt.settings.with_overrides(metrics_access="off")
    assert client.get("/metrics", headers=viewer).status_code == 404


def test_rollover_encrypts_to_the_newest_valid_certificate(tmp_path):
    ours = new_keys("BUYERCO")
    old = new_keys("ROLL-AS2 2025", not_before=NOW - timedelta(days=300))
    new = new_keys("ROLL-AS2 2026", not_before=NOW - timedelta(days=1))
    not_yet = new_keys("ROLL-AS2 2027", not_before=NOW + timedelta(days=30))
    partners = tmp_path / "partners"
    write_partner(partners, "roll", "ROLL-AS2", [old.cert_pem, new.cert_pem, not_yet.cert_pem])
    rt = make_runtime(tmp_path / "home", partners, f"sqlite:///{tmp_path / 'gw.db'}", None, [ours])
    d = directory(rt)
    send_with = d.partners(rt.partners["roll"], outbound=True)
    assert [p.encrypt_cert for p in send_with] == [new.cert_pem, old.cert_pem]  # the future one is not used yet
