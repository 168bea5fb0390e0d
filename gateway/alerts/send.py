"""Send the alerts waiting in the database: each recipient row once, retried with backoff.

The order is record, claim, send, mark: a row is claimed (a lease, and one more attempt
counted) in a transaction of its own before anything is sent, and marked ``sent`` right
after. Two senders never send the same row at the same time; a sender that dies between
the send and the mark leaves the lease to lapse and the row is sent once more (see
:mod:`gateway.alerts.channels` for why that copy is harmless). After the last attempt a
row is ``failed`` and stays so, with the last error kept.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from gateway.alerts.channels import SendFailed, email_message, send_email, send_webhook
from gateway.alerts.record import webhook_options
from gateway.alerts.settings import alert_settings
from gateway.store.models import utcnow
from gateway.store.models_alerts import AlertRecipient

log = logging.getLogger("gateway.alerts")
LEASE = timedelta(seconds=120)


def _claim(rt, recipient_id: int, now: datetime) -> bool:
    with rt.session() as s:
        claimed = s.execute(update(AlertRecipient).where(
            AlertRecipient.id == recipient_id, AlertRecipient.status == "pending",
            or_(AlertRecipient.lease_until.is_(None), AlertRecipient.lease_until < now),
        ).values(lease_until=now + LEASE, attempts=AlertRecipient.attempts + 1))
        return claimed.rowcount == 1


def _send(rt, config, recipient: AlertRecipient) -> None:
    alert = recipient.alert
    if recipient.channel == "email":
        send_email(config, email_message(config, alert, recipient))
    elif recipient.channel == "webhook":
        options = webhook_options(rt.settings, alert.partner_id)
        if options is None:
            raise SendFailed("the webhook is no longer configured (GATEWAY_WEBHOOK_URL / GATEWAY_WEBHOOK_SECRET)")
        send_webhook(options, config, alert)
    else:
        raise SendFailed(f"unknown channel {recipient.channel!r}")


def send_due_alerts(rt, now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """One round: send every recipient row that is due. Returns counts per outcome."""
    now = now or utcnow()
    config = alert_settings(rt.settings)
    with rt.session() as s:
        due = s.scalars(select(AlertRecipient.id).where(
            AlertRecipient.status == "pending", AlertRecipient.next_attempt_at <= now,
            or_(AlertRecipient.lease_until.is_(None), AlertRecipient.lease_until < now),
        ).order_by(AlertRecipient.id).limit(limit)).all()
    counts = {"sent": 0, "retrying": 0, "failed": 0}
    for recipient_id in due:
        if not _claim(rt, recipient_id, now):
            continue  # another sender has it
        with rt.session() as s:
            recipient = s.get(AlertRecipient, recipient_id)
            recipient.alert  # noqa: B018 - loaded now: the session closes before the send
        try:
            _send(rt, config, recipient)
            error = None
        except SendFailed as exc:
            error = str(exc)
        except Exception as exc:  # a bug: kept on the row and retried, never a lost alert
            log.exception("alert %s to %s", recipient.alert_id, recipient.address)
            error = f"{type(exc).__name__}: {exc}"
        counts[_mark(rt, recipient_id, error, config, now)] += 1
    return counts


def _mark(rt, recipient_id: int, error: str | None, config, now: datetime) -> str:
    with rt.session() as s:
        row = s.get(AlertRecipient, recipient_id)
        row.lease_until = None
        if error is None:
            row.status, row.sent_at, row.last_error = "sent", utcnow(), None
            return "sent"
        row.last_error = error[:2000]
        if row.attempts >= config.max_attempts:
            row.status = "failed"
            log.error("alert %s to %s failed after %d attempts: %s", row.alert_id, row.address, row.attempts, error)
            return "failed"
        row.next_attempt_at = now + timedelta(seconds=min(3600.0, config.backoff * 2 ** (row.attempts - 1)))
        log.warning("alert %s to %s: %s (attempt %d, retried later)", row.alert_id, row.address, error, row.attempts)
        return "retrying"
