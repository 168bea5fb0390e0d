"""Redis is transport, not truth (F7, F8, F9): a private redis-server on its own port
is stopped during intake and restarted EMPTY, or flushed while retries wait in it; the
database's outbox and the sweeper bring everything through, once."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from faultkit import (
    Processes,
    RedisServer,
    all_delivered,
    assert_exactly_once,
    gateway_env,
    in_process_runtime,
    ledger,
    make_855,
    wait_for,
)

from gateway.intake.receive import receive
from gateway.routing.queues import RedisPolicyError, check_eviction_policy, connect

pytestmark = pytest.mark.slow


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def cluster(tmp_path, database_url, redis_server, erp, monkeypatch):
    env = gateway_env(tmp_path, database_url, redis_server.url, GATEWAY_ERP_URL=erp.url, GATEWAY_LEASE_SECONDS="3",
                      GATEWAY_DELIVERY_MAX_ATTEMPTS="50", GATEWAY_DELIVERY_BACKOFF="0.5")
    rt = in_process_runtime(monkeypatch, env)
    procs = Processes(env, tmp_path)
    yield rt, procs
    procs.stop_all()


def test_redis_stopped_during_intake_then_restarted_empty(cluster, redis_server, erp):
    rt, procs = cluster
    procs.worker()
    receive(rt, make_855(300), channel="sftp", filename="0.edi", partner_id="demo")
    wait_for(lambda: all_delivered(rt), 60, what="the first document")

    redis_server.stop()
    # a PO each: a later 855 for the same PO would also supersede the earlier (more events)
    receipts = [receive(rt, make_855(301 + n, po_number=f"45000123{n:02d}"), channel="sftp", filename=f"{n}.edi",
                        partner_id="demo")
                for n in range(3)]
    assert not any(r.enqueued for r in receipts)  # stored and committed: the sender may be told "received"
    assert ledger(rt)["documents"] == {"accepted": 1, "received": 3}

    redis_server.start()  # same port, nothing in it
    procs.worker()  # the first one may have given up while Redis was away; more workers are harmless
    wait_for(lambda: all_delivered(rt) and len(ledger(rt)["events"]) == 4, 90, what="recovery")
    assert_exactly_once(rt, erp)
    assert ledger(rt)["documents"] == {"accepted": 4}


def test_flushall_while_retries_wait_during_an_erp_outage(cluster, redis_server, erp):
    rt, procs = cluster
    erp.fail_until = time.time() + 3600  # the ERP answers 500 ...
    procs.worker()
    for n in range(4):
        receive(rt, make_855(400 + n, po_number=f"45000124{n:02d}"), channel="sftp", filename=f"{n}.edi",
                partner_id="demo")
    wait_for(lambda: len({p["key"] for p in erp.posts}) == 4, 60, what="a first try of each")
    connect(redis_server.url).flushall()  # every queued and scheduled retry is gone
    erp.fail_until = time.time() + 2  # ... for a little longer, then recovers
    wait_for(lambda: all_delivered(rt), 90, what="delivery after the outage")
    assert_exactly_once(rt, erp)
    assert any(p["action"] == 500 for p in erp.posts)
    assert all(n == 1 for n in erp.committed().values())


def test_a_redis_that_may_evict_jobs_is_refused(tmp_path, database_url):
    lru = RedisServer(tmp_path, "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru").start()
    try:
        with pytest.raises(RedisPolicyError, match="allkeys-lru"):
            check_eviction_policy(connect(lru.url))
        env = gateway_env(tmp_path, database_url, lru.url)
        worker = subprocess.run([sys.executable, "-m", "gateway", "worker", "--burst"], env=env,
                                capture_output=True, text=True, timeout=60)
        assert worker.returncode == 1 and "noeviction" in worker.stderr
    finally:
        lru.stop()
