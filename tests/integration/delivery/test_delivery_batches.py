"""A batch of deliveries (``deliver_batch``'s ids, a document's inline ERP attempts) is
one claim statement and one verdict statement, whatever its size, and still never posts
a key twice: not when two workers are given overlapping batches while the sweeper
re-queues the same rows, not when the batch outlasts its first lease, not when its
verdicts are of every kind at once."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter

import pytest
from faultkit import drain, gateway_env, in_process_runtime, make_855
from sqlalchemy import event, select

from gateway.intake.receive import receive
from gateway.processing.service import process
from gateway.routing.delivery import attempt_many
from gateway.routing.outbox import sweep
from gateway.store.db import engine_for
from gateway.store.models import DeliveryRecord, utcnow
from gateway.store.models_alerts import Alert


def runtime(tmp_path, database_url, redis_url, erp, monkeypatch, **extra):
    return in_process_runtime(monkeypatch, gateway_env(tmp_path, database_url, redis_url, GATEWAY_ERP_URL=erp.url,
                                                       **extra))


def pending_deliveries(rt, count: int) -> list[str]:
    """``count`` processed 855s (each for its own PO: one ERP delivery each), nothing
    handed on: their deliveries are pending, unleased and on no queue."""
    for n in range(count):
        doc = receive(rt, make_855(500 + n, f"PO-{n}"), channel="sftp", filename=f"{n}.edi",
                      partner_id="demo").document_id
        assert process(rt, doc, dispatch=lambda *_: None) == "accepted"
    with rt.session() as s:
        ids = list(s.scalars(select(DeliveryRecord.id).where(DeliveryRecord.status == "pending")
                             .order_by(DeliveryRecord.id)))
    assert len(ids) == count
    return ids


def rows(rt) -> dict[str, DeliveryRecord]:
    with rt.session() as s:
        found = {d.id: d for d in s.scalars(select(DeliveryRecord))}
        s.expunge_all()
        return found


def test_a_batch_of_twenty_is_one_claim_and_one_verdict(tmp_path, database_url, redis_url, erp, monkeypatch):
    rt = runtime(tmp_path, database_url, redis_url, erp, monkeypatch)
    ids = pending_deliveries(rt, 20)
    sent: list[str] = []
    commits: list[int] = []
    engine = engine_for(rt.settings.database_url)

    def record(_conn, _cursor, statement, *_args) -> None:
        sent.append(" ".join(statement.split()[:3]))

    event.listen(engine, "before_cursor_execute", record)
    event.listen(engine, "commit", lambda _conn: commits.append(1))
    try:
        assert attempt_many(rt, ids) == {"delivered": 20}
    finally:
        event.remove(engine, "before_cursor_execute", record)
    if rt.settings.database_url.startswith("sqlite"):
        # one UPDATE for the leases, one SELECT for the events; the verdicts are single-row
        # UPDATEs (SQLite has one writer: no multi-row locks to order) in ONE transaction
        assert sent == ["UPDATE deliveries SET", "SELECT events.event_id, events.body,"] + ["UPDATE deliveries SET"] * 20
        assert len(commits) == 1
    else:
        assert sent == ["WITH claimable AS", "WITH verdictable AS"]
    assert sorted(erp.keys()) == sorted({d.event_id for d in rows(rt).values()})
    assert {(d.status, d.attempts, d.lease_until, d.last_error) for d in rows(rt).values()} == {
        ("delivered", 1, None, None)}


def test_delivered_retried_and_refused_in_one_batch_each_land_on_their_row(tmp_path, database_url, redis_url, erp,
                                                                           monkeypatch):
    rt = runtime(tmp_path, database_url, redis_url, erp, monkeypatch, GATEWAY_DELIVERY_BACKOFF="30")
    ids = pending_deliveries(rt, 4)
    erp.script = [200, 500, 422, 201]  # posted in the order given
    before = rows(rt)
    assert attempt_many(rt, ids) == {"delivered": 2, "pending": 1, "dead_lettered": 1}
    after = rows(rt)
    ok, retried, refused, ok_too = (after[i] for i in ids)

    for d, code in ((ok, 200), (ok_too, 201)):
        assert (d.status, d.response_status, d.last_error, d.lease_until) == ("delivered", code, None, None)
        assert d.delivered_at is not None and d.next_attempt_at == before[d.id].next_attempt_at
    # a retry: still pending, its next attempt and queued_at moved out by the backoff, no delivered_at
    assert (retried.status, retried.response_status, retried.lease_until, retried.delivered_at) == (
        "pending", 500, None, None)
    assert "HTTP 500" in retried.last_error and retried.next_attempt_at == retried.queued_at
    assert (retried.next_attempt_at - utcnow()).total_seconds() > 10  # 15-30 s of backoff
    assert (refused.status, refused.response_status, refused.lease_until) == ("dead_lettered", 422, None)
    assert "refused" in refused.last_error and refused.dead_lettered_at is not None

    with rt.session() as s:  # the dead letter's alert, and only its
        assert list(s.scalars(select(Alert.key))) == [f"dead_letter:{refused.id}:0"]
    queue = rt.queue("erp")  # the retry, and nothing else, is scheduled: on its own, after the commit
    scheduled = [list(queue.fetch_job(j).args) for j in queue.scheduled_job_registry.get_job_ids()]
    assert scheduled == [[[retried.id]]]
    assert Counter(erp.keys()) == Counter({d.event_id: 1 for d in after.values()})


def test_two_workers_with_overlapping_batches_and_the_sweeper_post_each_key_once(tmp_path, database_url, redis_url,
                                                                               erp, monkeypatch):
    """Two workers given overlapping id lists, one in the opposite order, at the same
    moment, a third copy of the shared part a moment later, while the sweeper re-queues
    and locks the same rows: nobody waits on anybody (no deadlock, no verdict rolled
    back), and each key is posted once. Rows a worker found locked are left to the jobs
    the sweeper queued for them."""
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent writers: SQLite has one writer at a time")
    rt = runtime(tmp_path, database_url, redis_url, erp, monkeypatch)
    ids = pending_deliveries(rt, 60)
    erp.delay = 0.005
    # a sweeper that finds every unleased row stale: it locks and re-queues them all, again and again
    eager = dataclasses.replace(rt, settings=rt.settings.with_overrides(lease_seconds=0.01))
    start, errors, counts = threading.Barrier(4), [], []

    def worker(*batches: list[str], late: float = 0.0) -> None:
        try:
            start.wait()
            time.sleep(late)
            for batch in batches:
                counts.append(attempt_many(rt, batch))
        except Exception as exc:  # a deadlock or serialization failure would land here
            errors.append(exc)

    def sweeper() -> None:
        try:
            start.wait()
            for _ in range(20):
                sweep(eager)
                time.sleep(0.01)
        except Exception as exc:
            errors.append(exc)

    shared = ids[15:45]  # both workers' first batch, at the same moment, one posting it backwards
    threads = [threading.Thread(target=worker, args=(shared, ids[:15])),
               threading.Thread(target=worker, args=(shared[::-1], ids[45:])),
               # a third copy of the job (say the sweeper's) while the other two are posting it
               threading.Thread(target=worker, args=(shared,), kwargs={"late": 0.05}),
               threading.Thread(target=sweeper)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    total = Counter()
    for c in counts:
        total.update(c)
    assert erp.posts and set(Counter(erp.keys()).values()) == {1}  # nobody posted a key twice
    assert total["delivered"] == len(erp.posts) and total["delivered"] + total["skipped"] == 45 + 45 + 30
    drain(rt)  # what a worker skipped, its own job (queued by the sweeper) delivers
    assert {d.status for d in rows(rt).values()} == {"delivered"}
    assert Counter(erp.keys()) == Counter({d.event_id: 1 for d in rows(rt).values()})


def test_a_batch_longer_than_its_lease_keeps_its_rows(tmp_path, database_url, redis_url, erp, monkeypatch):
    """A batch whose POSTs outlast the lease it was claimed with: the leases of the rows
    not posted yet are extended in time, so another worker trying the same ids all along
    (a sweeper's copy of the job) never gets one, and no key is posted twice."""
    rt = runtime(tmp_path, database_url, redis_url, erp, monkeypatch, GATEWAY_LEASE_SECONDS="2",
                 GATEWAY_ERP_TIMEOUT="1")
    ids = pending_deliveries(rt, 6)
    erp.delay = 0.5  # 6 POSTs: 3 s, the lease 2 s
    other: list[dict] = []
    done = threading.Event()

    def second_worker() -> None:
        time.sleep(0.3)  # the first worker has the batch by then
        while not done.is_set():
            other.append(attempt_many(rt, ids))
            time.sleep(0.05)

    t = threading.Thread(target=second_worker)
    first = None
    try:
        t.start()
        started = time.monotonic()
        first = attempt_many(rt, ids)
    finally:
        done.set()
        t.join(30)
    assert time.monotonic() - started > 2.5  # the batch did outlast its first lease
    assert first == {"delivered": 6} and not any(c.get("delivered") for c in other)
    assert Counter(erp.keys()) == Counter({d.event_id: 1 for d in rows(rt).values()})
    assert {d.status for d in rows(rt).values()} == {"delivered"}
