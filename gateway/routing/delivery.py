"""Run one delivery attempt: claim the row, call the adapter, record what happened.

At-least-once towards the adapter, exactly once as far as it can tell: every attempt,
retry and replay carries the same ``Idempotency-Key`` (the event id). The claim is a
lease in the database, so two workers (or a worker and a sweeper's re-queued copy)
never post the same delivery at the same time; a worker that dies holding a lease
lets it lapse and the sweeper queues the delivery again.

Retries follow the adapter's :class:`~gateway.routing.routes.RetryPolicy`; after its
last try (or at once when the target refused) the delivery is ``dead_lettered`` with
the last error and answer kept, and stays so until someone replays it.

Cost per attempt: two short transactions (claim with the event read; the verdict as one
guarded UPDATE) and one POST on a kept-alive connection: each process keeps one adapter
instance (and so one HTTP session) per configured adapter until routes.yaml changes.
Both are single Core statements built once, on the tables, with the attempt's values as
bind parameters, each run in autocommit (a transaction of one statement needs no BEGIN
and COMMIT round trips); only a dead letter's verdict is a transaction with its alert.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, or_, select, update

from gateway.adapters.base import DeliveryResult, Outcome
from gateway.adapters.registry import adapter_class
from gateway.alerts import messages as alert_messages
from gateway.alerts.record import record_alert
from gateway.bootstrap import Runtime
from gateway.domain.status import DeliveryStatus
from gateway.routing.routes import AdapterSpec, RetryPolicy, adapter_spec
from gateway.store.db import autocommit
from gateway.store.models import DeliveryRecord, EventRecord, utcnow

log = logging.getLogger("gateway.routing")

_deliveries = DeliveryRecord.__table__
_events = EventRecord.__table__

#: The lease: an UPDATE that only a pending, unleased row matches (see :func:`_claim_in`).
_CLAIM = (update(_deliveries)
          .where(_deliveries.c.id == bindparam("delivery_id"), _deliveries.c.status == DeliveryStatus.PENDING,
                 or_(_deliveries.c.lease_until.is_(None), _deliveries.c.lease_until < bindparam("now")))
          .values(lease_until=bindparam("lease_to"), attempts=_deliveries.c.attempts + 1)
          .returning(_deliveries.c.adapter, _deliveries.c.queue, _deliveries.c.attempts, _deliveries.c.event_id))
_CLAIM_WITH_EVENT = (_CLAIM.where(_deliveries.c.event_id == _events.c.event_id)
                     .returning(_events.c.partner_id, _events.c.body))
_EVENT = select(_events.c.body, _events.c.partner_id).where(_events.c.event_id == bindparam("event_id"))
#: The verdict: SET from the parameters' column names, on a row still pending only.
_VERDICT = update(_deliveries).where(_deliveries.c.id == bindparam("delivery_id"),
                                     _deliveries.c.status == DeliveryStatus.PENDING)


def backoff(settings, attempts: int) -> timedelta:
    """The default policy's delay (adapters may set their own in routes.yaml)."""
    return RetryPolicy(settings.delivery_max_attempts, settings.delivery_backoff_seconds).delay(attempts)


@dataclass(frozen=True)
class Claimed:
    """A delivery this worker holds the lease on, with what the attempt needs."""

    id: str
    adapter: str
    queue: str
    attempts: int  # including this one
    partner_id: str | None
    event: dict


def claim(rt: Runtime, delivery_id: str) -> bool:
    """Take the lease on a pending delivery; False if it is done or another worker holds it."""
    return _claim(rt, delivery_id) is not None


def _claim(rt: Runtime, delivery_id: str) -> Claimed | None:
    with autocommit(rt.settings.database_url) as connection:
        return _claim_in(connection, rt, delivery_id)


def _claim_in(connection, rt: Runtime, delivery_id: str) -> Claimed | None:
    """Take the lease with an UPDATE that only a pending, unleased row matches (so two
    workers can never both win it), returning the event's body: in the same statement on
    PostgreSQL (UPDATE ... FROM events), a transaction of its own; SQLite cannot return a
    joined table's columns, so there the event is a second SELECT (an event never changes)."""
    now = utcnow()
    joined = connection.dialect.name == "postgresql"
    row = connection.execute(_CLAIM_WITH_EVENT if joined else _CLAIM, {
        "delivery_id": delivery_id, "now": now, "lease_to": now + timedelta(seconds=rt.settings.lease_seconds)}).first()
    if row is None:
        return None
    if joined:
        partner_id, body = row.partner_id, row.body
    else:
        body, partner_id = connection.execute(_EVENT, {"event_id": row.event_id}).one()
    return Claimed(delivery_id, row.adapter, row.queue, row.attempts, partner_id, body)


# (pid, adapter name, partner id) -> (the spec it was built from, the adapter). A forked
# child builds its own: an HTTP connection must never be shared across processes.
_adapters: dict[tuple[int, str, str | None], tuple[AdapterSpec, object]] = {}


def adapter_for(rt: Runtime, name: str, partner_id: str | None):
    """The adapter called ``name``, kept per process so its HTTP connections are reused;
    rebuilt when routes.yaml (or the environment it reads) changes."""
    return _spec_and_adapter(rt, name, partner_id)[1]


def _spec_and_adapter(rt: Runtime, name: str, partner_id: str | None) -> tuple[AdapterSpec, object]:
    """The adapter with the spec it was built from (whose retry policy judges the attempt)."""
    spec = adapter_spec(name, rt.settings, partner_id)
    key = (os.getpid(), name, partner_id)
    cached = _adapters.get(key)
    if cached is not None and cached[0] is spec:
        return cached
    if not spec.configured:
        raise LookupError(f"adapter {name!r} is not configured: {', '.join(spec.missing)} has no value")
    _adapters[key] = (spec, adapter_class(spec.type).from_options(spec.options))
    return _adapters[key]


def attempt(rt: Runtime, delivery_id: str) -> str:
    """One attempt. Returns the delivery's status afterwards (or ``skipped``)."""
    return attempt_many(rt, [delivery_id]).popitem()[0]


def attempt_many(rt: Runtime, delivery_ids: list[str]) -> dict[str, int]:
    """Attempt each delivery once, in order; counts by resulting status (or ``skipped``).

    Each is claimed on its own lease just before its POST, so a slow target can never let
    a later one's lease lapse while it waits. The verdict on one and the claim of the next
    stay separate transactions: one holding two rows' locks can deadlock with the
    sweeper's multi-row UPDATE, and the verdict rolled back with it would post the event
    again (the delivery benchmark caught exactly that)."""
    counts: Counter[str] = Counter()
    for delivery_id in delivery_ids:
        claimed = _claim(rt, delivery_id)
        if claimed is None:
            counts["skipped"] += 1
            continue
        policy = None  # the retry policy of the spec the adapter was built from (routes.yaml is read once)
        try:
            spec, adapter = _spec_and_adapter(rt, claimed.adapter, claimed.partner_id)
            policy = spec.retry
            result = adapter.deliver(claimed.event)
        except Exception as exc:  # a bug or misconfiguration: recorded and retried, never a dangling lease
            log.exception("adapter %s failed on %s", claimed.adapter, delivery_id)
            result = DeliveryResult(Outcome.RETRY, f"{type(exc).__name__}: {exc}")
        counts[_record(rt, claimed, result, policy)] += 1
    return dict(counts)


def _policy(rt: Runtime, name: str, partner_id: str | None) -> RetryPolicy:
    try:
        return adapter_spec(name, rt.settings, partner_id).retry
    except LookupError:  # the adapter was removed from routes.yaml: default policy
        return RetryPolicy(rt.settings.delivery_max_attempts, rt.settings.delivery_backoff_seconds)


def record_result(rt: Runtime, delivery_id: str, result: DeliveryResult) -> str:
    """Record the outcome of an attempt on ``delivery_id`` (claimed earlier by this worker)."""
    with rt.session() as s:
        row = s.execute(select(DeliveryRecord.adapter, DeliveryRecord.queue, DeliveryRecord.attempts,
                               EventRecord.partner_id)
                        .join(EventRecord, EventRecord.event_id == DeliveryRecord.event_id)
                        .where(DeliveryRecord.id == delivery_id)).one()
    return _record(rt, Claimed(delivery_id, row.adapter, row.queue, row.attempts, row.partner_id, {}), result)


def _record(rt: Runtime, claimed: Claimed, result: DeliveryResult, policy: RetryPolicy | None = None) -> str:
    values, retry_in = _verdict(rt, claimed, result, policy)
    if values.get("status") == DeliveryStatus.DEAD_LETTERED:
        with rt.session() as s:
            recorded = _write_verdict(s.connection(), claimed, values, retry_in)
            if recorded[2]:  # the alert is committed with the dead letter, or not at all
                d = s.get(DeliveryRecord, claimed.id)
                record_alert(rt, s, alert_messages.dead_letter(d, d.event))
    else:  # one UPDATE: a transaction of its own
        with autocommit(rt.settings.database_url) as connection:
            recorded = _write_verdict(connection, claimed, values, retry_in)
    return _after_verdict(rt, claimed, result, recorded)


def _verdict(rt: Runtime, claimed: Claimed, result: DeliveryResult,
             policy: RetryPolicy | None = None) -> tuple[dict, timedelta | None]:
    now = utcnow()
    policy = policy or _policy(rt, claimed.adapter, claimed.partner_id)
    values = dict(response_status=result.status_code, response_body=result.response_body, lease_until=None)
    retry_in = None
    if result.outcome is Outcome.DELIVERED:
        values.update(status=DeliveryStatus.DELIVERED, delivered_at=now, last_error=None)
    elif result.outcome is Outcome.REFUSED or claimed.attempts >= policy.max_attempts:
        values.update(status=DeliveryStatus.DEAD_LETTERED, last_error=result.detail, dead_lettered_at=now)
    else:
        retry_in = policy.delay(claimed.attempts)
        values.update(last_error=result.detail, next_attempt_at=now + retry_in, queued_at=now + retry_in)
    return values, retry_in


def _write_verdict(connection, claimed: Claimed, values: dict,
                   retry_in: timedelta | None) -> tuple[str, timedelta | None, bool]:
    """The verdict as one UPDATE that only matches a row still pending: if our lease
    lapsed and another attempt already finished it, its verdict stands. Returns (status
    afterwards, retry delay, whether ours was written)."""
    done = connection.execute(_VERDICT, {"delivery_id": claimed.id, **values})
    if done.rowcount != 1:
        status = connection.execute(select(_deliveries.c.status).where(_deliveries.c.id == claimed.id)).scalar()
        return status, None, False
    return values.get("status", DeliveryStatus.PENDING), retry_in, True


def _after_verdict(rt: Runtime, claimed: Claimed, result: DeliveryResult, recorded) -> str:
    """After the verdict's commit: say what happened, and schedule the retry."""
    status, retry_in, ours = recorded
    about = {"delivery_id": claimed.id, "adapter": claimed.adapter}  # fields of the JSON log line
    if not ours:
        log.warning("delivery %s was finished by another attempt (%s); dropping %s", claimed.id, status, result.detail,
                    extra=about)
    elif status == DeliveryStatus.DEAD_LETTERED:
        log.warning("delivery %s dead-lettered after %d attempts: %s", claimed.id, claimed.attempts, result.detail,
                    extra=about)
    else:
        log.info("delivery %s: %s (%s)", claimed.id, status, result.detail, extra=about)
    if retry_in is not None:
        from gateway.routing.outbox import enqueue_delivery

        enqueue_delivery(rt, claimed.id, claimed.queue, delay=retry_in, attempt=claimed.attempts + 1)
    return str(status)
