"""Replay: send deliveries again, under the same idempotency key (the event id).

Plain functions for the CLI (``gateway replay``) and the HTTP API. A replay puts a
delivery back to ``pending`` with a fresh set of attempts and queues it; the target
sees the same ``Idempotency-Key`` as before, so a replay of something it already has
posts nothing new there.

- ``dead_lettered`` deliveries are replayed.
- ``pending`` ones are only nudged onto their queue again (their retry runs now).
- ``delivered`` ones are left alone unless ``force=True`` (support insisting; the
  target recognises the key), so "replay the whole document" never re-sends by accident.

Each function returns a :class:`ReplayReport`: what was re-queued and what was not, why.
An ``audit`` callback, when given, is called with the session and the report inside the
transaction that puts the deliveries back to ``pending``: the audit row and the state
change commit together (or not at all), and nothing is queued before that commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.bootstrap import Runtime
from gateway.domain.status import DeliveryStatus
from gateway.routing.outbox import enqueue_deliveries
from gateway.store.models import DeliveryRecord, EventRecord, utcnow

log = logging.getLogger("gateway.routing")


@dataclass
class ReplayReport:
    requeued: list[str] = field(default_factory=list)  # delivery ids put back on their queue
    skipped: dict[str, str] = field(default_factory=dict)  # delivery id -> why not

    def to_dict(self) -> dict:
        return {"requeued": self.requeued, "skipped": self.skipped}


Audit = Callable[[Session, ReplayReport], None]  # writes the audit row in the replay's own transaction


def replay_delivery(rt: Runtime, delivery_id: str, *, force: bool = False, audit: Audit | None = None) -> ReplayReport:
    """Replay one delivery. Raises ``LookupError`` (and audits nothing) if there is no such delivery."""
    with rt.session() as s:
        if s.get(DeliveryRecord, delivery_id) is None:
            raise LookupError(f"no delivery {delivery_id!r}")
    return _replay(rt, [delivery_id], force, audit)


def replay_document(rt: Runtime, document_id: str, *, force: bool = False, audit: Audit | None = None) -> ReplayReport:
    """Replay every delivery of every event of one document (dead letters; pending nudged)."""
    with rt.session() as s:
        ids = s.scalars(select(DeliveryRecord.id).join(EventRecord)
                        .where(EventRecord.document_id == document_id).order_by(DeliveryRecord.id)).all()
    return _replay(rt, list(ids), force, audit)


def replay_dead_letters(rt: Runtime, adapter: str, *, limit: int | None = None,
                        audit: Audit | None = None) -> ReplayReport:
    """Replay all dead-lettered deliveries of ``adapter`` (say, after the ERP is back)."""
    with rt.session() as s:
        query = (select(DeliveryRecord.id)
                 .where(DeliveryRecord.adapter == adapter, DeliveryRecord.status == DeliveryStatus.DEAD_LETTERED)
                 .order_by(DeliveryRecord.created_at))
        ids = s.scalars(query.limit(limit) if limit else query).all()
    return _replay(rt, list(ids), False, audit)


def replay_deliveries(rt: Runtime, delivery_ids: list[str], *, audit: Audit | None = None) -> ReplayReport:
    """Replay exactly these deliveries (a confirmed bulk action); delivered ones are skipped."""
    return _replay(rt, list(delivery_ids), False, audit)


def _replay(rt: Runtime, delivery_ids: list[str], force: bool, audit: Audit | None) -> ReplayReport:
    report = ReplayReport()
    to_queue: list[tuple[str, str]] = []
    now = utcnow()
    with rt.session() as s:
        rows: dict[str, DeliveryRecord] = {}
        for i in range(0, len(delivery_ids), 500):  # locked a chunk at a time, not one round trip each
            chunk = delivery_ids[i:i + 500]
            rows.update((d.id, d) for d in s.scalars(select(DeliveryRecord).where(DeliveryRecord.id.in_(chunk))
                                                     .with_for_update()))
        for delivery_id in delivery_ids:
            d = rows.get(delivery_id)
            if d is None:
                report.skipped[delivery_id] = "no such delivery"
                continue
            if d.status == DeliveryStatus.DELIVERED and not force:
                report.skipped[delivery_id] = "already delivered (use force to send it again under the same key)"
                continue
            if d.status == DeliveryStatus.PENDING and d.lease_until is not None and d.lease_until > now:
                report.skipped[delivery_id] = "an attempt is running now"
                continue
            if d.status != DeliveryStatus.PENDING:
                d.replays = (d.replays or 0) + 1
                d.attempts = 0  # a fresh set of tries under the adapter's retry policy
            d.status, d.next_attempt_at, d.queued_at, d.lease_until = DeliveryStatus.PENDING, now, now, None
            to_queue.append((d.id, d.queue))
            report.requeued.append(d.id)
        if audit is not None:
            audit(s, report)  # fails -> the whole transaction rolls back and nothing is queued
    # If Redis is away the rows are pending with queued_at set: the sweeper queues them later.
    enqueue_deliveries(rt, to_queue)
    if to_queue:
        log.info("replayed %d deliveries", len(to_queue))
    return report
