"""Run one delivery attempt: claim the row, call the adapter, record what happened.

At-least-once towards the adapter, exactly once as far as it can tell: every attempt,
retry and replay carries the same ``Idempotency-Key`` (the event id).
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from sqlalchemy import or_, update

from gateway.adapters.base import DeliveryResult, Outcome
from gateway.bootstrap import Runtime
from gateway.domain.status import DeliveryStatus
from gateway.routing.routes import build_adapter
from gateway.store.models import DeliveryRecord, utcnow

log = logging.getLogger("gateway.routing")


def backoff(settings, attempts: int) -> timedelta:
    """Exponential backoff with full jitter: base * 2^(n-1), capped at an hour."""
    ceiling = min(3600.0, settings.delivery_backoff_seconds * (2 ** max(0, attempts - 1)))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def claim(rt: Runtime, delivery_id: str) -> bool:
    """Take the lease on a pending delivery; False if it is done or another worker holds it."""
    now = utcnow()
    with rt.session() as s:
        result = s.execute(
            update(DeliveryRecord)
            .where(
                DeliveryRecord.id == delivery_id,
                DeliveryRecord.status == DeliveryStatus.PENDING,
                or_(DeliveryRecord.lease_until.is_(None), DeliveryRecord.lease_until < now),
            )
            .values(lease_until=now + timedelta(seconds=rt.settings.lease_seconds),
                    attempts=DeliveryRecord.attempts + 1)
        )
        return result.rowcount == 1


def attempt(rt: Runtime, delivery_id: str) -> str:
    """One attempt. Returns the delivery's status afterwards (or ``skipped``)."""
    if not claim(rt, delivery_id):
        return "skipped"
    with rt.session() as s:
        record = s.get(DeliveryRecord, delivery_id)
        event, alias = record.event.body, record.adapter
    try:
        result = build_adapter(alias, rt.settings).deliver(event)
    except Exception as exc:  # a bug or misconfiguration must not leave the lease dangling silently
        log.exception("adapter %s failed on %s", alias, delivery_id)
        result = DeliveryResult(Outcome.RETRY, f"{type(exc).__name__}: {exc}")
    return record_result(rt, delivery_id, result)


def record_result(rt: Runtime, delivery_id: str, result: DeliveryResult) -> str:
    now = utcnow()
    retry_in = None
    with rt.session() as s:
        d = s.get(DeliveryRecord, delivery_id)
        d.response_status, d.response_body, d.lease_until = result.status_code, result.response_body, None
        if result.outcome is Outcome.DELIVERED:
            d.status, d.delivered_at, d.last_error = DeliveryStatus.DELIVERED, now, None
        elif result.outcome is Outcome.REFUSED or d.attempts >= rt.settings.delivery_max_attempts:
            d.status, d.last_error = DeliveryStatus.DEAD_LETTERED, result.detail
        else:
            retry_in = backoff(rt.settings, d.attempts)
            d.last_error, d.next_attempt_at, d.queued_at = result.detail, now + retry_in, now + retry_in
        status, queue_name = d.status, d.queue
    log.info("delivery %s: %s (%s)", delivery_id, status, result.detail)
    if retry_in is not None:
        from gateway.routing.outbox import enqueue_delivery

        enqueue_delivery(rt, delivery_id, queue_name, delay=retry_in)
    return status
