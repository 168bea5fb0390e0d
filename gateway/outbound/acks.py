"""Close the loop: match a partner's 997/999 to what we sent, and chase the ones that
never come.

``apply_functional_ack`` runs inside the processing of a received interchange (the
caller's transaction): it marks the outbound document accepted / accepted with errors /
rejected with the partner's error detail and records ``ack.received``. An inbound ack
is never acknowledged (X12), and one that matches nothing of ours is kept, logged and
says so on its set row; it is not the partner's fault that we cannot place it.
``apply_interchange_acks`` does the same for TA1s, matched by our ISA13.

``check_overdue_acks(rt, now)`` is a plain function a scheduler can call: every sent
document whose 997/999 is past its partner's deadline becomes ``overdue`` once, with an
``ack.overdue`` event (routed to the ERP and the alert webhook) and an error in the log.
An AS2 MDN proves the bytes arrived, not that the partner's translator took them: it
does not stop the clock.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select

from gateway.acks.reconcile import read_functional_ack, read_ta1s
from gateway.events.envelope import SourceContext, check_event, make_event
from gateway.store.models_outbound import OutboundDocument

log = logging.getLogger("gateway.acks")

AWAITING = ("awaiting", "overdue")


def apply_functional_ack(rt, s, doc, partner, ic, group, ts, set_row) -> list:
    """Reconcile one received 997/999 set; returns the new deliveries. One that matches
    nothing of ours says so on its set row (``ACK_UNMATCHED``) and in the log."""
    ack = read_functional_ack(ts, ic.delimiters.component)
    if ack is None:
        return _unmatched(set_row, f"{ts.set_id} {ts.control_number} has no AK1: it names no group of ours")
    rows = s.scalars(select(OutboundDocument).where(OutboundDocument.partner_id == partner.id,
                                                    OutboundDocument.group_control_number
                                                    == ack.group_control_number.strip().lstrip("0"))).all()
    source = {"transaction_set": ts.set_id, "version": group.version, "interchange_control_number": ic.control_number,
              "group_control_number": group.control_number, "transaction_control_number": ts.control_number}
    deliveries, matched = [], 0
    for row in rows:
        answer = ack.result_for(row.transaction_set, row.transaction_control_number)
        if answer is not None:
            matched += 1
            deliveries += _answered(rt, s, doc, partner, ic, row, ack.kind, *answer, source=source,
                                    keys=(group.control_number, ts.control_number))
    if not matched:
        return _unmatched(set_row, f"{ts.set_id} {ts.control_number} answers group {ack.group_control_number}, "
                                   f"which matches nothing we sent {partner.id}")
    return deliveries


TA1_HEAD_BYTES = 1 << 20  # TA1s stand between ISA and the first GS: a streamed file is read this far


def _interchange_head(data, ic) -> bytes:
    """The interchange's bytes; of a streamed (large) file only its head, where TA1s are."""
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data[ic.start:ic.end or len(data)])
    end = ic.start + TA1_HEAD_BYTES if ic.end is None else min(ic.end, ic.start + TA1_HEAD_BYTES)
    data.seek(ic.start)
    return data.read(end - ic.start)


def apply_interchange_acks(rt, s, doc, partner, ic, data, outcome) -> int:
    """Reconcile the TA1s of a received interchange; returns how many it held.

    A TA1 answers our envelope, not our PO: ``R`` rejects what that interchange carried
    (the partner's TA105 note code is the detail); ``A``/``E`` leave the document
    awaiting its 997/999, which alone says whether the partner took the 850."""
    ta1s = read_ta1s(_interchange_head(data, ic), ic.delimiters.element, ic.delimiters.segment)
    source = {"transaction_set": "TA1", "version": ic.version, "interchange_control_number": ic.control_number,
              "group_control_number": None, "transaction_control_number": None}
    for i, ta1 in enumerate(ta1s):
        number = ta1.control_number.strip()
        number = f"{int(number):09d}" if number.isdigit() else number
        rows = s.scalars(select(OutboundDocument).where(OutboundDocument.partner_id == partner.id,
                                                        OutboundDocument.interchange_control_number == number)).all()
        if ta1.status == "rejected":
            for row in rows:
                outcome.deliveries.extend(_answered(
                    rt, s, doc, partner, ic, row, "TA1", "rejected",
                    [{"interchange_note_code": ta1.note_code, "code": ta1.code}], source=source, keys=("TA1", str(i))))
        log.log(logging.INFO if rows else logging.WARNING, "TA1 in %s for our interchange %s: %s%s",
                ic.control_number, number, ta1.status, "" if rows else " (matches nothing we sent)")
    return len(ta1s)


def _answered(rt, s, doc, partner, ic, row: OutboundDocument, kind: str, status: str, errors: list[dict], *,
              source: dict, keys: tuple[str, ...]) -> list:
    """Mark ``row`` answered and record ``ack.received`` (its id: the ack's own control numbers)."""
    from gateway.processing.x12_interchange import record_event

    row.ack_status, row.ack_errors, row.ack_kind = status, errors[:200], kind
    row.ack_document_id, row.acked_at = doc.id, doc.received_at
    body = check_event(make_event(
        event_type="ack.received", context=SourceContext(partner.id, doc.id, doc.received_at, doc.correlation_id),
        source={"format": "x12", **source},
        payload={"document_id": row.id, "status": status, "errors": row.ack_errors, "po_number": row.po_number,
                 "transaction_set": row.transaction_set, "ack_document_id": doc.id},
        occurred_at=doc.received_at.isoformat(), id_keys=(ic.date + ic.time, ic.control_number, *keys, row.id)))
    log.info("%s in %s: %s %s answered %s", kind, ic.control_number, row.transaction_set, row.id, status)
    return record_event(rt, s, doc, body)


def _unmatched(set_row, note: str) -> list:
    log.warning(note)
    set_row.errors = [{"code": "ACK_UNMATCHED", "message": note, "segment_id": None, "segment_index": None,
                       "element": None}]
    return []


def check_overdue_acks(rt, now: datetime, limit: int = 500) -> int:
    """Raise ``ack.overdue`` for each sent document past its deadline; returns how many."""
    from gateway.alerts import messages as alert_messages
    from gateway.alerts.record import record_alert
    from gateway.outbound.events import outbound_event
    from gateway.processing.x12_interchange import record_event
    from gateway.routing.outbox import relay

    raised, deliveries = 0, []
    with rt.session() as s:
        rows = s.scalars(select(OutboundDocument).where(
            OutboundDocument.ack_status == "awaiting", OutboundDocument.status == "sent",
            OutboundDocument.ack_due_at <= now).order_by(OutboundDocument.ack_due_at).limit(limit)).all()
        for row in rows:
            row.ack_status, row.overdue_at = "overdue", now
            body = outbound_event(row, "ack.overdue", now, {
                "document_id": row.id, "status": "overdue", "po_number": row.po_number,
                "transaction_set": row.transaction_set,
                "errors": [{"message": f"no 997/999 from {row.partner_id} for {row.transaction_set} "
                                       f"{row.interchange_control_number}/{row.group_control_number}/"
                                       f"{row.transaction_control_number}, due {row.ack_due_at.isoformat()}"}]})
            deliveries += [(d.id, d.queue) for d in record_event(rt, s, row.document, body)]
            record_alert(rt, s, alert_messages.ack_overdue(row))
            log.error("ack overdue: %s %s (PO %s) to %s was due by %s", row.transaction_set, row.id, row.po_number,
                      row.partner_id, row.ack_due_at.isoformat())
            raised += 1
    relay(rt, deliveries, [])
    return raised


def ack_counts(s) -> dict[str, int]:
    """Outbound documents per acknowledgment state (the dashboard's numbers)."""
    return dict(s.execute(select(OutboundDocument.ack_status, func.count()).group_by(OutboundDocument.ack_status)).all())
