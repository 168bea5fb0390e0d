"""Queues by priority: ERP deliveries go first, and a slow notification target never
delays them (issue #5 §1)."""

from __future__ import annotations

import time

import pytest
from faultkit import (
    Processes,
    Receiver,
    drain,
    gateway_env,
    in_process_runtime,
    ledger,
    make_855,
    wait_for,
)
from rq import Worker

from gateway.intake.receive import receive
from gateway.routing.derived import register_purchase_order
from gateway.routing.queues import CRITICAL_QUEUES, NON_CRITICAL_QUEUES

PO = {"po_number": "4500012345", "lines": [{"line_number": "2", "buyer_part": "BRACKET-200",
                                            "requested_date": "2026-12-01"}]}


@pytest.fixture
def targets():
    rs = {name: Receiver(f"/{name}") for name in ("erp", "planning", "hook")}
    yield rs
    for r in rs.values():
        r.stop()


@pytest.fixture
def env(tmp_path, database_url, redis_url, targets):
    return gateway_env(tmp_path, database_url, redis_url, GATEWAY_ERP_URL=targets["erp"].url,
                       GATEWAY_PLANNING_URL=targets["planning"].url, GATEWAY_WEBHOOK_URL=targets["hook"].url,
                       GATEWAY_WEBHOOK_SECRET="k")


def test_one_worker_serves_every_erp_delivery_before_planning_and_notify(env, monkeypatch, targets):
    rt = in_process_runtime(monkeypatch, env)
    register_purchase_order(rt, PO, "demo")
    for n in range(8):  # a backlog: each 855 gives 2 ERP, 1 planning and 1 notify delivery
        receive(rt, make_855(700 + n), channel="sftp", filename=f"{n}.edi", partner_id="demo")
    drain(rt)
    erp_times = [p["at"] for p in targets["erp"].posts]
    other_times = [p["at"] for name in ("planning", "hook") for p in targets[name].posts]
    # and each 855 after the first supersedes the one before: 7 acknowledgment.superseded
    assert len(erp_times) == 16 + 7 and len(other_times) == 16
    assert max(erp_times) < min(other_times)


@pytest.mark.slow
def test_a_slow_webhook_does_not_delay_the_erp_when_critical_queues_have_their_own_worker(
        env, monkeypatch, targets, tmp_path):
    rt = in_process_runtime(monkeypatch, env)
    register_purchase_order(rt, PO, "demo")
    targets["hook"].delay = 3.0  # every notification takes 3 s (the webhook timeout is 5 s)
    procs = Processes(env, tmp_path)
    try:
        procs.worker("--queues", ",".join(CRITICAL_QUEUES))
        procs.worker("--queues", ",".join(NON_CRITICAL_QUEUES))
        wait_for(lambda: len(Worker.all(connection=rt.redis)) == 2, 180, what="both workers")  # warm-up on a busy machine
        receive(rt, make_855(800), channel="sftp", filename="0.edi", partner_id="demo")

        def erp_posts():  # each 855 gives the ack and a date change (a later one also supersedes the earlier)
            return [p for p in targets["erp"].posts if p["body"]["type"] != "acknowledgment.superseded"]

        wait_for(lambda: len(erp_posts()) == 2, 30, what="the ERP posts")
        # the first notification is now in flight at the slow target (recorded as it arrives)
        wait_for(lambda: targets["hook"].posts, 30, what="a notification in flight")
        latencies = []
        for n in (1, 2):  # documents keep arriving while notifications pile up behind the slow target
            receipt_at = time.time()
            receive(rt, make_855(800 + n), channel="sftp", filename=f"{n}.edi", partner_id="demo")
            wait_for(lambda n=n: len(erp_posts()) == 2 * (n + 1), 30, what="the ERP posts")
            latencies.append(max(p["at"] for p in targets["erp"].posts) - receipt_at)
        # With one worker on every queue, each document would wait for the notification in
        # flight (up to 3 s); with the critical queues on their own worker it never does.
        assert len(targets["hook"].posts) < 3
        assert max(latencies) < 3.0, latencies
        wait_for(lambda: set(ledger(rt)["deliveries"].values()) == {"delivered"}, 60, what="notifications")
        assert len(targets["hook"].posts) == 3
    finally:
        procs.stop_all()
