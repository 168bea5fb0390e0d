"""A big interchange is processed in bounded memory: validated as a stream from its blob
and written to the database as it goes, so ten times the sets is not ten times the memory."""

from __future__ import annotations

import pytest
from faultkit import gateway_env, in_process_runtime, make_big_interchange
from support import measure_in_child

from gateway.intake.receive import receive
from gateway.processing.service import process
from gateway.store.models import Document, TransactionSetRecord


@pytest.fixture
def rt(tmp_path, database_url, redis_url, erp, monkeypatch):
    return in_process_runtime(monkeypatch, gateway_env(tmp_path, database_url, redis_url, GATEWAY_ERP_URL=erp.url))


def processed_in_child(rt, n: int, sets: int) -> float:
    receipt = receive(rt, make_big_interchange(n, sets), channel="sftp", filename=f"{n}.edi", partner_id="demo")
    measured = measure_in_child(lambda: process(rt, receipt.document_id, dispatch=lambda *_: None))
    assert measured.value == "accepted"
    with rt.session() as s:
        assert s.get(Document, receipt.document_id).status == "accepted"
        assert s.query(TransactionSetRecord).filter_by(document_id=receipt.document_id, status="accepted").count() == sets
    return measured.peak_growth_mb


@pytest.mark.slow
def test_memory_does_not_grow_with_the_number_of_sets(rt):
    small = processed_in_child(rt, 1, 500)
    big = processed_in_child(rt, 2, 4000)  # 2.4 MB: above the bulk threshold, like any big file
    # Held whole, 3,500 more sets took ~45 MB more (parsed segments, events, rows) in one transaction.
    assert big - small < 20, f"500 sets: +{small:.0f} MB, 4000 sets: +{big:.0f} MB"
