"""Workers killed or stopped mid-delivery (F1, F3): real `gateway worker` processes,
a real Redis and database, an ERP over HTTP that holds the request on script.

Pass: every event delivered, the ERP took exactly the events' keys (a retry after a
kill legitimately re-posts the same key), documents and deliveries in their final state.
"""

from __future__ import annotations

import os
import signal

import pytest
from faultkit import (
    Processes,
    all_delivered,
    assert_exactly_once,
    gateway_env,
    in_process_runtime,
    ledger,
    make_855,
    wait_for,
)

from gateway.intake.receive import receive

pytestmark = pytest.mark.slow


@pytest.fixture
def cluster(tmp_path, database_url, redis_url, erp, monkeypatch):
    # a lease just longer than the ERP timeout: a killed worker's delivery is retried within seconds
    env = gateway_env(tmp_path, database_url, redis_url, GATEWAY_ERP_URL=erp.url, GATEWAY_ERP_TIMEOUT="2.5",
                      GATEWAY_LEASE_SECONDS="4")
    rt = in_process_runtime(monkeypatch, env)
    procs = Processes(env, tmp_path)
    yield rt, procs
    procs.stop_all()


def test_kill_9_while_the_erp_holds_the_request(cluster, erp):
    rt, procs = cluster
    erp.script = [("hold", 2.0)]  # the first POST is committed by the ERP, the answer comes 2 s later
    worker = procs.worker()
    for n in range(3):
        receive(rt, make_855(100 + n), channel="sftp", filename=f"{n}.edi", partner_id="demo")
    wait_for(lambda: erp.posts, 60, what="the first ERP post")
    procs.kill9(worker)  # worker and work-horse, mid-request: the answer is never read

    procs.worker()
    wait_for(lambda: all_delivered(rt), 60, what="everything delivered after the kill")
    held = erp.posts[0]["key"]
    assert_exactly_once(rt, erp, reposted={held})  # every other key exactly once
    assert ledger(rt)["documents"] == {"accepted": 3}
    assert erp.keys().count(held) == 2  # the retry re-posted the SAME key; the ERP recognises it


def test_sigterm_during_a_job_lets_it_finish(cluster, erp):
    rt, procs = cluster
    erp.script = [("hold", 2.0)]
    worker = procs.worker()
    receive(rt, make_855(200), channel="sftp", filename="a.edi", partner_id="demo")
    wait_for(lambda: erp.posts, 60, what="the ERP post")
    os.kill(worker.pid, signal.SIGTERM)  # a deploy: warm shutdown of the worker
    assert worker.wait(30) == 0
    assert all_delivered(rt)  # the job in hand finished and was recorded before the worker left
    assert len(erp.posts) == 1
    assert_exactly_once(rt, erp)

    # what arrives while no worker runs waits in the database and Redis for the next one
    # another PO: a later 855 for the same PO would also supersede the first (one more post)
    receive(rt, make_855(201, po_number="4500012201"), channel="sftp", filename="b.edi", partner_id="demo")
    procs.worker()
    wait_for(lambda: all_delivered(rt) and len(erp.posts) == 2, 60, what="the next delivery")
    assert_exactly_once(rt, erp)
