"""The outbox relay and the sweeper.

Deliveries and acks are rows written in the same transaction as the document's new
state. After that commit the relay puts their ids on RQ. If Redis was away, a job was
lost (Redis flushed, worker killed) or a worker died holding a lease, the sweeper finds
the row still pending in the database and queues it again. A claim (lease) in the
database makes sure only one worker acts on a row at a time.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import or_, select, update

from gateway import queue as jobs
from gateway.bootstrap import Runtime
from gateway.domain.status import MAX_PROCESS_ATTEMPTS, AckStatus, DeliveryStatus, DocumentStatus
from gateway.intake.receive import enqueue_processing
from gateway.routing import queues
from gateway.store.models import AckRecord, DeliveryRecord, Document, utcnow

log = logging.getLogger("gateway.routing")


#: Deliveries per ``deliver_batch`` job: one job's bookkeeping in Redis (a dozen round
#: trips), one claim statement and one verdict statement are shared by this many, while
#: each delivery keeps its own lease and verdict.
BATCH_SIZE = 50


def enqueue_delivery(rt: Runtime, delivery_id: str, queue_name: str, delay: timedelta | None = None,
                     attempt: int | None = None) -> bool:
    """Put a delivery's id on its queue (now, or after ``delay`` via RQ's scheduler).

    The job id is ``deliver-<delivery id>-<attempt>-<nonce>``: it names the delivery for
    anyone reading Redis, and the nonce lets the sweeper queue it again even while an
    old copy lingers (say, in the started registry of a killed worker). Duplicates are
    harmless: the database lease lets one run and the others return ``skipped``.
    """
    jid = queues.job_id("deliver", delivery_id, f"a{attempt or 0}", str(random.getrandbits(32)))
    return _enqueue_batch(rt, [delivery_id], queue_name, jid, delay)


def enqueue_deliveries(rt: Runtime, deliveries: list[tuple[str, str]]) -> int:
    """Queue (id, queue) pairs as ``deliver_batch`` jobs of up to :data:`BATCH_SIZE` ids per
    queue; returns how many ids were queued (the sweeper finds the rest)."""
    by_queue: dict[str, list[str]] = defaultdict(list)
    for delivery_id, queue_name in deliveries:
        by_queue[queue_name].append(delivery_id)
    queued = 0
    for queue_name, ids in by_queue.items():
        for i in range(0, len(ids), BATCH_SIZE):
            chunk = ids[i:i + BATCH_SIZE]
            jid = queues.job_id("deliver", chunk[0], f"n{len(chunk)}", str(random.getrandbits(32)))
            queued += len(chunk) if _enqueue_batch(rt, chunk, queue_name, jid) else 0
    return queued


def _enqueue_batch(rt: Runtime, ids: list[str], queue_name: str, jid: str, delay: timedelta | None = None) -> bool:
    try:
        q = rt.queue(queue_name)
        kwargs = dict(job_id=jid, result_ttl=3600, failure_ttl=7 * 24 * 3600)
        # RQ's limit is for the whole job: each delivery in it may take up to its adapter's timeout.
        timeout = queues.JOB_TIMEOUT.get(queue_name, 600) * max(1, len(ids) // 10)
        if delay and delay.total_seconds() > 0:
            q.enqueue_in(delay, jobs.deliver_batch, ids, job_timeout=timeout, **kwargs)
        else:
            q.enqueue_call(jobs.deliver_batch, args=(ids,), timeout=timeout, **kwargs)
        return True
    except Exception as exc:
        log.warning("could not enqueue deliveries %s: %s", ", ".join(ids[:3]) + (" ..." if len(ids) > 3 else ""), exc)
        return False


def enqueue_ack(rt: Runtime, ack_id: int) -> bool:
    try:
        rt.queue("acks").enqueue_call(
            jobs.send_ack, args=(ack_id,),
            job_id=queues.job_id("ack", str(ack_id), str(random.getrandbits(32))), result_ttl=3600,
        )
        return True
    except Exception as exc:
        log.warning("could not enqueue ack %s: %s", ack_id, exc)
        return False


def relay(rt: Runtime, deliveries: list[tuple[str, str]], ack_ids: list[int]) -> None:
    """Queue freshly committed outbox rows: ``deliveries`` as (id, queue) pairs."""
    for ack_id in ack_ids:
        enqueue_ack(rt, ack_id)
    enqueue_deliveries(rt, deliveries)


def sweep(rt: Runtime, limit: int = 500) -> dict[str, int]:
    """Re-queue everything the database says is waiting but nobody holds. Safe to run anywhere, often."""
    now = utcnow()
    stale = now - timedelta(seconds=rt.settings.lease_seconds)
    free = or_(Document.lease_until.is_(None), Document.lease_until < now)
    counts = {"documents": 0, "deliveries": 0, "acks": 0, "failed": 0}
    with rt.session() as s:
        docs = s.scalars(
            select(Document.id).where(
                Document.status == DocumentStatus.RECEIVED, free,
                Document.process_attempts < MAX_PROCESS_ATTEMPTS,
                or_(Document.queued_at.is_(None), Document.queued_at < stale),
            ).limit(limit)
        ).all()
        if docs:
            s.execute(update(Document).where(Document.id.in_(docs)).values(queued_at=now))
        dfree = or_(DeliveryRecord.lease_until.is_(None), DeliveryRecord.lease_until < now)
        dels = s.execute(
            select(DeliveryRecord.id, DeliveryRecord.queue).where(
                DeliveryRecord.status == DeliveryStatus.PENDING, DeliveryRecord.next_attempt_at <= now, dfree,
                or_(DeliveryRecord.queued_at.is_(None), DeliveryRecord.queued_at < stale),
            ).limit(limit)
        ).all()
        if dels:
            s.execute(update(DeliveryRecord).where(DeliveryRecord.id.in_([d[0] for d in dels])).values(queued_at=now))
        acks = s.scalars(
            select(AckRecord.id).where(AckRecord.status == AckStatus.PENDING, AckRecord.created_at < stale).limit(limit)
        ).all()
    for doc_id in docs:
        counts["documents"] += enqueue_processing(rt, doc_id)
    counts["failed"] = _end_exhausted(rt, free, limit)
    counts["deliveries"] = enqueue_deliveries(rt, [(d[0], d[1]) for d in dels])
    for ack_id in acks:
        counts["acks"] += enqueue_ack(rt, ack_id)
    if any(counts.values()):
        log.info("sweeper re-queued %s", counts)
    return counts


def _end_exhausted(rt: Runtime, free, limit: int) -> int:
    """Give a final status to documents out of attempts whose last worker died without
    recording it (killed mid-job): nobody would ever claim them again."""
    from gateway.processing.failure import give_up

    with rt.session() as s:
        exhausted = s.scalars(select(Document.id).where(
            Document.status == DocumentStatus.RECEIVED, free, Document.process_attempts >= MAX_PROCESS_ATTEMPTS,
        ).limit(limit)).all()
    return sum(give_up(rt, doc_id, f"its processing was started {MAX_PROCESS_ATTEMPTS} times and never finished "
                                   "(the worker was killed or lost)") for doc_id in exhausted)
