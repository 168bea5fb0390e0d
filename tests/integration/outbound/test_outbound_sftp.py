"""Outbound 850 over SFTP, end to end: the ERP posts a PO over HTTP, the supplier fetches
the 850 with OpenSSH's `sftp` and puts its 997 back, and the PO shows the answer.

Real parts throughout: the gateway's HTTP server, its SFTP server, the OpenSSH client,
Redis and the worker, the ERP receiver; SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from as2_kit import Server
from outbound_kit import PO, answer_997, answer_ta1, post_po
from sqlalchemy import func, select
from support import drain

from gateway.outbound.acks import check_overdue_acks
from gateway.outbound.send import send_unsent
from gateway.store.models import AckRecord, Document, EventRecord, TransactionSetRecord, utcnow
from gateway.store.models_outbound import OutboundDocument
from gateway.transports.sftp import SFTPService
from gateway.transports.sftp_auth import authorize_key
from gateway.web.auth import create_token

pytestmark = pytest.mark.skipif(shutil.which("sftp") is None, reason="OpenSSH sftp client not installed")


class Supplier:
    """ACME (the demo partner) at its terminal, with its own SSH key."""

    def __init__(self, rt, tmp):
        self.tmp, self.service = tmp, SFTPService(rt, host="127.0.0.1", port=0).start()
        self.key = tmp / "id_acme"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.key)], check=True)
        authorize_key(rt, "demo", self.key.with_suffix(".pub").read_text())

    def sftp(self, commands: str) -> str:
        done = subprocess.run(
            ["sftp", "-b", "-", "-i", str(self.key), "-P", str(self.service.port), "-o", "StrictHostKeyChecking=no",
             "-o", f"UserKnownHostsFile={self.tmp / 'known_hosts'}", "-o", "BatchMode=yes",
             "-o", "IdentitiesOnly=yes", "demo@127.0.0.1"], input=commands, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def outbound_files(self) -> list[str]:
        return sorted(line.strip().rsplit("/", 1)[-1] for line in self.sftp("ls -1 outbound\n").splitlines()
                      if line.strip() and not line.startswith("sftp>"))

    def fetch(self, name: str) -> bytes:
        self.sftp(f"lcd {self.tmp}\nget outbound/{name}\n")
        return (self.tmp / name).read_bytes()

    def answer(self, data: bytes, name: str) -> None:
        (self.tmp / name).write_bytes(data)
        self.sftp(f"put {self.tmp / name} inbound/{name}\n")


@pytest.fixture
def world(rt, tmp_path):
    http, supplier = Server(rt), Supplier(rt, tmp_path)
    yield http.url.rsplit("/as2", 1)[0], create_token(rt, "erp", "buyer"), supplier
    supplier.service.stop()
    http.stop()


def _outbound(rt, outbound_id) -> OutboundDocument:
    with rt.session() as s:
        row = s.get(OutboundDocument, outbound_id)
        s.expunge(row)
        return row


def test_a_po_goes_out_once_and_the_suppliers_997_accepts_it(rt, world, erp_receiver):
    base, token, supplier = world
    first = post_po(base, token, "erp-po-4500012345-v1")
    assert first.status_code == 201, first.text
    sent = first.json()
    assert (sent["status"], sent["ack_status"], sent["po_number"]) == ("sent", "awaiting", "4500012345")
    again = post_po(base, token, "erp-po-4500012345-v1")  # the ERP retries after a timeout
    assert again.status_code == 200 and again.json()["id"] == sent["id"] and again.json()["repeat"] is True

    [name] = supplier.outbound_files()  # sent once, however often the ERP asked
    assert name == f"850_{sent['interchange_control_number']}.x12"
    x12 = supplier.fetch(name)
    assert b"BEG*00*SA*4500012345**20261118~" in x12 and b"*ZZ*BUYERCO        *ZZ*ACMESUPPLY     *" in x12
    with rt.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboundDocument)) == 1
        assert rt.blobs.get(s.get(Document, sent["id"]).sha256) == x12

    supplier.answer(answer_997(x12), "997_for_850.x12")
    drain(rt)
    row = _outbound(rt, sent["id"])
    assert (row.ack_status, row.ack_kind, row.ack_errors) == ("accepted", "997", [])
    with rt.session() as s:
        ack_doc = s.scalar(select(Document).where(Document.channel == "sftp"))
        assert row.ack_document_id == ack_doc.id and ack_doc.status == "accepted"
        assert s.scalars(select(AckRecord).where(AckRecord.document_id == ack_doc.id)).all() == []
        assert [e.type for e in s.scalars(select(EventRecord).order_by(EventRecord.created_at))] == [
            "purchase_order.issued", "ack.received"]
    assert supplier.outbound_files() == [name]  # the 997 is never acknowledged
    posted = {p["body"]["type"]: p["body"] for p in erp_receiver.posts}
    assert posted["ack.received"]["payload"] == {
        "document_id": sent["id"], "status": "accepted", "errors": [], "po_number": "4500012345",
        "transaction_set": "850", "ack_document_id": ack_doc.id}
    assert posted["purchase_order.issued"]["payload"] == PO
    assert check_overdue_acks(rt, utcnow() + timedelta(days=3)) == 0  # answered: never overdue
    listed = subprocess.run([sys.executable, "-m", "gateway", "outbound", "list", "--json"], capture_output=True,
                            text=True, timeout=60)  # the operator's view, from this test's environment
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["ack_counts"] == {"accepted": 1}


def test_a_997_rejecting_the_850_marks_the_po_rejected_with_the_partners_detail(rt, world, erp_receiver):
    base, token, supplier = world
    sent = post_po(base, token, "erp-po-rejected").json()
    x12 = supplier.fetch(supplier.outbound_files()[0])
    supplier.answer(answer_997(x12, "R", "AK3*PO1*14**8~AK4*4*212*6*12.50~", icn=777), "997_reject.x12")
    drain(rt)
    detail = requests.get(f"{base}/api/v1/purchase-orders/outbound/{sent['id']}",
                          headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
    assert detail["ack_status"] == "rejected"
    assert {"segment_id": "PO1", "segment_position": "14", "loop": None, "element_position": "4",
            "element_reference": "212", "code": "6", "bad_value": "12.50"} in detail["ack_errors"]
    [event] = [p["body"] for p in erp_receiver.posts if p["body"]["type"] == "ack.received"]
    assert event["payload"]["status"] == "rejected" and event["payload"]["errors"] == detail["ack_errors"]
    rejected = requests.get(f"{base}/api/v1/purchase-orders/outbound", params={"ack_status": "rejected"},
                            headers={"Authorization": f"Bearer {token}"}, timeout=30).json()["outbound"]
    assert [o["id"] for o in rejected] == [sent["id"]]


def test_a_ta1_accepting_our_envelope_waits_for_the_997_and_one_rejecting_it_rejects_the_po(rt, world):
    base, token, supplier = world
    sent = post_po(base, token, "erp-po-ta1").json()
    x12 = supplier.fetch(supplier.outbound_files()[0])
    supplier.answer(answer_ta1(x12, "A"), "ta1_ok.x12")
    drain(rt)
    assert _outbound(rt, sent["id"]).ack_status == "awaiting"  # the envelope was fine; the 850 not yet answered
    supplier.answer(answer_ta1(x12, "R", "022", icn=602), "ta1_rejected.x12")
    drain(rt)
    row = _outbound(rt, sent["id"])
    assert (row.ack_status, row.ack_kind, row.ack_errors) == ("rejected", "TA1", [
        {"interchange_note_code": "022", "code": "R"}])
    with rt.session() as s:
        docs = s.scalars(select(Document).where(Document.channel == "sftp")).all()
        assert [d.status for d in docs] == ["accepted", "accepted"]  # an interchange of TA1s is not a rejection
        assert s.scalars(select(AckRecord)).all() == []  # and, being an ack, is never acknowledged
    assert supplier.outbound_files() == [f"850_{sent['interchange_control_number']}.x12"]


def test_a_997_for_something_we_never_sent_is_kept_and_says_so(rt, world):
    base, token, supplier = world
    sent = post_po(base, token, "erp-po-x").json()
    x12 = supplier.fetch(supplier.outbound_files()[0])
    stranger = answer_997(x12).replace(b"AK1*PO*", b"AK1*PO*99")  # a group number we never used
    supplier.answer(stranger, "997_stranger.x12")
    drain(rt)
    assert _outbound(rt, sent["id"]).ack_status == "awaiting"
    with rt.session() as s:
        [row] = s.scalars(select(TransactionSetRecord).where(TransactionSetRecord.set_id == "997")).all()
        assert row.errors[0]["code"] == "ACK_UNMATCHED" and "matches nothing we sent demo" in row.errors[0]["message"]


def test_a_send_that_fails_on_our_side_is_kept_said_to_be_ours_and_sent_later_once(rt, world):
    base, token, supplier = world
    folder = rt.settings.sftp_root / "demo" / "outbound"
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("not a folder")  # our storage is broken: the file cannot be written
    failed = post_po(base, token, "erp-po-disk")
    assert failed.status_code == 503 and "same Idempotency-Key" in failed.json()["error"]
    with rt.session() as s:
        [row] = s.scalars(select(OutboundDocument)).all()
        assert row.status == "send_failed" and "File exists" in row.last_error
    assert send_unsent(rt, utcnow()) == 0  # a minute's grace: the ERP's own retry comes first
    folder.unlink()
    assert send_unsent(rt, utcnow() + timedelta(minutes=2)) == 1  # the sweeper's pass
    assert send_unsent(rt, utcnow() + timedelta(minutes=4)) == 0
    again = post_po(base, token, "erp-po-disk")  # the ERP's retry finds it sent
    assert again.status_code == 200 and again.json()["status"] == "sent"
    assert supplier.outbound_files() == [f"850_{again.json()['interchange_control_number']}.x12"]


def test_the_same_key_posted_at_once_from_eight_threads_makes_one_850(rt, world):
    base, token, supplier = world
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: post_po(base, token, "erp-po-race"), range(8)))
    assert sorted(a.status_code for a in answers) == [200] * 7 + [201], [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    with rt.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboundDocument)) == 1
        assert s.scalar(select(func.count()).select_from(EventRecord)) == 1
    assert len(supplier.outbound_files()) == 1
    support = create_token(rt, "support", "support")
    refused = requests.post(f"{base}/api/v1/documents/{answers[0].json()['id']}/reprocess", json={"reason": "try"},
                            headers={"Authorization": f"Bearer {support}"}, timeout=30)
    assert refused.status_code == 409 and "a document we sent" in refused.json()["error"]


def test_refusals_are_clear_and_send_nothing(rt, world):
    base, token, supplier = world
    assert post_po(base, token, None).status_code == 400  # no Idempotency-Key
    assert post_po(base, token, "k-1", partner="nobody").status_code == 400
    bad = post_po(base, token, "k-2", {**PO, "lines": [{"line_number": "1"}]})
    assert bad.status_code == 422 and "quantity" in str(bad.json()["errors"])
    too_long = post_po(base, token, "k-3", {**PO, "po_number": "P" * 23})
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["segment_id"] == "BEG"
    delimiter = post_po(base, token, "k-4", {**PO, "currency": "US*D"})
    assert delimiter.status_code == 422 and "CUR02" in delimiter.json()["error"]
    assert supplier.outbound_files() == []
    issued = post_po(base, token, "k-5")
    assert issued.status_code == 201  # the refused 850s gave their control numbers back: none is skipped
    assert (issued.json()["interchange_control_number"], issued.json()["group_control_number"]) == ("000000001", "1")
    reused = post_po(base, token, "k-5", {**PO, "po_number": "4500099999"})
    assert reused.status_code == 409 and "different purchase order" in reused.json()["error"]
    assert len(supplier.outbound_files()) == 1
    viewer = create_token(rt, "looker", "viewer")
    assert post_po(base, viewer, "k-6").status_code == 403
    paths = requests.get(f"{base}/openapi.json", timeout=30).json()["paths"]
    assert {"/api/v1/purchase-orders", "/api/v1/purchase-orders/outbound",
            "/api/v1/purchase-orders/outbound/{outbound_id}"} <= set(paths)
