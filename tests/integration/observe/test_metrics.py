"""/metrics scraped and parsed with prometheus-client's own parser: the counters match
what the test sent through the real pipeline (Redis, a worker, the database, an HTTP ERP)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from support import SAMPLES, drain

from gateway.intake.receive import receive
from gateway.web.app import create_app
from gateway.web.auth import create_token

SAMPLE_855 = SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi"


def _855(n: int) -> bytes:
    icn = f"{n:09d}".encode()
    data = SAMPLE_855.read_bytes()
    data = data.replace(b"*000000101*", b"*" + icn + b"*", 1).replace(b"IEA*1*000000101", b"IEA*1*" + icn, 1)
    return data.replace(b"*4500012345*", f"*45000{n:05d}*".encode(), 1)  # its own PO: no 855 supersedes another


def scrape(rt, token: str | None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = create_app(rt).test_client().get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.data
    assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {f.name: f for f in text_string_to_metric_families(answer.get_data(as_text=True))}


def value(families: dict, name: str, sample: str | None = None, **labels) -> float:
    matching = [s.value for s in families[name].samples if s.name == (sample or name) and
                all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(matching) == 1, (name, labels, families[name].samples)
    return matching[0]


def test_counters_match_what_was_sent(rt, erp_receiver):
    erp_receiver.script = [200, 200, 422]  # the third 855's event is refused: a dead letter
    for n in (1, 2, 3):
        receive(rt, _855(n), channel="sftp", filename=f"{n}.edi", partner_id="demo")
    receive(rt, b"not an interchange at all\n", channel="sftp", filename="junk.txt", partner_id="demo")
    drain(rt)
    token = create_token(rt, "prometheus", "viewer")
    m = scrape(rt, token)
    x12 = dict(partner="demo", format="x12", type="855")
    assert value(m, "gateway_documents_received", "gateway_documents_received_total", **x12) == 3
    assert value(m, "gateway_documents_accepted", "gateway_documents_accepted_total", **x12) == 3
    assert value(m, "gateway_documents_rejected", "gateway_documents_rejected_total", **x12) == 0
    junk = dict(partner="demo", type="unknown")
    assert value(m, "gateway_documents_rejected", "gateway_documents_rejected_total", **junk) == 1
    assert value(m, "gateway_documents", status="accepted") == 3
    assert value(m, "gateway_deliveries_delivered", "gateway_deliveries_delivered_total", adapter="erp_http") == 2
    assert value(m, "gateway_dead_letters", adapter="erp_http") == 1
    # one processing time per processed document; one end-to-end time per delivered delivery
    assert value(m, "gateway_document_processing_seconds", "gateway_document_processing_seconds_count") == 4
    assert value(m, "gateway_document_processing_seconds", "gateway_document_processing_seconds_bucket",
                 le="+Inf") == 4
    assert value(m, "gateway_delivery_end_to_end_seconds", "gateway_delivery_end_to_end_seconds_count") == 2
    for name in ("gateway_document_processing_seconds", "gateway_delivery_end_to_end_seconds"):
        buckets = [s.value for s in m[name].samples if s.name.endswith("_bucket")]
        assert buckets == sorted(buckets) and buckets[-1] == value(m, name, name + "_count")  # cumulative
    assert value(m, "gateway_delivery_end_to_end_seconds", "gateway_delivery_end_to_end_seconds_sum") > 0
    assert value(m, "gateway_queue_depth", queue="process") == 0
    assert value(m, "gateway_redis_up") == 1 and value(m, "gateway_workers") == 0  # the burst worker is gone
    assert value(m, "gateway_acks_overdue") == 0

    receive(rt, _855(4), channel="sftp", filename="4.edi", partner_id="demo")  # queued, no worker running
    m = scrape(rt, token)
    assert value(m, "gateway_queue_depth", queue="process") == 1
    assert 0 < value(m, "gateway_queue_oldest_job_age_seconds", queue="process") < 3600  # enqueued before the scrape
    received = [s for s in m["gateway_documents_received"].samples if s.name.endswith("_total")]
    assert sum(s.value for s in received) == 5
    assert value(m, "gateway_documents_received", "gateway_documents_received_total",
                 partner="demo", format="unknown", type="unknown") == 2  # the junk, and the one not processed yet


def test_an_anonymous_scrape_where_allowed_names_no_partner(rt, erp_receiver):
    receive(rt, _855(1), channel="sftp", filename="1.edi", partner_id="demo")
    drain(rt)
    rt.settings = rt.settings.with_overrides(metrics_access="open")
    m = scrape(rt, None)
    assert "gateway_documents_received" not in m and "gateway_outbound_documents" not in m
    assert value(m, "gateway_documents", status="accepted") == 1  # counts without partner labels stay
    assert all("partner" not in s.labels or s.labels["partner"] == "(us)" for f in m.values() for s in f.samples)
