"""An overdue 997/999 for a PO we sent is an alert, recorded when the document is marked
overdue (once), for the roles that subscribe to it; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from as2_kit import Server
from outbound_kit import post_po
from sqlalchemy import select

from gateway.outbound.acks import check_overdue_acks
from gateway.store.models import utcnow
from gateway.store.models_alerts import Alert
from gateway.web.auth import create_token
from gateway.web.users import create_user


def test_an_overdue_997_raises_one_alert_for_support_and_the_buyer(rt, monkeypatch):
    monkeypatch.setenv("GATEWAY_SMTP_URL", "smtp://127.0.0.1:1")  # recorded now, sent by the sweep later
    for role in ("support", "buyer", "viewer"):
        create_user(rt, role, "correct horse battery staple", role, email=f"{role}@buyer.example")
    http = Server(rt)
    try:
        sent = post_po(http.url.rsplit("/as2", 1)[0], create_token(rt, "erp", "buyer"), "po-late-1").json()
    finally:
        http.stop()
    assert check_overdue_acks(rt, utcnow() + timedelta(hours=1)) == 0  # not due yet: nothing
    assert check_overdue_acks(rt, utcnow() + timedelta(days=2)) == 1
    assert check_overdue_acks(rt, utcnow() + timedelta(days=3)) == 0
    with rt.session() as s:
        [alert] = s.scalars(select(Alert)).all()
        assert (alert.kind, alert.partner_id, alert.path) == ("ack_overdue", "demo", f"/documents/{sent['id']}")
        assert alert.subject == "Overdue 997/999: 850 to demo (PO 4500012345)"
        assert sorted(r.address for r in alert.recipients) == ["buyer@buyer.example", "support@buyer.example"]
