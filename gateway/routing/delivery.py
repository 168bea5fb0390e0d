"""Run one delivery attempt: claim the row, call the adapter, record what happened.

At-least-once towards the adapter, exactly once as far as it can tell: every attempt,
retry and replay carries the same ``Idempotency-Key`` (the event id). The claim is a
lease in the database, so two workers (or a worker and a sweeper's re-queued copy)
never post the same delivery at the same time; a worker that dies holding a lease
lets it lapse and the sweeper queues the delivery again.

Retries follow the adapter's :class:`~gateway.routing.routes.RetryPolicy`; after its
last try (or at once when the target refused) the delivery is ``dead_lettered`` with
the last error and answer kept, and stays so until someone replays it.

Cost per batch (``deliver_batch``'s ids, or a document's inline ERP deliveries): one
claim statement for all of them, the POSTs on a kept-alive connection (each process keeps
one adapter instance, and so one HTTP session, per configured adapter until routes.yaml
changes), and one verdict statement for all of them, each run in autocommit (a
transaction of one statement needs no BEGIN and COMMIT round trips); only a dead letter's
verdict is a transaction with its alert. A batch of one uses the single-row statements.

On PostgreSQL every statement that takes several delivery rows' locks takes them with
``SELECT ... ORDER BY id FOR UPDATE SKIP LOCKED``: it never waits for a lock, so it can
never deadlock with the sweeper's multi-row UPDATE, a replay or another worker's batch,
and never be rolled back as a deadlock's victim (a rolled-back verdict means the event
is posted again). A row another transaction holds at that instant is left to whoever
holds it: at claim time to its own job, at verdict time to a single-row UPDATE that may
wait, holding nothing else. SQLite has one writer at a time: there the claim is one
UPDATE over the ids and the verdicts one transaction of single-row UPDATEs.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter, deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import DateTime, Integer, String, Text, any_, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from gateway.adapters.base import DeliveryResult, Outcome
from gateway.adapters.http import CONNECT_TIMEOUT
from gateway.adapters.registry import adapter_class
from gateway.alerts import messages as alert_messages
from gateway.alerts.record import record_alert
from gateway.bootstrap import Runtime
from gateway.domain.status import DeliveryStatus
from gateway.routing.routes import AdapterSpec, RetryPolicy, adapter_spec
from gateway.store.db import autocommit, engine_for
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

_PENDING = _deliveries.c.status == DeliveryStatus.PENDING
_FREE = or_(_deliveries.c.lease_until.is_(None), _deliveries.c.lease_until < bindparam("now"))
#: PostgreSQL takes a batch's ids as one array: the same SQL text for any batch size.
_IDS = _deliveries.c.id == any_(bindparam("delivery_ids", type_=ARRAY(String)))


def _locked(name: str, *where):
    """The ids of the rows matching ``where``, locked in id order, skipping any row another
    transaction holds: a statement that never waits for a lock cannot deadlock."""
    return (select(_deliveries.c.id).where(_IDS, _PENDING, *where).order_by(_deliveries.c.id)
            .with_for_update(skip_locked=True).cte(name).prefix_with("MATERIALIZED"))


_claimable = _locked("claimable", _FREE)
#: A batch's leases in one statement, with the events' bodies (PostgreSQL).
_CLAIM_BATCH_WITH_EVENTS = (
    update(_deliveries).where(_deliveries.c.id == _claimable.c.id, _deliveries.c.event_id == _events.c.event_id)
    .values(lease_until=bindparam("lease_to"), attempts=_deliveries.c.attempts + 1)
    .returning(_deliveries.c.id, _deliveries.c.adapter, _deliveries.c.queue, _deliveries.c.attempts,
               _events.c.partner_id, _events.c.body))
#: SQLite: the leases in one UPDATE (one writer at a time), the events in one SELECT.
_CLAIM_BATCH = (update(_deliveries)
                .where(_deliveries.c.id.in_(bindparam("delivery_ids", expanding=True)), _PENDING, _FREE)
                .values(lease_until=bindparam("lease_to"), attempts=_deliveries.c.attempts + 1)
                .returning(_deliveries.c.id, _deliveries.c.adapter, _deliveries.c.queue, _deliveries.c.attempts,
                           _deliveries.c.event_id))
_EVENTS = (select(_events.c.event_id, _events.c.body, _events.c.partner_id)
           .where(_events.c.event_id.in_(bindparam("event_ids", expanding=True))))

_held = _locked("held", _deliveries.c.lease_until == bindparam("held_until"))
#: Longer leases for a batch's rows not posted yet, if they are still ours (PostgreSQL).
_EXTEND_WITH_LOCKS = (update(_deliveries).where(_deliveries.c.id == _held.c.id)
                      .values(lease_until=bindparam("lease_to")).returning(_deliveries.c.id))
_EXTEND = (update(_deliveries)
           .where(_deliveries.c.id.in_(bindparam("delivery_ids", expanding=True)), _PENDING,
                  _deliveries.c.lease_until == bindparam("held_until"))
           .values(lease_until=bindparam("lease_to")).returning(_deliveries.c.id))

#: Several verdicts in one UPDATE (PostgreSQL): one row of arrays per delivery, each
#: landing only on its row if still pending. Columns a verdict leaves alone (a delivered
#: one's next attempt, a retry's delivered_at) come as NULL and keep their value.
_verdicts = func.unnest(
    bindparam("delivery_ids", type_=ARRAY(String)), bindparam("statuses", type_=ARRAY(String)),
    bindparam("response_statuses", type_=ARRAY(Integer)), bindparam("response_bodies", type_=ARRAY(Text)),
    bindparam("last_errors", type_=ARRAY(Text)), bindparam("delivered_ats", type_=ARRAY(DateTime(timezone=True))),
    bindparam("next_attempt_ats", type_=ARRAY(DateTime(timezone=True))),
).table_valued("id", "status", "response_status", "response_body", "last_error", "delivered_at",
               "next_attempt_at").render_derived("verdict")
_verdictable = _locked("verdictable")
_VERDICTS = (update(_deliveries).where(_deliveries.c.id == _verdictable.c.id, _deliveries.c.id == _verdicts.c.id)
             .values(status=_verdicts.c.status, response_status=_verdicts.c.response_status,
                     response_body=_verdicts.c.response_body, last_error=_verdicts.c.last_error,
                     delivered_at=func.coalesce(_verdicts.c.delivered_at, _deliveries.c.delivered_at),
                     next_attempt_at=func.coalesce(_verdicts.c.next_attempt_at, _deliveries.c.next_attempt_at),
                     queued_at=func.coalesce(_verdicts.c.next_attempt_at, _deliveries.c.queued_at),
                     lease_until=None)
             .returning(_deliveries.c.id))

#: Verdicts already in hand are written at least this often, so a worker killed mid-batch
#: leaves few acknowledged events to be posted again (under the same key) after its lease.
VERDICT_FLUSH_SECONDS = 1.0


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
    claimed, _lease_to = _claim_batch(rt, [delivery_id])
    return claimed[0] if claimed else None


def _claim_in(connection, delivery_id: str, now: datetime, lease_to: datetime) -> Claimed | None:
    """Take the lease with an UPDATE that only a pending, unleased row matches (so two
    workers can never both win it), returning the event's body: in the same statement on
    PostgreSQL (UPDATE ... FROM events), a transaction of its own; SQLite cannot return a
    joined table's columns, so there the event is a second SELECT (an event never changes)."""
    joined = connection.dialect.name == "postgresql"
    row = connection.execute(_CLAIM_WITH_EVENT if joined else _CLAIM, {
        "delivery_id": delivery_id, "now": now, "lease_to": lease_to}).first()
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
    """Attempt each delivery once, in order; counts by resulting status (or ``skipped``:
    not attempted here, because it is no longer pending or another worker or transaction
    holds it, and so its own job does it).

    All are claimed in one statement before the first POST and their verdicts written in
    one statement after the last (and at least every :data:`VERDICT_FLUSH_SECONDS`).
    Two bugs the delivery benchmark caught shape this:

    - a later delivery's lease must not lapse while the earlier POSTs run (the sweeper
      would queue it and another worker post it too): before each POST, if what is left of
      the lease might not cover it, the verdicts in hand are written and the leases of the
      rows not posted yet are extended, those no longer ours dropped (:func:`_lease_too_short`);
    - a verdict rolled back with a deadlock posts the event again: no statement here that
      locks several rows ever waits for a lock (see the module docstring)."""
    counts: Counter[str] = Counter()
    claimed, lease_to = _claim_batch(rt, delivery_ids)
    if len(claimed) < len(delivery_ids):
        counts["skipped"] += len(delivery_ids) - len(claimed)
    todo = deque(claimed)
    in_hand: list[_Verdict] = []
    written_at = time.monotonic()

    def write_in_hand() -> None:
        nonlocal in_hand, written_at
        verdicts, in_hand = in_hand, []  # never written twice, even if writing them fails
        counts.update(_write_verdicts(rt, verdicts))
        written_at = time.monotonic()

    try:
        while todo:
            one = todo.popleft()
            policy = None  # the retry policy of the spec the adapter was built from (routes.yaml is read once)
            try:
                spec, adapter = _spec_and_adapter(rt, one.adapter, one.partner_id)
                policy = spec.retry
            except Exception as exc:  # a misconfiguration: recorded and retried, never a dangling lease
                log.exception("adapter %s failed on %s", one.adapter, one.id)
                in_hand.append(_verdict_on(rt, one, DeliveryResult(Outcome.RETRY, f"{type(exc).__name__}: {exc}")))
                continue
            if _lease_too_short(rt, lease_to, adapter):
                write_in_hand()
                kept, lease_to = _extend_leases(rt, [one.id, *(c.id for c in todo)], lease_to)
                lost = [c.id for c in (one, *todo) if c.id not in kept]
                if lost:  # no longer ours (lapsed, or locked right then): their own jobs post them
                    log.warning("delivery leases could not be extended, left to their own jobs: %s", ", ".join(lost))
                    counts["skipped"] += len(lost)
                    todo = deque(c for c in todo if c.id in kept)
                    if one.id not in kept:
                        continue
            elif in_hand and time.monotonic() - written_at > VERDICT_FLUSH_SECONDS:
                write_in_hand()
            try:
                result = adapter.deliver(one.event)
            except Exception as exc:  # a bug in the adapter: recorded and retried, never a dangling lease
                log.exception("adapter %s failed on %s", one.adapter, one.id)
                result = DeliveryResult(Outcome.RETRY, f"{type(exc).__name__}: {exc}")
            in_hand.append(_verdict_on(rt, one, result, policy))
    finally:  # what was posted is recorded, even when the batch stops half-way
        write_in_hand()
    return dict(counts)


@dataclass(frozen=True)
class _Verdict:
    """An attempt's outcome, waiting to be written with the rest of its batch."""

    claimed: Claimed
    result: DeliveryResult
    values: dict  # the columns to SET (see _verdict)
    retry_in: timedelta | None


def _verdict_on(rt: Runtime, claimed: Claimed, result: DeliveryResult, policy: RetryPolicy | None = None) -> _Verdict:
    """The verdict decided now, when the answer came (its delivered_at is the POST's time)."""
    return _Verdict(claimed, result, *_verdict(rt, claimed, result, policy))


def _claim_batch(rt: Runtime, delivery_ids: list[str]) -> tuple[list[Claimed], datetime]:
    """Leases on those of ``delivery_ids`` that are pending and free, in one statement (a
    batch of one: the single-row claim); returns them in the order given, with the lease's
    end. An id given twice is claimed once (and its second mention counted skipped)."""
    now = utcnow()
    lease_to = now + timedelta(seconds=rt.settings.lease_seconds)
    wanted = list(dict.fromkeys(delivery_ids))
    if not wanted:
        return [], lease_to
    with autocommit(rt.settings.database_url) as connection:
        if len(wanted) == 1:
            one = _claim_in(connection, wanted[0], now, lease_to)
            return ([one] if one else []), lease_to
        params = {"delivery_ids": wanted, "now": now, "lease_to": lease_to}
        if connection.dialect.name == "postgresql":
            rows = connection.execute(_CLAIM_BATCH_WITH_EVENTS, params).all()
            got = {r.id: Claimed(r.id, r.adapter, r.queue, r.attempts, r.partner_id, r.body) for r in rows}
        else:
            rows = connection.execute(_CLAIM_BATCH, params).all()
            events = {e.event_id: e for e in connection.execute(
                _EVENTS, {"event_ids": sorted({r.event_id for r in rows})})} if rows else {}
            got = {r.id: Claimed(r.id, r.adapter, r.queue, r.attempts, events[r.event_id].partner_id,
                                 events[r.event_id].body) for r in rows}
    return [got[i] for i in wanted if i in got], lease_to


def _lease_too_short(rt: Runtime, lease_to: datetime, adapter) -> bool:
    """Whether what is left of the batch's lease might not see the next POST through and
    its verdict written: a POST can take its connect timeout and its read timeout, asked
    of at most half a lease, with a quarter lease to spare. With the default 120 s lease
    and the ERP's 30 s timeout that is after 55 s of a batch; a batch against a target
    that answers in milliseconds never gets there."""
    lease = rt.settings.lease_seconds
    timeout = getattr(adapter, "timeout", None) or 0.0
    post = min(timeout + min(CONNECT_TIMEOUT, timeout), lease / 2)
    return (lease_to - utcnow()).total_seconds() < post + lease / 4


def _extend_leases(rt: Runtime, delivery_ids: list[str], held_until: datetime) -> tuple[set[str], datetime]:
    """A fresh lease on those of ``delivery_ids`` still pending under our lease (ending at
    ``held_until``); returns their ids and the new lease's end. A row another transaction
    holds at this instant is not waited for: it is dropped from the batch like one whose
    lease lapsed, and keeps its old lease until its own job takes it."""
    lease_to = utcnow() + timedelta(seconds=rt.settings.lease_seconds)
    params = {"delivery_ids": delivery_ids, "held_until": held_until, "lease_to": lease_to}
    with autocommit(rt.settings.database_url) as connection:
        stmt = _EXTEND_WITH_LOCKS if connection.dialect.name == "postgresql" else _EXTEND
        return set(connection.execute(stmt, params).scalars()), lease_to


def _write_verdicts(rt: Runtime, verdicts: list[_Verdict]) -> Counter[str]:
    """Write a batch's verdicts; counts by resulting status. A dead letter is a transaction
    with its alert, as alone; the others are one statement (PostgreSQL) or one transaction
    (SQLite), each landing only on its row if still pending; a retry is scheduled per row
    after that commit."""
    counts: Counter[str] = Counter()
    rest = []
    for v in verdicts:
        if v.values.get("status") == DeliveryStatus.DEAD_LETTERED:
            counts[_record_dead_letter(rt, v)] += 1
        else:
            rest.append(v)
    if not rest:
        return counts
    if len(rest) == 1:
        with autocommit(rt.settings.database_url) as connection:
            recorded = [_write_verdict(connection, rest[0].claimed, rest[0].values, rest[0].retry_in)]
    elif rt.settings.database_url.startswith("postgresql"):
        with autocommit(rt.settings.database_url) as connection:
            landed = set(connection.execute(_VERDICTS, {
                "delivery_ids": [v.claimed.id for v in rest],
                "statuses": [v.values.get("status", DeliveryStatus.PENDING) for v in rest],
                "response_statuses": [v.values["response_status"] for v in rest],
                "response_bodies": [v.values["response_body"] for v in rest],
                "last_errors": [v.values["last_error"] for v in rest],
                "delivered_ats": [v.values.get("delivered_at") for v in rest],
                "next_attempt_ats": [v.values.get("next_attempt_at") for v in rest],
            }).scalars())
            # The rest: finished by another attempt, or held by another transaction at
            # that instant (the single-row UPDATE waits for it, holding nothing else).
            recorded = [(v.values.get("status", DeliveryStatus.PENDING), v.retry_in, True) if v.claimed.id in landed
                        else _write_verdict(connection, v.claimed, v.values, v.retry_in) for v in rest]
    else:  # SQLite: one writer at a time, one commit for all of them
        with engine_for(rt.settings.database_url).begin() as connection:
            recorded = [_write_verdict(connection, v.claimed, v.values, v.retry_in) for v in rest]
    for v, one in zip(rest, recorded, strict=True):
        counts[_after_verdict(rt, v.claimed, v.result, one)] += 1
    return counts


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
    return _write_verdicts(rt, [_verdict_on(rt, claimed, result, policy)]).popitem()[0]


def _record_dead_letter(rt: Runtime, v: _Verdict) -> str:
    """A dead letter's verdict and its alert: one transaction, so the alert is committed
    with the dead letter, or not at all."""
    with rt.session() as s:
        recorded = _write_verdict(s.connection(), v.claimed, v.values, v.retry_in)
        if recorded[2]:
            d = s.get(DeliveryRecord, v.claimed.id)
            record_alert(rt, s, alert_messages.dead_letter(d, d.event))
    return _after_verdict(rt, v.claimed, v.result, recorded)


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
