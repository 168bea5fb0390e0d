"""Dead letters and replay: the last error is kept, a replay reuses the idempotency key."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from faultkit import SAMPLE_855, drain, gateway_env, in_process_runtime, ledger, make_855

from gateway.intake.receive import receive
from gateway.routing.replay import replay_dead_letters, replay_delivery, replay_document
from gateway.store.models import DeliveryRecord


@pytest.fixture
def env(tmp_path, database_url, redis_url, erp):
    return gateway_env(tmp_path, database_url, redis_url, GATEWAY_ERP_URL=erp.url, GATEWAY_DELIVERY_MAX_ATTEMPTS="2")


@pytest.fixture
def rt(env, monkeypatch):
    return in_process_runtime(monkeypatch, env)


def only_delivery(rt) -> DeliveryRecord:
    with rt.session() as s:
        [d] = s.query(DeliveryRecord).all()
        s.expunge(d)
        return d


def test_a_refusal_is_kept_and_a_replay_delivers_it_under_the_same_key(rt, erp):
    erp.script = [422]
    receipt = receive(rt, SAMPLE_855.read_bytes(), channel="sftp", filename="a.edi", partner_id="demo")
    drain(rt)
    d = only_delivery(rt)
    assert (d.status, d.attempts, d.response_status) == ("dead_lettered", 1, 422)
    assert "HTTP 422" in d.last_error and "scripted" in d.response_body and d.dead_lettered_at

    report = replay_delivery(rt, d.id)
    assert report.requeued == [d.id]
    drain(rt)
    d = only_delivery(rt)
    assert (d.status, d.replays, d.last_error) == ("delivered", 1, None)
    assert erp.keys() == [d.event_id, d.event_id]

    # the whole document again: already delivered, so nothing is sent unless forced
    report = replay_document(rt, receipt.document_id)
    assert report.requeued == [] and "already delivered" in report.skipped[d.id]
    report = replay_document(rt, receipt.document_id, force=True)
    drain(rt)
    assert report.requeued == [d.id] and erp.keys() == [d.event_id] * 3  # the ERP sees the same key again
    with pytest.raises(LookupError):
        replay_delivery(rt, "no-such-delivery")


def test_an_outage_dead_letters_after_the_last_try_and_replay_all_recovers(rt, erp):
    erp.fail_until = time.time() + 3600
    for n in range(3):
        # each for its own PO: a later 855 for the same PO would also supersede the earlier
        receive(rt, make_855(500 + n, po_number=f"45000125{n:02d}"), channel="sftp", filename=f"{n}.edi",
                partner_id="demo")
    drain(rt)
    book = ledger(rt)
    assert set(book["deliveries"].values()) == {"dead_lettered"}
    assert len(erp.posts) == 6  # two tries each (GATEWAY_DELIVERY_MAX_ATTEMPTS=2)
    with rt.session() as s:
        assert {d.last_error for d in s.query(DeliveryRecord)} == {f"HTTP 500 from {erp.url}"}

    erp.fail_until = 0
    report = replay_dead_letters(rt, "erp_http")
    assert len(report.requeued) == 3
    drain(rt)
    assert set(ledger(rt)["deliveries"].values()) == {"delivered"}
    assert set(erp.committed()) == set(book["events"]) and set(erp.committed().values()) == {1}


def test_gateway_replay_on_the_command_line(rt, env, erp):
    erp.script = [409]
    receive(rt, SAMPLE_855.read_bytes(), channel="sftp", filename="a.edi", partner_id="demo")
    drain(rt)
    d = only_delivery(rt)

    def gateway(*args):
        return subprocess.run([sys.executable, "-m", "gateway", *args], env=env, capture_output=True, text=True,
                              timeout=60)

    listed = gateway("deliveries", "list", "--status", "dead_lettered", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [r["id"] for r in json.loads(listed.stdout)] == [d.id]
    result = gateway("replay", "dead-letters", "erp_http", "--json", "--reason", "ERP is back")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"requeued": [d.id], "skipped": {}}
    drain(rt)
    assert only_delivery(rt).status == "delivered"
    assert gateway("replay", "delivery", "nope", "--reason", "test").returncode == 1
    assert gateway("replay", "sideways", "x").returncode == 2
