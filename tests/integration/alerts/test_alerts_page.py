"""``/alerts`` and ``/api/v1/alerts``: what was announced to whom, and who was never
reached; staff only."""

from __future__ import annotations

import sys
from datetime import timedelta

from support import REPO, drain

from gateway.alerts.send import send_due_alerts
from gateway.intake.receive import receive
from gateway.store.models import utcnow
from gateway.web.app import create_app
from gateway.web.auth import create_token
from gateway.web.users import create_user

sys.path.insert(0, str(REPO / "tests" / "integration" / "console"))
from console_support import BAD_855, PASSWORD, sign_in  # noqa: E402


def test_staff_see_who_was_told_and_who_was_not(alerting, smtp_server, monkeypatch):
    rt = alerting
    create_user(rt, "sam", PASSWORD, "support", email="sam@buyer.example")
    create_user(rt, "acme", PASSWORD, "partner", "demo")
    doc = receive(rt, BAD_855, channel="sftp", filename="bad.edi", partner_id="demo").document_id
    drain(rt)
    monkeypatch.setenv("GATEWAY_ALERT_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("GATEWAY_SMTP_URL", "smtp://127.0.0.1:1")
    send_due_alerts(rt, utcnow() + timedelta(seconds=1))
    app = create_app(rt)
    client = app.test_client()
    assert sign_in(client, "sam").status_code == 302
    page = client.get("/alerts").get_data(as_text=True)
    assert "Rejected: bad.edi from demo" in page and f'href="/documents/{doc}"' in page
    assert "edi@acme.example" in page and "sam@buyer.example" in page and "SMTP 127.0.0.1:1" in page
    assert "Rejected: bad.edi" in client.get("/alerts?status=failed").get_data(as_text=True)
    assert "Rejected: bad.edi" not in client.get("/alerts?status=sent").get_data(as_text=True)
    assert "Rejected: bad.edi" not in client.get("/alerts?kind=dead_letter").get_data(as_text=True)
    token = {"Authorization": f"Bearer {create_token(rt, 'ops', 'viewer')}"}
    [alert] = client.get("/api/v1/alerts", headers=token).get_json()["alerts"]
    assert {r["address"]: r["status"] for r in alert["recipients"]} == {"edi@acme.example": "failed",
                                                                        "sam@buyer.example": "failed"}
    partner = app.test_client()
    assert sign_in(partner, "acme").status_code == 302
    assert partner.get("/alerts").status_code == 403
    partner_token = {"Authorization": f"Bearer {create_token(rt, 'acme-erp', 'partner', 'demo')}"}
    assert partner.get("/api/v1/alerts", headers=partner_token).status_code == 403


def test_support_sends_a_failed_alert_again_once_smtp_is_fixed(alerting, smtp_server, monkeypatch):
    import re

    from console_support import csrf_token

    from gateway.store.models_api import AuditEntry

    rt = alerting
    create_user(rt, "sam", PASSWORD, "support")
    create_user(rt, "vic", PASSWORD, "viewer")
    receive(rt, BAD_855, channel="sftp", filename="bad.edi", partner_id="demo")
    drain(rt)
    good = smtp_server.url
    monkeypatch.setenv("GATEWAY_ALERT_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("GATEWAY_SMTP_URL", "smtp://127.0.0.1:1")
    assert send_due_alerts(rt)["failed"] == 1
    monkeypatch.setenv("GATEWAY_SMTP_URL", good)
    app = create_app(rt)
    viewer = app.test_client()
    sign_in(viewer, "vic")
    assert 'class="retry"' not in viewer.get("/alerts").get_data(as_text=True)
    client = app.test_client()
    sign_in(client, "sam")
    page = client.get("/alerts").get_data(as_text=True)
    alert_id = re.search(r'action="/alerts/(\d+)/retry"', page).group(1)
    token = csrf_token(client, "/alerts")
    assert client.post(f"/alerts/{alert_id}/retry", data={"csrf_token": token}).status_code == 303  # no reason
    assert send_due_alerts(rt)["sent"] == 0
    assert viewer.post(f"/alerts/{alert_id}/retry", data={"csrf_token": csrf_token(viewer, "/alerts"),
                                                          "reason": "x"}).status_code == 403
    assert client.post(f"/alerts/{alert_id}/retry", data={"csrf_token": token,
                                                          "reason": "SMTP fixed"}).status_code == 303
    assert send_due_alerts(rt)["sent"] == 1
    assert len(smtp_server.to("edi@acme.example")) == 1
    with rt.session() as s:
        assert s.query(AuditEntry).filter_by(action="alert.retry", reason="SMTP fixed").count() == 1


def test_the_api_sends_a_failed_alert_again(alerting, smtp_server, monkeypatch):
    rt = alerting
    receive(rt, BAD_855, channel="sftp", filename="bad.edi", partner_id="demo")
    drain(rt)
    good = smtp_server.url
    monkeypatch.setenv("GATEWAY_ALERT_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("GATEWAY_SMTP_URL", "smtp://127.0.0.1:1")
    send_due_alerts(rt)
    monkeypatch.setenv("GATEWAY_SMTP_URL", good)
    client = create_app(rt).test_client()
    support = {"Authorization": f"Bearer {create_token(rt, 'ops', 'support')}"}
    viewer = {"Authorization": f"Bearer {create_token(rt, 'watch', 'viewer')}"}
    [alert] = client.get("/api/v1/alerts", headers=viewer).get_json()["alerts"]
    url = f"/api/v1/alerts/{alert['id']}/retry"
    assert client.post(url, headers=viewer, json={"reason": "x"}).status_code == 403
    assert client.post(url, headers=support, json={}).status_code == 400
    assert client.post("/api/v1/alerts/987654/retry", headers=support, json={"reason": "x"}).status_code == 404
    answer = client.post(url, headers=support, json={"reason": "SMTP fixed"})
    assert answer.status_code == 200 and answer.get_json()["recipients_queued"] == 1
    assert send_due_alerts(rt)["sent"] == 1 and len(smtp_server.to("edi@acme.example")) == 1
