"""Each adapter against a real HTTP receiver (or a real folder): what counts as
delivered, refused and retried, and what the target is sent."""

from __future__ import annotations

import json
import threading

import pytest
from faultkit import Receiver

from gateway.adapters.base import Outcome
from gateway.adapters.erp_http import ErpHttpAdapter
from gateway.adapters.file import FileAdapter
from gateway.adapters.planning_http import PlanningHttpAdapter, receipt_updates
from gateway.adapters.webhook import WebhookAdapter, sign, verify_signature


def event(kind="purchase_order.acknowledged", payload=None, n=1):
    return {"event_id": f"00000000-0000-5000-8000-{n:012d}", "type": kind, "partner_id": "demo",
            "occurred_at": "2026-11-20T10:30:00+00:00", "received_at": "2026-11-27T06:00:00+00:00",
            "correlation_id": "cor_1", "source": {"document_id": "doc_1"}, "payload": payload or {"po_number": "1"}}


@pytest.fixture
def target():
    r = Receiver()
    yield r
    r.stop()


@pytest.mark.parametrize("answer, outcome", [
    (200, Outcome.DELIVERED), (201, Outcome.DELIVERED), (422, Outcome.REFUSED), (404, Outcome.REFUSED),
    (429, Outcome.RETRY), (408, Outcome.RETRY), (500, Outcome.RETRY), (503, Outcome.RETRY), ("drop", Outcome.RETRY),
])
def test_erp_answers_are_classified(target, answer, outcome):
    target.script = [answer]
    result = ErpHttpAdapter(target.url, timeout=5).deliver(event())
    assert result.outcome is outcome
    [post] = target.posts
    assert post["key"] == event()["event_id"] and post["headers"]["X-Event-Type"] == "purchase_order.acknowledged"
    if answer == 422:
        assert result.status_code == 422 and "scripted" in result.response_body  # kept to show support


def test_an_erp_that_does_not_answer_in_time_is_retried(target):
    target.delay = 1.5
    result = ErpHttpAdapter(target.url, timeout=0.3).deliver(event())
    assert result.outcome is Outcome.RETRY and "within 0.3s" in result.detail


def test_an_unreachable_erp_is_retried():
    r = Receiver()
    url = r.url
    r.stop()
    assert ErpHttpAdapter(url, timeout=1).deliver(event()).outcome is Outcome.RETRY


def test_planning_gets_expected_receipt_dates_for_a_date_change_and_a_shipment(target):
    changed = event("delivery_date.changed", {"po_number": "4500012345", "line_number": "2",
                                              "previous_date": "2026-12-01", "new_date": "2026-12-10",
                                              "days_late": 9}, n=2)
    shipment = event("shipment.noticed", {"shipment_id": "SH-77001", "expected_delivery": "2026-12-08T00:00:00",
                                          "orders": [{"po_number": "4500012345", "lines": [
                                              {"line_number": "1", "quantity_shipped": "100"},
                                              {"line_number": "3", "quantity_shipped": "25"}]}]}, n=3)
    adapter = PlanningHttpAdapter(target.url)
    assert adapter.deliver(changed).outcome is Outcome.DELIVERED
    assert adapter.deliver(shipment).outcome is Outcome.DELIVERED
    first, second = (p["body"] for p in target.posts)
    assert first["updates"][0]["expected_receipt_date"] == "2026-12-10" and first["updates"][0]["days_late"] == 9
    assert [(u["line_number"], u["expected_receipt_date"], u["quantity"], u["shipment_id"])
            for u in second["updates"]] == [("1", "2026-12-08", "100", "SH-77001"), ("3", "2026-12-08", "25", "SH-77001")]
    assert [p["key"] for p in target.posts] == [changed["event_id"], shipment["event_id"]]


def test_planning_refuses_events_it_cannot_carry_and_skips_shipments_without_a_date(target):
    adapter = PlanningHttpAdapter(target.url)
    assert adapter.deliver(event("invoice.received")).outcome is Outcome.REFUSED
    undated = event("shipment.noticed", {"shipment_id": "S", "expected_delivery": None, "orders": []})
    assert receipt_updates(undated) == []
    assert adapter.deliver(undated).outcome is Outcome.DELIVERED
    assert target.posts == []


def test_webhook_bodies_are_signed_with_the_route_secret_and_a_timestamp(target):
    e = event()
    assert WebhookAdapter(target.url, "k1").deliver(e).outcome is Outcome.DELIVERED
    [post] = target.posts
    ts, sig = post["headers"]["X-Gateway-Timestamp"], post["headers"]["X-Gateway-Signature"]
    assert sig == sign("k1", ts, post["raw"]) and sig.startswith("sha256=")
    assert verify_signature("k1", ts, post["raw"], sig)
    assert not verify_signature("k1", ts, post["raw"] + b" ", sig)  # tampered body
    assert not verify_signature("k1", ts, post["raw"], sig, now=int(ts) + 3600)  # replayed an hour later
    assert json.loads(post["raw"]) == e and post["key"] == e["event_id"]


def test_the_file_adapter_appends_each_event_once_and_repairs_a_torn_line(tmp_path):
    adapter = FileAdapter(tmp_path / "out")
    first, second = event(n=1), event(n=2)
    assert adapter.deliver(first).outcome is Outcome.DELIVERED
    assert adapter.deliver(first).detail.startswith("already in")  # a retry or replay: idempotent
    path = adapter.path_for(first)
    with open(path, "ab") as f:
        f.write(b'{"event_id": "half-writ')  # a writer died mid-line
    assert adapter.deliver(second).outcome is Outcome.DELIVERED
    lines = path.read_text().splitlines()
    assert [json.loads(line)["event_id"] for line in lines] == [first["event_id"], second["event_id"]]


def test_concurrent_file_appends_never_interleave_or_repeat(tmp_path):
    adapter = FileAdapter(tmp_path)
    events = [event(n=i, payload={"po_number": "x" * 5000}) for i in range(40)]

    def push(chunk):
        for e in chunk:
            FileAdapter(tmp_path).deliver(e)

    threads = [threading.Thread(target=push, args=(events[i::2] + events,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = adapter.path_for(events[0]).read_text().splitlines()
    assert sorted(json.loads(line)["event_id"] for line in lines) == sorted(e["event_id"] for e in events)
