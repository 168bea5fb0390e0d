"""Record an alert and who gets it, in the caller's transaction (the one that rejected
the document, dead-lettered the delivery, marked the 997/999 overdue).

Who gets it:
- the alert webhook (the ``webhook`` adapter of routes.yaml, when its URL and secret are
  set), unless the route table already sends that partner's matching event to the
  webhook (``document.rejected``, ``ack.overdue``): one notice there, not two;
- with ``GATEWAY_SMTP_URL`` set, by e-mail: each contact in the partner's profile whose
  ``notify`` names the kind, and each console user with an e-mail address whose role
  subscribes to it (:data:`~gateway.alerts.kinds.ROLE_SUBSCRIPTIONS`); a partner user only
  for its own partner's alerts, and neither partner contacts nor partner users for
  support's corrected copy of a document (the partner never sent it) unless support
  asked for the partner to be sent its ack.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gateway.alerts.kinds import PARTNER_VISIBLE, ROLE_SUBSCRIPTIONS, AlertKind
from gateway.alerts.messages import AlertDraft
from gateway.alerts.settings import alert_settings
from gateway.config import ConfigError
from gateway.intake.resubmit import ack_withheld
from gateway.store.models_alerts import Alert, AlertRecipient
from gateway.store.models_users import ConsoleUser

log = logging.getLogger("gateway.alerts")
WEBHOOK = "webhook"
# The event that already carries the same news to the webhook, when routes.yaml routes it there.
SAME_AS_EVENT = {AlertKind.REJECTED: "document.rejected", AlertKind.ACK_OVERDUE: "ack.overdue"}


def webhook_options(settings, partner_id: str | None) -> dict | None:
    """The configured ``webhook`` adapter's options (url, secret, timeout), or None."""
    from gateway.routing.routes import adapter_spec

    try:
        spec = adapter_spec(WEBHOOK, settings, partner_id)
    except LookupError:
        return None
    return spec.options if spec.configured and spec.type == WEBHOOK else None


def _event_goes_to_webhook(settings, draft: AlertDraft) -> bool:
    from gateway.routing.routes import routes_for

    event_type = SAME_AS_EVENT.get(draft.kind)
    return event_type is not None and any(r.adapter == WEBHOOK for r in routes_for(event_type, settings,
                                                                                   draft.partner_id))


def _smtp_configured(rt) -> bool:
    """Is e-mail on? A malformed alert setting never stops the rejection or dead letter it
    rides with: it is logged, the alert is kept without e-mail recipients (``/alerts``
    shows it), and the sweeper repeats the error every round until it is fixed."""
    try:
        return alert_settings(rt.settings).smtp is not None
    except ConfigError as exc:
        log.error("alert e-mail is off: %s", exc)
        return False


def recipients(rt, s, draft: AlertDraft) -> list[tuple[str, str, str]]:
    """``(channel, address, why)`` for each recipient of ``draft``, each address once."""
    out: dict[tuple[str, str], str] = {}
    if webhook_options(rt.settings, draft.partner_id) and not _event_goes_to_webhook(rt.settings, draft):
        out[("webhook", WEBHOOK)] = "the alert webhook"
    if _smtp_configured(rt):
        # Support's corrected copy, whose ack the partner is not sent, is not the partner's news either.
        partner_side = not (draft.document_id and ack_withheld(s, draft.document_id))
        profile = rt.partners.get(draft.partner_id) if draft.partner_id and partner_side else None
        for contact in profile.contacts if profile else ():
            if draft.kind in contact.notify:
                out.setdefault(("email", contact.email.lower()), f"a contact of partner {draft.partner_id}")
        users = s.scalars(select(ConsoleUser).where(ConsoleUser.email.is_not(None),
                                                    ConsoleUser.disabled_at.is_(None)).order_by(ConsoleUser.id))
        for user in users:
            if draft.kind not in ROLE_SUBSCRIPTIONS.get(user.role, ()):
                continue
            if user.role == "partner" and (user.partner_id != draft.partner_id or draft.kind not in PARTNER_VISIBLE
                                           or not partner_side):
                continue
            out.setdefault(("email", user.email.lower()), f"console user {user.username} ({user.role})"[:120])
    return [(channel, address, why) for (channel, address), why in out.items()]


def record_alert(rt, s, draft: AlertDraft) -> Alert | None:
    """Add ``draft`` and its recipients to session ``s``; None if this key was recorded
    before (the same rejection or dead letter seen again is not announced twice)."""
    if s.scalar(select(Alert.id).where(Alert.key == draft.key)) is not None:
        return None
    to = recipients(rt, s, draft)
    try:
        with s.begin_nested():  # a concurrent recorder of the same key must not undo the caller's work
            alert = Alert(key=draft.key, kind=draft.kind.value, partner_id=draft.partner_id,
                          document_id=draft.document_id, subject=draft.subject, body=draft.body, path=draft.path)
            s.add(alert)
            s.flush()
            s.add_all(AlertRecipient(alert_id=alert.id, channel=channel, address=address, why=why)
                      for channel, address, why in to)
            s.flush()
    except IntegrityError:
        return None
    log.info("alert %s recorded for %d recipient(s)", draft.key, len(to))
    return alert


def record_certificate_alerts(rt, rows: list[dict]) -> int:
    """An alert per certificate row that needs attention (``cert_monitor.expiry_report``), once per state."""
    from gateway.alerts import messages

    made = 0
    with rt.session() as s:
        for row in rows:
            made += record_alert(rt, s, messages.certificate(row)) is not None
    return made
