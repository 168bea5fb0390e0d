"""Periodic work with the roles split into separate processes (no `gateway up`): the AS2
resender runs as a scheduled RQ job with only `gateway web` and `gateway worker` up, and
with two workers (two schedulers) a slow task never runs twice at once."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from as2_kit import PartnerAs2Server, make_runtime, new_keys, write_partner
from faultkit import Processes, gateway_env, wait_for
from sqlalchemy import select
from support import free_port

from gateway import periodic
from gateway.store.models import utcnow
from gateway.store.models_transport import As2Message
from gateway.transports.as2_send import deliver, queue_as2

pytestmark = pytest.mark.slow

ACK = b"ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*ACMESUPPLY     *...~IEA*1*000000001~"


@pytest.fixture(scope="module")
def keys():
    return {"ours": new_keys("BUYERCO"), "acme": new_keys("ACME-AS2")}


def _gateway(tmp_path, keys, database_url, redis_url, partner_port: int, **as2):
    partners = tmp_path / "partners"
    write_partner(partners, "acme", "ACME-AS2", [keys["acme"].cert_pem], url=f"http://127.0.0.1:{partner_port}/as2",
                  **as2)
    web_port = free_port()
    env = gateway_env(tmp_path, database_url, redis_url, GATEWAY_PARTNERS_DIR=str(partners), GATEWAY_AS2_ID="BUYERCO",
                      GATEWAY_HTTP_PORT=str(web_port), GATEWAY_AS2_MDN_URL=f"http://127.0.0.1:{web_port}/as2")
    rt = make_runtime(tmp_path / "home", partners, database_url, redis_url, [keys["ours"]],
                      GATEWAY_AS2_MDN_URL=env["GATEWAY_AS2_MDN_URL"])
    return rt, env


def _out_rows(rt):
    with rt.session() as s:
        return s.scalars(select(As2Message).where(As2Message.direction == "out").order_by(As2Message.id)).all()


def test_as2_resend_runs_with_only_web_and_worker_processes(tmp_path, keys, database_url, redis_url):
    partner_port = free_port()
    rt, env = _gateway(tmp_path, keys, database_url, redis_url, partner_port, mdn="async")
    row_id, _ = queue_as2(rt, rt.partners["acme"], "997_000000001.x12", ACK)
    assert deliver(rt, row_id) == "pending"  # the partner is away: the first attempt fails
    with rt.session() as s:  # due again now, not after the 10 s backoff
        s.get(As2Message, row_id).next_attempt_at = utcnow() - timedelta(seconds=1)
    partner = PartnerAs2Server(keys["acme"], keys["ours"].cert_pem, partner_port)
    procs = Processes(dict(env, GATEWAY_PERIODIC_INTERVALS="as2-resend=0.5"), tmp_path)
    try:
        procs.gateway("web", name="web")  # receives the partner's async MDN
        procs.worker()  # runs the periodic scheduler and the as2-resend job
        wait_for(lambda: _out_rows(rt)[0].status == "delivered", 180, interval=0.3,
                 what="the AS2 message resent by the periodic task and its async MDN received by `gateway web`")
    finally:
        procs.stop_all()
        partner.stop()
    [row] = _out_rows(rt)
    assert row.attempts == 2 and row.mdn_status == "processed"
    assert partner.received == [ACK]  # sent once more, not once per scheduler or per tick
    assert any(r["outcome"] == "ok" for r in periodic.runs(rt.redis, "as2-resend"))


def test_two_workers_never_run_the_same_task_at_once(tmp_path, keys, database_url, redis_url):
    """A partner that takes every connection and never answers makes each AS2 resend pass
    last seconds, while two workers' schedulers queue the task every 0.3 s."""
    hanging = socket.create_server(("127.0.0.1", 0))  # listens, never accepts: each POST waits for its timeout
    rt, env = _gateway(tmp_path, keys, database_url, redis_url, hanging.getsockname()[1], timeout=2)
    for n in range(3):
        queue_as2(rt, rt.partners["acme"], f"997_00000000{n}.x12", ACK)
    procs = Processes(dict(env, GATEWAY_PERIODIC_INTERVALS="as2-resend=0.3"), tmp_path)
    try:
        procs.worker()
        procs.worker()
        wait_for(lambda: all(r.attempts >= 1 for r in _out_rows(rt)), 180, interval=0.3,
                 what="every message tried once")
        wait_for(lambda: _skipped(rt) or _overlapping(rt), 60, interval=0.3,
                 what="a second worker taking the task while a run of it was going")
    finally:
        procs.stop_all()
        hanging.close()
    assert not _overlapping(rt)  # two runs of the task never overlapped in time
    assert _skipped(rt)  # ... though a second worker took it while a run was going
    assert [r.attempts for r in _out_rows(rt)] == [1, 1, 1]  # each message tried once, not once per worker


def _skipped(rt) -> bool:
    return any(r["outcome"] == "skipped" for r in periodic.runs(rt.redis, "as2-resend"))


def _overlapping(rt) -> list:
    done = [r for r in periodic.runs(rt.redis, "as2-resend") if r["outcome"] == "ok"]
    return [(a, b) for i, a in enumerate(done) for b in done[i + 1:]
            if a["started"] < b["finished"] and b["started"] < a["finished"]]
