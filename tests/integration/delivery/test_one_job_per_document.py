"""One RQ job per document: the processing job sends the acks and makes the first ERP
delivery attempts itself, on kept-alive connections; only the rest goes as batches."""

from __future__ import annotations

import pytest
from faultkit import assert_exactly_once, drain, gateway_env, in_process_runtime, make_855
from rq.registry import FinishedJobRegistry

from gateway import queue as jobs
from gateway.intake.receive import receive
from gateway.routing import dispatch
from gateway.store.models import AckRecord


@pytest.fixture
def rt(tmp_path, database_url, redis_url, erp, monkeypatch):
    return in_process_runtime(monkeypatch, gateway_env(tmp_path, database_url, redis_url, GATEWAY_ERP_URL=erp.url))


def finished(rt, queue_name: str) -> list:
    registry = FinishedJobRegistry(queue_name, connection=rt.redis, serializer=rt.queue(queue_name).serializer)
    return [rt.queue(queue_name).fetch_job(j) for j in registry.get_job_ids()]


def acks(rt) -> list[str]:
    with rt.session() as s:
        return [a.status for a in s.query(AckRecord)]


def test_a_document_is_one_job_that_sends_its_ack_and_delivers_to_the_erp(rt, erp):
    receive(rt, make_855(1, "PO-1"), channel="sftp", filename="1.edi", partner_id="demo")
    drain(rt)
    [job] = finished(rt, "process")
    assert job.func is jobs.process_document  # enqueued by reference, not by a dotted string
    assert finished(rt, "erp") == [] and finished(rt, "acks") == []  # no job per delivery or per ack
    assert acks(rt) == ["sent"]
    assert_exactly_once(rt, erp)


def test_the_erp_is_posted_on_one_kept_alive_connection(rt, erp):
    for n in range(1, 4):
        receive(rt, make_855(n, f"PO-{n}"), channel="sftp", filename=f"{n}.edi", partner_id="demo")
    drain(rt)
    assert len(erp.posts) == 3
    assert len({p["peer"] for p in erp.posts}) == 1  # one TCP connection for all three
    assert_exactly_once(rt, erp)


def test_deliveries_past_the_inline_limit_go_as_one_batch_job(rt, erp, monkeypatch):
    monkeypatch.setattr(dispatch, "INLINE_DELIVERIES", 1)
    three = b"".join(make_855(n, f"PO-{n}") for n in range(1, 4))  # three interchanges, three events, one file
    receive(rt, three, channel="sftp", filename="three.edi", partner_id="demo")
    drain(rt)
    [batch] = finished(rt, "erp")
    assert batch.func is jobs.deliver_batch and len(batch.args[0]) == 2
    assert batch.return_value() == {"delivered": 2}
    assert_exactly_once(rt, erp)
    assert set(acks(rt)) == {"sent"}
