"""Documents that hit a limit end with a final status and an ack, and big documents do
not starve the critical queue (issue #10 item 10). Real Redis, real RQ workers (with
RQ's own job timeout), real database, the partner's real SFTP outbound folder."""

from __future__ import annotations

import time

from support import SAMPLES, add_partner_like_demo, drain, sent_by, with_partner_settings

import gateway.intake.receive as receive_module
import gateway.processing.service as service
from gateway.domain.status import MAX_PROCESS_ATTEMPTS
from gateway.intake.receive import receive
from gateway.processing.reprocess import reprocess
from gateway.roles import run_worker
from gateway.routing import queues
from gateway.routing.outbox import sweep
from gateway.store.models import Document
from gateway.store.views import document_detail

SAMPLE_855 = (SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi").read_bytes()


def show(rt, document_id: str) -> dict:
    with rt.session() as s:
        return document_detail(s.get(Document, document_id))


def outbound(rt) -> list[str]:
    folder = rt.settings.sftp_root / "demo" / "outbound"
    return [p.read_text() for p in sorted(folder.iterdir())] if folder.exists() else []


def assert_failed_with_a_ta1(rt, doc: dict, why: str) -> None:
    assert doc["status"] == "failed", doc["reason"]
    assert why in doc["reason"] and "not an error in the document" in doc["reason"]
    [ack] = doc["acks"]
    assert ack["kind"] == "TA1" and ack["status"] == "sent" and ack["acknowledges"] == "000000101"
    [sent] = outbound(rt)
    assert "TA1*000000101*261120*1030*R*024~" in sent


def test_a_job_that_runs_out_of_time_ends_failed_with_a_ta1_and_is_not_retried(rt, erp_receiver, monkeypatch):
    def slow(rt, claimed, recorded=None):
        time.sleep(60)  # stands for validation that never finishes; RQ's timeout stops it

    monkeypatch.setattr(receive_module, "processing_timeout", lambda size: 1)
    monkeypatch.setattr(service, "_process", slow)
    receipt = receive(rt, SAMPLE_855, channel="sftp", filename="huge.edi", partner_id="demo")
    drain(rt)
    doc = show(rt, receipt.document_id)
    assert_failed_with_a_ta1(rt, doc, "time limit")
    with rt.session() as s:
        assert s.get(Document, receipt.document_id).process_attempts == 1  # not run again, and again
    assert erp_receiver.posts == []


def test_a_document_whose_processing_keeps_crashing_ends_failed_with_a_ta1(rt, erp_receiver, monkeypatch):
    def crash(rt, claimed, recorded=None):
        raise RuntimeError("map engine exploded")

    fixed = service._process
    monkeypatch.setattr(service, "_process", crash)
    receipt = receive(rt, SAMPLE_855, channel="sftp", filename="a.edi", partner_id="demo")
    drain(rt, rounds=MAX_PROCESS_ATTEMPTS + 3)
    doc = show(rt, receipt.document_id)
    assert_failed_with_a_ta1(rt, doc, f"crashed {MAX_PROCESS_ATTEMPTS} times")
    assert "map engine exploded" in doc["reason"]
    assert rt.blobs.get(doc["sha256"]) == SAMPLE_855  # nothing lost

    monkeypatch.setattr(service, "_process", fixed)  # the bug is fixed; support reprocesses
    assert reprocess(rt, receipt.document_id)
    drain(rt)
    doc = show(rt, receipt.document_id)
    assert doc["status"] == "accepted"
    assert len(erp_receiver.posts) == 1
    assert [a["kind"] for a in doc["acks"]] == ["TA1", "997"]  # the partner hears the real outcome too
    again = receive(rt, SAMPLE_855, channel="sftp", filename="a-again.edi", partner_id="demo")
    drain(rt)
    dup = show(rt, again.document_id)  # a resend gets the real answer again, not "not processed"
    assert dup["status"] == "duplicate" and [a["kind"] for a in dup["acks"]] == ["997"]


def test_a_document_whose_worker_died_on_the_last_attempt_is_ended_by_the_sweeper(rt, erp_receiver):
    receipt = receive(rt, SAMPLE_855, channel="sftp", filename="a.edi", partner_id="demo")
    with rt.session() as s:  # as if every attempt's worker had been killed mid-job
        s.get(Document, receipt.document_id).process_attempts = MAX_PROCESS_ATTEMPTS
    counts = sweep(rt)
    assert counts["failed"] == 1
    drain(rt)
    assert_failed_with_a_ta1(rt, show(rt, receipt.document_id), "never finished")


def test_a_big_document_waits_on_its_own_queue_while_another_partners_small_one_is_processed(
        rt, erp_receiver, monkeypatch, tmp_path):
    with_partner_settings(rt, monkeypatch, tmp_path)  # a copy of the partners, to add one
    add_partner_like_demo(tmp_path / "partners", "other", "OTHERSUPPLY")
    rt = with_partner_settings(rt, monkeypatch, tmp_path)
    small = sent_by(SAMPLE_855, "OTHERSUPPLY")
    rt.settings = rt.settings.with_overrides(bulk_threshold_bytes=len(small) * 2)
    monkeypatch.setenv("GATEWAY_BULK_THRESHOLD_BYTES", str(len(small) * 2))
    big = b"".join(SAMPLE_855.replace(b"*000000101*", b"*%09d*" % n, 1).replace(b"IEA*1*000000101~",
                                                                                b"IEA*1*%09d~" % n)
                   for n in range(601, 604))
    assert len(big) > rt.settings.bulk_threshold_bytes >= len(small)

    big_doc = receive(rt, big, channel="sftp", filename="big.edi", partner_id="demo")  # first in
    small_doc = receive(rt, small, channel="sftp", filename="small.edi", partner_id="other")
    run_worker(rt, burst=True, queue_names=queues.CRITICAL_QUEUES)  # the worker `gateway up` runs for them
    assert show(rt, small_doc.document_id)["status"] == "accepted"
    assert show(rt, big_doc.document_id)["status"] == "received"  # not holding the critical worker
    run_worker(rt, burst=True, queue_names=queues.BULK_QUEUES)
    drain(rt)
    assert show(rt, big_doc.document_id)["status"] == "accepted"
    # four acks; the big file's second and third supersede its first and second (the
    # other partner's ack of the same PO number is not the demo partner's to supersede)
    types = [p["body"]["type"] for p in erp_receiver.posts]
    assert (types.count("purchase_order.acknowledged"), types.count("acknowledgment.superseded")) == (4, 2)


def test_gateway_up_gives_big_documents_a_worker_of_their_own():
    served = [q for group in queues.WORKER_GROUPS for q in group]
    assert sorted(served) == sorted(queues.QUEUE_ORDER)  # every queue served, each by one worker
    [bulk_group] = [g for g in queues.WORKER_GROUPS if "bulk" in g]
    assert "process" not in bulk_group and "erp" not in bulk_group
