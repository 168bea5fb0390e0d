"""How an alert reaches one recipient: an e-mail over SMTP, or a signed POST to the alert
webhook. Each raises :class:`SendFailed` with a reason; the sender retries later.

Both are at-least-once: a crash after the send and before it is marked sent sends it
again on the next round, with the same ``Message-ID`` (mail clients and list servers
fold the copies) or the same ``Idempotency-Key`` (the webhook receiver ignores the repeat).
"""

from __future__ import annotations

import json
import smtplib
import ssl
import time
from email.message import EmailMessage
from email.utils import formatdate

import requests

from gateway.adapters.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from gateway.alerts.settings import AlertSettings


class SendFailed(RuntimeError):
    """This attempt did not reach the recipient (the message says why)."""


def message_id(alert_id: int, recipient_id: int, sender: str) -> str:
    """The same for every attempt of one alert to one recipient."""
    return f"<alert-{alert_id}.{recipient_id}@{sender.rsplit('@', 1)[-1]}>"


def email_message(config: AlertSettings, alert, recipient) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = config.sender
    msg["To"] = recipient.address
    msg["Subject"] = alert.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id(alert.id, recipient.id, config.sender)
    msg["X-Gateway-Alert"] = alert.kind
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies back to us
    msg.set_content(f"{alert.body}\n\nOpen it in the console: {config.console_url}{alert.path}\n\n"
                    f"-- \nSupplier EDI Gateway. You get this as {recipient.why}.\n")
    return msg


def send_email(config: AlertSettings, msg: EmailMessage) -> None:
    server = config.smtp
    if server is None:
        raise SendFailed("GATEWAY_SMTP_URL is not set")
    try:
        if server.tls:
            smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=config.timeout,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=config.timeout)
        with smtp:
            smtp.ehlo()
            if not server.tls and smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if server.username:
                if not isinstance(smtp.sock, ssl.SSLSocket):
                    raise SendFailed("the SMTP server offers no TLS: the password is not sent in the clear")
                smtp.login(server.username, server.password or "")
            refused = smtp.send_message(msg)
        if refused:
            raise SendFailed(f"the SMTP server refused {', '.join(refused)}")
    except (smtplib.SMTPException, OSError) as exc:
        raise SendFailed(f"SMTP {server.host}:{server.port}: {type(exc).__name__}: {exc}") from None


def webhook_body(config: AlertSettings, alert) -> bytes:
    return json.dumps({"type": f"alert.{alert.kind}", "alert_id": alert.id, "kind": alert.kind,
                       "partner_id": alert.partner_id, "document_id": alert.document_id,
                       "subject": alert.subject, "text": alert.body, "url": f"{config.console_url}{alert.path}",
                       "created_at": alert.created_at.isoformat()}, sort_keys=True, separators=(",", ":")).encode()


def send_webhook(options: dict, config: AlertSettings, alert) -> None:
    """POST to the configured webhook URL (from routes.yaml, never from a message), signed
    as the webhook adapter signs events; a 2xx is delivered, anything else is retried."""
    body = webhook_body(config, alert)
    stamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "Idempotency-Key": f"alert-{alert.id}",
               "X-Gateway-Event-Type": f"alert.{alert.kind}", TIMESTAMP_HEADER: stamp,
               SIGNATURE_HEADER: sign(options["secret"], stamp, body)}
    try:
        answer = requests.post(options["url"], data=body, headers=headers, allow_redirects=False,
                               timeout=float(options.get("timeout") or 5))
    except requests.RequestException as exc:
        raise SendFailed(f"webhook: {type(exc).__name__}") from None
    if not 200 <= answer.status_code < 300:
        raise SendFailed(f"webhook answered {answer.status_code}")
