"""A running worker process picks up an activated map version without a restart: the
same process translates one 855 with the file map, and the next, after a buyer activated
version 2, with version 2 (and after a rollback, with the file map again)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from onboarding_support import BUYER, RENUMBERED_855_MAP, SAMPLE_855
from sqlalchemy import select

from gateway.intake.receive import receive
from gateway.onboarding import dry_run, map_versions
from gateway.store.models import Document, EventRecord

BOUND = 120.0  # seconds: a bound on a busy machine, not a speed claim


@pytest.fixture
def worker(rt, tmp_path):
    env = {**os.environ, "GATEWAY_HOME": str(rt.settings.home), "DATABASE_URL": rt.settings.database_url,
           "REDIS_URL": rt.settings.redis_url}
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "worker", "--sweep-interval", "0.5"], env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    yield proc
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    log.close()


def _processed(rt, worker, control: str) -> list:
    """The item numbers of the 855 sent under ISA13 ``control``, once the worker processed it."""
    data = SAMPLE_855.read_bytes().replace(b"000000101", control.encode())
    doc = receive(rt, data, channel="sftp", filename=f"{control}.edi", partner_id="demo").document_id
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        assert worker.poll() is None, "the worker process ended"
        with rt.session() as s:
            status = s.get(Document, doc).status
            if status != "received":
                assert status == "accepted"
                body = s.scalars(select(EventRecord).where(  # the 855's own event, not a superseding one
                    EventRecord.document_id == doc, EventRecord.type == "purchase_order.acknowledged")).one().body
                return [line.get("item_number") for line in body["payload"]["lines"]]
        time.sleep(0.2)
    raise AssertionError(f"the worker did not process {doc} within {BOUND} s")


def test_a_running_worker_uses_the_version_activated_after_it_started(rt, worker):
    assert _processed(rt, worker, "000000301")[0] == "ITEM-100"
    version = map_versions.upload(rt, BUYER, "demo", "acme-855.yaml", RENUMBERED_855_MAP, "renumbered")
    run = dry_run.run(rt, BUYER, "demo", version.id)
    map_versions.activate(rt, BUYER, "demo", version.id, run.id, "renumbered from today")
    assert _processed(rt, worker, "000000302")[0] == "ITEM-100-B"
    map_versions.rollback(rt, BUYER, "demo", "x12-855-004010", "back")
    assert _processed(rt, worker, "000000303")[0] == "ITEM-100"
    assert worker.poll() is None  # one process all along
