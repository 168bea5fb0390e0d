"""Many machines (issue #5 §7): three `gateway worker` processes and two intake
processes against one PostgreSQL and one Redis; no event is posted twice."""

from __future__ import annotations

import pytest
from faultkit import (
    Processes,
    Receiver,
    all_delivered,
    assert_exactly_once,
    gateway_env,
    in_process_runtime,
    ledger,
    make_855,
    wait_for,
)

from gateway.routing.derived import register_purchase_order

pytestmark = pytest.mark.slow

PER_INTAKE = 12


def test_three_workers_and_two_intakes_deliver_each_event_once(tmp_path, database_url, redis_url, monkeypatch):
    if not database_url.startswith("postgresql"):
        pytest.skip("several machines share a PostgreSQL server, not a SQLite file")
    erp, planning = Receiver(), Receiver()
    env = gateway_env(tmp_path, database_url, redis_url, GATEWAY_ERP_URL=erp.url,
                      GATEWAY_PLANNING_URL=planning.url)
    rt = in_process_runtime(monkeypatch, env)
    register_purchase_order(rt, {"po_number": "4500012345", "lines": [
        {"line_number": "2", "buyer_part": "BRACKET-200", "requested_date": "2026-12-01"}]}, "demo")
    procs = Processes(env, tmp_path)
    try:
        for _ in range(3):
            procs.worker()
        for i in range(2):
            folder = tmp_path / f"intake{i}"
            folder.mkdir()
            for n in range(PER_INTAKE):
                (folder / f"{n}.edi").write_bytes(make_855(1000 * (i + 1) + n))
            procs.python(
                "import pathlib; from gateway.bootstrap import bootstrap; from gateway.intake.receive import receive\n"
                "rt = bootstrap()\n"
                f"for p in sorted(pathlib.Path({str(folder)!r}).iterdir()):\n"
                "    receive(rt, p.read_bytes(), channel='sftp', filename=p.name, partner_id='demo')\n",
                name="intake")
        total = 2 * PER_INTAKE
        wait_for(lambda: ledger(rt)["documents"].get("accepted") == total and all_delivered(rt), 180,
                 what="every document delivered")
    finally:
        procs.stop_all()
        erp.stop()
        planning.stop()
    assert_exactly_once(rt, erp)
    assert_exactly_once(rt, planning, "delivery_date.changed")
    # every 855 is for one PO: each also supersedes an earlier one (acknowledgment.superseded)
    assert len(erp.posts) == len(ledger(rt)["events"]) and len(planning.posts) == total  # not one POST twice
    # three workers recorded acks of one PO at once, yet they supersede one another as a
    # chain: every ack but the one now in force is superseded, and exactly once
    acks = [p["key"] for p in erp.posts if p["body"]["type"] == "purchase_order.acknowledged"]
    named = [i for p in erp.posts if p["body"]["type"] == "acknowledgment.superseded"
             for i in p["body"]["payload"]["original_event_ids"]]
    assert len(named) == len(set(named)) == len(acks) - 1 and set(named) < set(acks)
