"""Hand on what processing just committed, inside the processing job itself.

Before, each document took three RQ jobs (process, then one per ack and per delivery),
each a dozen Redis round trips and a fresh look-up of everything. Now the processing job
makes the first ERP delivery attempts and sends the acks itself, right after its commit:

- deliveries on the critical ``erp`` queue: attempted here, each on its own lease, up to
  :data:`INLINE_DELIVERIES` per document (a big interchange's thousands of events go to
  ``deliver_batch`` jobs instead, so other workers share them and this one moves on);
- deliveries to other queues (planning, notify): queued, so a slow non-critical target
  never holds a processing worker;
- acks: sent here, after the ERP deliveries (the partner's ack is not on the ERP's clock).

Nothing here is needed for correctness: every row is already committed as pending. A
worker killed halfway leaves rows that the sweeper queues again, exactly as when a job
was lost; retries after a failed first attempt go through RQ's scheduler as before.
"""

from __future__ import annotations

import logging

from gateway.bootstrap import Runtime
from gateway.routing.outbox import enqueue_ack, enqueue_deliveries

log = logging.getLogger("gateway.routing")

INLINE_QUEUES = frozenset({"erp"})
INLINE_DELIVERIES = 20


def dispatch(rt: Runtime, deliveries: list[tuple[str, str]], ack_ids: list[int]) -> None:
    from gateway.processing.acks import send_all
    from gateway.routing.delivery import attempt_many

    inline = [d for d in deliveries if d[1] in INLINE_QUEUES][:INLINE_DELIVERIES]
    enqueue_deliveries(rt, [d for d in deliveries if d not in inline])
    if inline:
        try:
            attempt_many(rt, [delivery_id for delivery_id, _queue in inline])
        except Exception:  # the database went away mid-way: the sweeper queues what is still pending
            log.exception("delivering in the processing job failed; the sweeper will queue what is left")
    if not ack_ids:
        return
    queued: set[int] = set()

    def queue_ack(ack_id: int, exc: Exception) -> None:
        log.warning("ack %s could not be sent in the processing job (%s); queued", ack_id, exc)
        enqueue_ack(rt, ack_id)
        queued.add(ack_id)

    try:
        send_all(rt, ack_ids, failed=queue_ack)  # a partner channel failing: that ack's own job retries it
    except Exception as exc:  # the database: none was marked sent, each ack's own job sends it again
        for ack_id in ack_ids:
            if ack_id not in queued:
                queue_ack(ack_id, exc)
