"""A big document in flight never holds up another partner's small one (issue #10
item 10): real `gateway worker` processes laid out as `gateway up` lays them out."""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa
from faultkit import Processes, gateway_env, in_process_runtime, make_855, wait_for
from rq.registry import StartedJobRegistry
from support import REPO, add_partner_like_demo, sent_by

from gateway.intake.receive import receive
from gateway.routing import queues
from gateway.store.models import Document


def status(rt, document_id: str) -> str:
    with rt.session() as s:
        return s.get(Document, document_id).status


@pytest.mark.slow
def test_a_small_document_is_processed_while_a_big_one_is_in_flight(database_url, redis_url, erp, tmp_path,
                                                                    monkeypatch):
    if not database_url.startswith("postgresql"):
        pytest.skip("holds the big document in flight with a row lock, which needs PostgreSQL")
    partners = tmp_path / "partners"
    shutil.copytree(REPO / "partners", partners)
    add_partner_like_demo(partners, "other", "OTHERSUPPLY")
    small = sent_by(make_855(901), "OTHERSUPPLY")
    # a PO each (a later 855 for the same PO would also supersede the earlier: more posts)
    big = b"".join(make_855(n, po_number=f"4500012{n}") for n in range(902, 905))
    env = gateway_env(tmp_path, database_url, redis_url, GATEWAY_ERP_URL=erp.url,
                      GATEWAY_PARTNERS_DIR=str(partners), GATEWAY_BULK_THRESHOLD_BYTES=str(len(small) * 2))
    rt = in_process_runtime(monkeypatch, env)
    big_doc = receive(rt, big, channel="sftp", filename="big.edi", partner_id="demo")

    # The big document's worker will block on this row lock when it claims it: in flight
    # for as long as the test says, however fast the machine.
    lock = sa.create_engine(rt.settings.database_url).connect()
    lock.begin()
    lock.execute(sa.text("SELECT id FROM documents WHERE id = :id FOR UPDATE"), {"id": big_doc.document_id})
    procs = Processes(env, tmp_path)
    try:
        for group in queues.WORKER_GROUPS:  # the layout `gateway up` starts
            procs.worker("--queues", ",".join(group))
        wait_for(lambda: StartedJobRegistry("bulk", connection=rt.redis).get_job_ids(), 120,
                 what="the big document's job to start")
        small_doc = receive(rt, small, channel="sftp", filename="small.edi", partner_id="other")
        wait_for(lambda: status(rt, small_doc.document_id) == "accepted", 120, what="the small document")
        wait_for(lambda: len(erp.posts) == 1, 60, what="the small document's ERP posting")
        assert status(rt, big_doc.document_id) == "received"  # still in flight
        lock.rollback()
        wait_for(lambda: status(rt, big_doc.document_id) == "accepted", 120, what="the big document")
        wait_for(lambda: len(erp.posts) == 4, 60, what="the big document's ERP postings")
    finally:
        lock.close()
        procs.stop_all()
