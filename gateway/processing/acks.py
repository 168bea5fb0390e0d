"""Send a recorded acknowledgment through the partner's own channel (AS2 when its
profile has an AS2 URL, else its SFTP ``/outbound`` folder)."""

from __future__ import annotations

import logging

from gateway.bootstrap import Runtime
from gateway.domain.status import AckStatus
from gateway.intake.resubmit import ack_withheld
from gateway.store.models import AckRecord, utcnow
from gateway.transports.as2_send import send_to_partner

log = logging.getLogger("gateway.acks")


def ack_filename(record: AckRecord) -> str:
    icn = record.interchange_control_number
    return f"{record.kind}_{int(icn):09d}.x12" if icn.isdigit() else f"{record.kind}_{icn}.x12"


def send(rt: Runtime, ack_id: int) -> str:
    """Write the ack file and mark it sent. Re-running it rewrites the same file name."""
    with rt.session() as s:
        record = s.get(AckRecord, ack_id)
        if record is None:
            return "missing"
        if record.status == AckStatus.SENT:
            return "already sent"
        if ack_withheld(s, record.document_id):  # support's corrected copy: the partner never sent it
            record.status, record.destination = AckStatus.WITHHELD, "withheld: support's corrected copy"
            return "withheld"
        partner_id = record.document.partner_id
        if not partner_id:
            return "no partner"
        destination = send_to_partner(rt, partner_id, ack_filename(record), record.text.encode("ascii", "replace"))
        record.status, record.sent_at, record.destination = AckStatus.SENT, utcnow(), destination
    log.info("ack %s sent: %s", ack_id, destination)
    return "sent"
