"""Run one delivery attempt: claim the row, call the adapter, record what happened.

At-least-once towards the adapter, exactly once as far as it can tell: every attempt,
retry and replay carries the same ``Idempotency-Key`` (the event id). The claim is a
lease in the database, so two workers (or a worker and a sweeper's re-queued copy)
never post the same delivery at the same time; a worker that dies holding a lease
lets it lapse and the sweeper queues the delivery again.

Retries follow the adapter's :class:`~gateway.routing.routes.RetryPolicy`; after its
last try (or at once when the target refused) the delivery is ``dead_lettered`` with
the last error and answer kept, and stays so until someone replays it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, update

from gateway.adapters.base import DeliveryResult, Outcome
from gateway.alerts import messages as alert_messages
from gateway.alerts.record import record_alert
from gateway.bootstrap import Runtime
from gateway.domain.status import DeliveryStatus
from gateway.routing.routes import RetryPolicy, adapter_spec, build_adapter
from gateway.store.models import DeliveryRecord, utcnow

log = logging.getLogger("gateway.routing")


def backoff(settings, attempts: int) -> timedelta:
    """The default policy's delay (adapters may set their own in routes.yaml)."""
    return RetryPolicy(settings.delivery_max_attempts, settings.delivery_backoff_seconds).delay(attempts)


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
        event, name, partner_id = record.event.body, record.adapter, record.event.partner_id
    try:
        result = build_adapter(name, rt.settings, partner_id).deliver(event)
    except Exception as exc:  # a bug or misconfiguration: recorded and retried, never a dangling lease
        log.exception("adapter %s failed on %s", name, delivery_id)
        result = DeliveryResult(Outcome.RETRY, f"{type(exc).__name__}: {exc}")
    return record_result(rt, delivery_id, result)


def _policy(rt: Runtime, name: str, partner_id: str | None) -> RetryPolicy:
    try:
        return adapter_spec(name, rt.settings, partner_id).retry
    except LookupError:  # the adapter was removed from routes.yaml: default policy
        return RetryPolicy(rt.settings.delivery_max_attempts, rt.settings.delivery_backoff_seconds)


def record_result(rt: Runtime, delivery_id: str, result: DeliveryResult) -> str:
    now = utcnow()
    retry_in = None
    with rt.session() as s:
        d = s.get(DeliveryRecord, delivery_id)
        if d.status != DeliveryStatus.PENDING:
            # Our lease lapsed and another attempt already finished it: keep its verdict.
            log.warning("delivery %s was finished by another attempt (%s); dropping %s",
                        delivery_id, d.status, result.detail)
            return d.status
        policy = _policy(rt, d.adapter, d.event.partner_id)
        d.response_status, d.response_body, d.lease_until = result.status_code, result.response_body, None
        if result.outcome is Outcome.DELIVERED:
            d.status, d.delivered_at, d.last_error = DeliveryStatus.DELIVERED, now, None
        elif result.outcome is Outcome.REFUSED or d.attempts >= policy.max_attempts:
            d.status, d.last_error, d.dead_lettered_at = DeliveryStatus.DEAD_LETTERED, result.detail, now
            record_alert(rt, s, alert_messages.dead_letter(d, d.event))  # with the dead letter, or not at all
        else:
            retry_in = policy.delay(d.attempts)
            d.last_error, d.next_attempt_at, d.queued_at = result.detail, now + retry_in, now + retry_in
        status, queue_name, attempts = d.status, d.queue, d.attempts
    if status == DeliveryStatus.DEAD_LETTERED:
        log.warning("delivery %s dead-lettered after %d attempts: %s", delivery_id, attempts, result.detail)
    else:
        log.info("delivery %s: %s (%s)", delivery_id, status, result.detail)
    if retry_in is not None:
        from gateway.routing.outbox import enqueue_delivery

        enqueue_delivery(rt, delivery_id, queue_name, delay=retry_in, attempt=attempts + 1)
    return status
