"""Alerts end to end: a rejection, a dead letter and an expiring certificate are recorded
with what caused them and reach each recipient once, by e-mail (a real SMTP server) and
the signed alert webhook (a real HTTP receiver); SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select
from support import SAMPLES, drain

from gateway.adapters.webhook import verify_signature
from gateway.alerts.channels import message_id
from gateway.alerts.record import record_certificate_alerts
from gateway.alerts.send import LEASE, _claim, send_due_alerts
from gateway.intake.receive import receive
from gateway.store.models import utcnow
from gateway.store.models_alerts import Alert, AlertRecipient
from gateway.web.users import create_user

PASSWORD = "correct horse battery staple"
BAD_855 = (SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi").read_bytes().replace(
    b"ACK*IA*100*EA*068*20261201", b"ACK*IA*100*EA*068*20261301")


def _people(rt):
    create_user(rt, "sam", PASSWORD, "support", email="sam@buyer.example")
    create_user(rt, "vic", PASSWORD, "viewer", email="vic@buyer.example")
    create_user(rt, "bea", PASSWORD, "buyer", email="bea@buyer.example")
    create_user(rt, "acme", PASSWORD, "partner", "demo", email="portal@acme.example")
    create_user(rt, "other", PASSWORD, "partner", "demo")  # no e-mail: nothing to send to
    create_user(rt, "zed", PASSWORD, "partner", "otherco", email="zed@other.example")  # another partner's


def _recipients(rt, kind: str) -> dict[str, str]:
    with rt.session() as s:
        rows = s.execute(select(AlertRecipient.address, AlertRecipient.status).join(Alert)
                         .where(Alert.kind == kind)).all()
    return dict(rows)


def test_a_rejected_document_mails_the_partner_contact_support_and_the_partner_user_once(
        alerting, smtp_server, webhook_receiver):
    rt = alerting
    _people(rt)
    doc = receive(rt, BAD_855, channel="sftp", filename="855_acme.edi", partner_id="demo").document_id
    drain(rt)
    # Recorded with the rejection, before anything is sent.
    assert _recipients(rt, "rejected") == {"edi@acme.example": "pending", "sam@buyer.example": "pending",
                                           "portal@acme.example": "pending"}
    assert send_due_alerts(rt) == {"sent": 3, "retrying": 0, "failed": 0}
    assert send_due_alerts(rt, utcnow() + timedelta(days=1)) == {"sent": 0, "retrying": 0, "failed": 0}
    [mail] = smtp_server.to("edi@acme.example")
    assert mail["Subject"] == "Rejected: 855_acme.edi from demo"
    assert mail["From"] == "gateway@buyer.example" and mail["Auto-Submitted"] == "auto-generated"
    text = mail.get_content()
    assert f"https://edi.buyer.example/documents/{doc}" in text
    assert "ACK05" in text and "rejected and was not passed on" in text
    assert len(smtp_server.to("sam@buyer.example")) == 1 and len(smtp_server.to("portal@acme.example")) == 1
    assert smtp_server.to("vic@buyer.example") == [] and smtp_server.to("bea@buyer.example") == []
    assert smtp_server.to("zed@other.example") == [] and smtp_server.to("edi@other.example") == []
    # The webhook hears of it once, as the document.rejected event its route carries: no second alert POST.
    types = [p["body"]["type"] for p in webhook_receiver.posts]
    assert types.count("document.rejected") == 1 and not [t for t in types if t.startswith("alert.")]
    # Reprocessing the same bytes rejects it again, and announces nothing new.
    with rt.session() as s:
        assert s.scalar(select(func.count()).select_from(Alert)) == 1


def test_a_dead_letter_reaches_the_webhook_signed_and_support_but_never_the_partner(
        alerting, smtp_server, webhook_receiver, erp_receiver):
    rt = alerting
    _people(rt)
    erp_receiver.script = [500, 500, 500]  # GATEWAY_DELIVERY_MAX_ATTEMPTS is 3 in tests
    receive(rt, (SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi").read_bytes(), channel="sftp",
            filename="855_ok.edi", partner_id="demo")
    drain(rt)
    assert _recipients(rt, "dead_letter") == {"webhook": "pending", "sam@buyer.example": "pending"}
    assert send_due_alerts(rt)["sent"] == 2
    [post] = [p for p in webhook_receiver.posts if p["body"]["type"] == "alert.dead_letter"]
    headers = {k.lower(): v for k, v in post["headers"].items()}
    body = json.dumps(post["body"], sort_keys=True, separators=(",", ":")).encode()
    assert verify_signature(webhook_receiver.secret, headers["x-gateway-timestamp"], body, headers["x-gateway-signature"])
    assert post["body"]["subject"].startswith("Dead letter: purchase_order.acknowledged to erp_http")
    assert post["body"]["url"].startswith("https://edi.buyer.example/documents/doc_")
    assert headers["idempotency-key"] == f"alert-{post['body']['alert_id']}"
    [mail] = smtp_server.to("sam@buyer.example")
    assert "Last error" in mail.get_content() and "replay it" in mail.get_content()
    assert smtp_server.to("portal@acme.example") == [] and smtp_server.to("edi@acme.example") == []


def test_an_unreachable_smtp_server_is_retried_and_a_claimed_alert_is_not_sent_twice(
        alerting, smtp_server, monkeypatch):
    rt = alerting
    create_user(rt, "sam", PASSWORD, "support", email="sam@buyer.example")
    receive(rt, BAD_855, channel="sftp", filename="bad.edi", partner_id="demo")
    drain(rt)
    good = smtp_server.url
    monkeypatch.setenv("GATEWAY_SMTP_URL", "smtp://127.0.0.1:1")  # nothing listens there
    assert send_due_alerts(rt) == {"sent": 0, "retrying": 2, "failed": 0}
    with rt.session() as s:
        row = s.scalar(select(AlertRecipient).where(AlertRecipient.address == "sam@buyer.example"))
        assert row.status == "pending" and "SMTP 127.0.0.1:1" in row.last_error and row.attempts == 1
    assert send_due_alerts(rt) == {"sent": 0, "retrying": 0, "failed": 0}  # not due yet: backoff
    monkeypatch.setenv("GATEWAY_SMTP_URL", good)
    later = utcnow() + timedelta(hours=2)
    # A sender claimed sam's row and died before marking it: while its lease holds, no one sends it ...
    assert _claim(rt, row.id, later)
    assert not _claim(rt, row.id, later)  # a second sender cannot take it
    assert send_due_alerts(rt, later) == {"sent": 1, "retrying": 0, "failed": 0}  # the contact's only
    assert smtp_server.to("sam@buyer.example") == []
    # ... and once it lapses, it is sent once more with the Message-ID every attempt carries.
    assert send_due_alerts(rt, later + LEASE + timedelta(seconds=1))["sent"] == 1
    [mail] = smtp_server.to("sam@buyer.example")
    assert mail["Message-ID"] == message_id(row.alert_id, row.id, "gateway@buyer.example")


def test_an_alert_that_never_gets_through_ends_failed_with_its_error(alerting, monkeypatch):
    rt = alerting
    monkeypatch.setenv("GATEWAY_ALERT_MAX_ATTEMPTS", "2")
    receive(rt, BAD_855, channel="sftp", filename="bad.edi", partner_id="demo")
    drain(rt)
    monkeypatch.setenv("GATEWAY_SMTP_URL", "smtp://127.0.0.1:1")
    assert send_due_alerts(rt)["retrying"] == 1
    assert send_due_alerts(rt, utcnow() + timedelta(days=1))["failed"] == 1
    assert _recipients(rt, "rejected") == {"edi@acme.example": "failed"}


def test_an_expiring_certificate_is_announced_once_per_state(alerting, smtp_server):
    rt = alerting
    create_user(rt, "bea", PASSWORD, "buyer", email="bea@buyer.example")
    row = {"partner_id": "demo", "kind": "partner", "path": "/etc/gateway/partners/demo/as2.crt",
           "subject": "CN=ACME AS2", "fingerprint": "ab12", "not_after": "2027-01-01T00:00:00+00:00",
           "days_left": 12.5, "state": "expiring"}
    assert record_certificate_alerts(rt, [row]) == 1
    assert record_certificate_alerts(rt, [row]) == 0  # the daily check finds it again: no second alert
    assert record_certificate_alerts(rt, [{**row, "state": "expired", "days_left": -1}]) == 1
    assert _recipients(rt, "certificate_expiring") == {"webhook": "pending", "ops@acme.example": "pending",
                                                       "bea@buyer.example": "pending"}
    send_due_alerts(rt)
    subjects = sorted(m["Subject"] for m in smtp_server.to("ops@acme.example"))
    assert subjects == ["AS2 certificate expires in 12.5 days: demo's (as2.crt)",
                        "AS2 certificate has expired: demo's (as2.crt)"]


def test_without_smtp_or_webhook_an_alert_is_still_recorded_for_the_console(rt):
    create_user(rt, "sam", PASSWORD, "support", email="sam@buyer.example")
    receive(rt, BAD_855, channel="sftp", filename="bad.edi", partner_id="demo")
    drain(rt)
    with rt.session() as s:
        alert = s.scalar(select(Alert))
        assert alert.kind == "rejected" and alert.recipients == []


def test_the_daily_certificate_check_alerts_the_partners_contact_once(tmp_path, database_url, smtp_server,
                                                                      monkeypatch):
    from datetime import UTC, datetime

    from as2_kit import make_runtime, new_keys, write_partner

    from gateway.transports.cert_monitor import warn_expiring

    now = datetime.now(UTC)
    partners = tmp_path / "partners"
    write_partner(partners, "soon", "SOON-AS2", [new_keys("SOON-AS2", not_before=now - timedelta(days=345),
                                                          days=365).cert_pem])
    write_partner(partners, "fine", "FINE-AS2", [new_keys("FINE-AS2").cert_pem])
    for pid in ("soon", "fine"):
        with open(partners / pid / "partner.yaml", "a") as f:
            f.write(f"contacts: [{{email: as2@{pid}.example, notify: [certificate_expiring]}}]\n")
    monkeypatch.setenv("GATEWAY_SMTP_URL", smtp_server.url)
    rt = make_runtime(tmp_path / "home", partners, database_url, None, [new_keys("BUYERCO")])
    warn_expiring(rt)
    warn_expiring(rt)  # the next day's check: the same certificate, the same state
    assert send_due_alerts(rt)["sent"] == 1
    [mail] = smtp_server.to("as2@soon.example")
    assert mail["Subject"].startswith("AS2 certificate expires in ") and "soon's (cert0.pem)" in mail["Subject"]
    assert smtp_server.to("as2@fine.example") == []


def test_the_periodic_alerts_task_sends_what_is_due(alerting, smtp_server):
    """Alerts go out from the periodic task ``alerts-send`` (an RQ job whoever schedules
    it), run here as a worker runs it; once sent, a second run sends nothing more."""
    from gateway.periodic import run, task_named

    rt = alerting
    receive(rt, BAD_855, channel="sftp", filename="bad.edi", partner_id="demo")
    drain(rt)
    assert run(rt, task_named("alerts-send")) == "ok"
    assert len(smtp_server.to("edi@acme.example")) == 1
    assert run(rt, task_named("alerts-send")) == "ok"
    assert len(smtp_server.to("edi@acme.example")) == 1


def test_supports_corrected_copy_rejected_again_tells_support_not_the_partner(alerting):
    from gateway.intake.resubmit import Correction, resubmit

    rt = alerting
    _people(rt)
    original = receive(rt, BAD_855, channel="sftp", filename="bad.edi", partner_id="demo").document_id
    drain(rt)
    still_bad = BAD_855.replace(b"ACK*IA*100*EA*068*20261301", b"ACK*IA*100*EA*068*20261302")
    copy = resubmit(rt, original, Correction(still_bad, "wrong_value", "tried a date", "support:sam")).document_id
    drain(rt)
    with rt.session() as s:
        alert = s.scalar(select(Alert).where(Alert.document_id == copy))
        assert alert.kind == "rejected"
        assert sorted(r.address for r in alert.recipients) == ["sam@buyer.example"]


def test_a_malformed_smtp_url_never_stops_a_rejection(alerting, monkeypatch, caplog):
    rt = alerting
    monkeypatch.setenv("GATEWAY_SMTP_URL", "http://not-smtp.example")
    doc = receive(rt, BAD_855, channel="sftp", filename="bad.edi", partner_id="demo").document_id
    drain(rt)
    with rt.session() as s:
        from gateway.store.models import Document

        assert s.get(Document, doc).status == "rejected"
        assert s.scalar(select(Alert).where(Alert.document_id == doc)).recipients == []


def test_gateway_users_create_takes_the_address_alerts_go_to(rt, monkeypatch, capsys):
    import io

    from gateway.cli import main
    from gateway.store.models_users import ConsoleUser

    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "create", "sam", "--role", "support", "--email", "sam@buyer.example",
                 "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "create", "eve", "--role", "support", "--email", "eve@x\r\nBcc: all@x",
                 "--password-stdin"]) == 2  # not an address: no header injection through it
    assert "not an e-mail address" in capsys.readouterr().err
    with rt.session() as s:
        assert s.scalar(select(ConsoleUser.email).where(ConsoleUser.username == "sam")) == "sam@buyer.example"
        assert s.scalar(select(ConsoleUser).where(ConsoleUser.username == "eve")) is None


def test_two_transactions_recording_the_same_alert_make_one_and_both_commit(rt):
    """A second worker recording the same rejection at the same moment must not lose its
    own work: the duplicate alert is dropped inside a savepoint, the rest commits."""
    import threading

    from gateway.alerts.kinds import AlertKind
    from gateway.alerts.messages import AlertDraft
    from gateway.alerts.record import record_alert
    from gateway.store.models_api import AuditEntry

    draft = AlertDraft("rejected:race", AlertKind.REJECTED, "demo", None, "Rejected: race", "text", "/")
    first_recorded, outcome = threading.Event(), {}
    release = threading.Event()

    def first():
        with rt.session() as s:
            s.add(AuditEntry(actor="t", action="first", target=None, details={}))
            outcome["first"] = record_alert(rt, s, draft) is not None
            first_recorded.set()
            release.wait(60)

    def second():
        with rt.session() as s:
            s.add(AuditEntry(actor="t", action="second", target=None, details={}))
            outcome["second"] = record_alert(rt, s, draft) is not None

    a = threading.Thread(target=first)
    a.start()
    assert first_recorded.wait(60)
    b = threading.Thread(target=second)
    b.start()
    b.join(2)  # it waits on the first transaction (a lock), or has already found nothing to do
    release.set()
    a.join(60)
    b.join(60)
    assert outcome == {"first": True, "second": False}
    with rt.session() as s:
        assert s.scalar(select(func.count()).select_from(Alert)) == 1
        assert sorted(s.scalars(select(AuditEntry.action).where(AuditEntry.actor == "t"))) == ["first", "second"]
