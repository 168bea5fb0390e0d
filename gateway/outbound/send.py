"""Send a recorded outbound document on the partner's channel, once.

One request at a time may send a row: it is claimed (``sending`` with a lease) by an
atomic update, so two requests with the same Idempotency-Key, or a retry racing the
first attempt, cannot both write the file or post the AS2 message.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

from gateway.bootstrap import Runtime
from gateway.store.models import utcnow
from gateway.store.models_outbound import OutboundDocument
from gateway.transports.as2_send import send_to_partner

log = logging.getLogger("gateway.outbound")

SEND_LEASE = timedelta(minutes=5)


class SendFailed(RuntimeError):
    """Our side could not hand the document to the partner's channel (kept; sent on retry)."""


def send_outbound(rt: Runtime, outbound_id: str) -> str:
    """Send it unless it was sent or another request is sending it; returns the row's status."""
    now = utcnow()
    with rt.session() as s:
        claimed = s.execute(
            update(OutboundDocument).where(
                OutboundDocument.id == outbound_id,
                or_(OutboundDocument.status.in_(("pending", "send_failed")),
                    and_(OutboundDocument.status == "sending", OutboundDocument.lease_until < now)))
            .values(status="sending", lease_until=now + SEND_LEASE, attempts=OutboundDocument.attempts + 1)
        ).rowcount == 1
        row = s.get(OutboundDocument, outbound_id)
        if not claimed:
            return row.status
        partner_id, filename, sha, fmt = row.partner_id, row.document.filename, row.document.sha256, row.format
    if fmt == "cxml":  # POSTed to the partner's URL; its Response is the acknowledgment
        from gateway.outbound.cxml_send import post_cxml

        return post_cxml(rt, outbound_id)
    try:
        destination = send_to_partner(rt, partner_id, filename, rt.blobs.get(sha))
    except Exception as exc:  # disk full, partner folder unwritable, AS2 certificates missing
        with rt.session() as s:
            row = s.get(OutboundDocument, outbound_id)
            row.status, row.lease_until, row.last_error = "send_failed", None, f"{type(exc).__name__}: {exc}"[:2000]
        log.error("outbound %s to %s could not be sent: %s", outbound_id, partner_id, exc)
        raise SendFailed(f"{outbound_id} is recorded but could not be sent: {exc}") from exc
    sent = utcnow()
    with rt.session() as s:
        row = s.get(OutboundDocument, outbound_id)
        row.status, row.lease_until, row.destination, row.sent_at = "sent", None, destination, sent
        row.last_error = None
        hours = rt.partners[partner_id].x12.ack_deadline_hours
        row.ack_due_at = sent + timedelta(hours=hours)
    log.info("outbound %s sent: %s", outbound_id, destination)
    return "sent"


def send_unsent(rt: Runtime, now: datetime, grace: timedelta = timedelta(minutes=1), limit: int = 100) -> int:
    """Send what was recorded but not sent (a failed attempt, or a crash between the commit
    and the send) once it is ``grace`` old and its backoff (``next_attempt_at``, cXML) has
    passed; the sweeper calls this. Returns how many went."""
    with rt.session() as s:
        ids = s.scalars(select(OutboundDocument.id).where(
            OutboundDocument.created_at <= now - grace,
            or_(OutboundDocument.next_attempt_at.is_(None), OutboundDocument.next_attempt_at <= now),
            or_(OutboundDocument.status.in_(("pending", "send_failed")),
                and_(OutboundDocument.status == "sending", OutboundDocument.lease_until < now)))
            .order_by(OutboundDocument.created_at).limit(limit)).all()
    sent = 0
    for outbound_id in ids:
        try:
            sent += send_outbound(rt, outbound_id) == "sent"
        except SendFailed:  # recorded on the row and logged; the next pass tries again
            pass
    return sent
