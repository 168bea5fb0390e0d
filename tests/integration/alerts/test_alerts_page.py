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
