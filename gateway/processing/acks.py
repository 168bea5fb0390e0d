"""Send a recorded acknowledgment through the partner's own channel (AS2 when its
profile has an AS2 URL, else its SFTP ``/outbound`` folder).

The processing job sends a document's acks right after its commit (:func:`send_all`):
one read of the acks with their document's partner and whether they are support's
corrected copy, then the files, then one UPDATE marking them; an ack's own job
(:func:`send`) is the same with one id. These are Core statements in autocommit: the
ORM's unit of work cost more CPU than the rest of an ack's send, and the read takes no
lock a transaction around it would keep (a file is written again under the same name
whenever an ack is sent twice).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import bindparam, select, update

from gateway.bootstrap import Runtime
from gateway.domain.status import AckStatus
from gateway.store.db import autocommit
from gateway.store.models import AckRecord, Document, utcnow
from gateway.store.models_users import Resubmission
from gateway.transports.as2_send import send_to_partner

log = logging.getLogger("gateway.acks")

_acks = AckRecord.__table__

#: Each ack with what sending it needs. ``send_ack`` is NULL unless the document is
#: support's corrected copy (:func:`gateway.intake.resubmit.ack_withheld`'s rule).
_READ = (select(_acks.c.id, _acks.c.kind, _acks.c.interchange_control_number, _acks.c.text, _acks.c.status,
                Document.__table__.c.partner_id, Resubmission.__table__.c.send_ack)
         .select_from(_acks.join(Document.__table__, Document.__table__.c.id == _acks.c.document_id)
                      .outerjoin(Resubmission.__table__, Resubmission.__table__.c.document_id == _acks.c.document_id))
         .where(_acks.c.id.in_(bindparam("ack_ids", expanding=True))))
_MARK = update(_acks).where(_acks.c.id == bindparam("ack_id"))  # SET from each parameter set's keys


def ack_filename(record) -> str:
    """The file name of an ack (an :class:`AckRecord` or a row with its kind and ISA13)."""
    icn = record.interchange_control_number
    return f"{record.kind}_{int(icn):09d}.x12" if icn.isdigit() else f"{record.kind}_{icn}.x12"


def send(rt: Runtime, ack_id: int) -> str:
    """Write the ack file and mark it sent. Re-running it rewrites the same file name."""
    return send_all(rt, [ack_id]).get(ack_id, "missing")


def send_all(rt: Runtime, ack_ids: list[int],
             failed: Callable[[int, Exception], None] | None = None) -> dict[int, str]:
    """Send each ack as :func:`send` does; what became of each (``sent``, ``withheld``,
    ``already sent``, ``no partner``; a missing id is left out).

    An ack whose partner channel raises is handed to ``failed`` (its own job retries it)
    and the others still go; without ``failed`` the exception propagates and none is
    marked. Any database error propagates too: an ack not marked is sent again, under
    the same file name, by its retry."""
    outcomes: dict[int, str] = {}
    marks: list[dict] = []
    with autocommit(rt.settings.database_url) as connection:
        for row in connection.execute(_READ, {"ack_ids": list(ack_ids)}):
            if row.status == AckStatus.SENT:
                outcomes[row.id] = "already sent"
            elif row.send_ack is not None and not row.send_ack:  # support's corrected copy: the partner never sent it
                marks.append({"ack_id": row.id, "status": AckStatus.WITHHELD,
                              "destination": "withheld: support's corrected copy"})
                outcomes[row.id] = "withheld"
            elif not row.partner_id:
                outcomes[row.id] = "no partner"
            else:
                try:
                    destination = send_to_partner(rt, row.partner_id, ack_filename(row),
                                                  row.text.encode("ascii", "replace"))
                except Exception as exc:
                    if failed is None:
                        raise
                    failed(row.id, exc)
                    continue
                marks.append({"ack_id": row.id, "status": AckStatus.SENT, "sent_at": utcnow(),
                              "destination": destination})
                outcomes[row.id] = "sent"
        # One UPDATE per set of columns written (a withheld ack has no sent_at): one for a
        # document's acks, which all go the same way.
        for columns in dict.fromkeys(tuple(mark) for mark in marks):
            connection.execute(_MARK, [mark for mark in marks if tuple(mark) == columns])
    for mark in marks:
        if mark["status"] == AckStatus.SENT:
            log.info("ack %s sent: %s", mark["ack_id"], mark["destination"])
    return outcomes
