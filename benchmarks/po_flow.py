"""PO flow benchmark: what the flow adds to recording an event, and what the periodic
deadline check costs with many open POs.

    python benchmarks/po_flow.py [--pos 2000] [--lines 100] [--database-url URL]

On a fresh SQLite database (or ``--database-url``), it records ``--pos`` 850 steps
(``record_flow``, one transaction each, as the hook runs inside ``record_event``), then
times ``check_flow_deadlines``: once before anything is due (the common case: an index
range that finds nothing), once when every PO's 997 is overdue (an alert and an event
per PO; no adapter is configured, so nothing is queued), and once more (nothing new).
Last, the 810 of a PO of ``--lines`` lines with its ASN: the step plus the three-way
match. Times are wall-clock milliseconds on this machine: medians for the steps (without
the commit, whose fsync depends on the disk), the whole call for the checks.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gateway.bootstrap import bootstrap  # noqa: E402
from gateway.config import load_settings  # noqa: E402
from gateway.flow.deadlines import check_flow_deadlines  # noqa: E402
from gateway.flow.record import record_flow  # noqa: E402
from gateway.store.migrate import upgrade  # noqa: E402
from gateway.store.models import Document, utcnow  # noqa: E402

SAMPLE = json.loads((REPO / "maps/translate/x12-850-004010.buyerco.expected.json").read_text())[0]


def _event(event_type: str, event_id: str, payload: dict, set_id: str) -> dict:
    return {"event_id": event_id, "type": event_type, "partner_id": "demo", "payload": payload,
            "source": {"transaction_set": set_id, "format": "x12"}}


def _po(number: str, lines: int) -> dict:
    """The sample PO with ``lines`` lines, wanted in 30 days (so its ASN is not due yet)."""
    po = copy.deepcopy(SAMPLE["payload"])
    wanted = (utcnow() + timedelta(days=30)).date().isoformat()
    po["po_number"], po["requested_date"] = number, wanted
    po["lines"] = [{**SAMPLE["payload"]["lines"][i % 3], "line_number": str(i + 1), "requested_date": wanted}
                   for i in range(lines)]
    return po


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pos", type=int, default=2000)
    ap.add_argument("--lines", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--database-url")
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # one "flow alert" line per PO would be timed too
    home = Path(tempfile.mkdtemp(prefix="po-flow-bench-"))
    env = {"GATEWAY_HOME": str(home), "DATABASE_URL": args.database_url or f"sqlite:///{home}/bench.db",
           "GATEWAY_ROUTES_FILE": str(home / "routes.yaml")}
    (home / "routes.yaml").write_text("adapters: {}\nroutes: []\n")  # measure the flow, not the outbox
    settings = load_settings(env)
    upgrade(settings.database_url)
    rt = bootstrap(settings)
    now = utcnow()
    with rt.session() as s:
        s.add(Document(id="bench-doc", channel="cli", filename="bench", sha256="0" * 64, size=0, format="x12",
                       status="accepted", correlation_id="bench", received_at=now))

    spent = []
    for i in range(args.pos):
        with rt.session() as s:
            doc, body = s.get(Document, "bench-doc"), _event("purchase_order.issued", f"po-{i}", _po(f"PO{i:07d}", 3),
                                                             "850")
            t0 = time.perf_counter()
            record_flow(rt, s, doc, body)
            s.flush()
            spent.append((time.perf_counter() - t0) * 1000)
    print(f"record_flow, an 850 of 3 lines: {statistics.median(spent):.2f} ms median, the commit not included "
          f"({args.pos} POs, one transaction each)")

    for label, at in (("nothing due", now + timedelta(hours=1)), ("every 997 overdue", now + timedelta(hours=5)),
                      ("again, nothing new", now + timedelta(hours=5))):
        t0 = time.perf_counter()
        raised = check_flow_deadlines(rt, at, limit=args.pos)
        print(f"check_flow_deadlines, {label}: {(time.perf_counter() - t0) * 1000:.1f} ms, {raised} raised")

    po = _po("PO-BIG", args.lines)
    asn = {"shipment_id": "SH-1", "orders": [{"po_number": "PO-BIG", "lines": [
        {"line_number": line["line_number"], "quantity_shipped": line["quantity"]} for line in po["lines"]]}]}
    with rt.session() as s:
        doc = s.get(Document, "bench-doc")
        record_flow(rt, s, doc, _event("purchase_order.issued", "big-850", po, "850"))
        record_flow(rt, s, doc, _event("shipment.noticed", "big-856", asn, "856"))
    times = []
    for r in range(args.repeat):
        invoice = {"invoice_number": f"INV-{r}", "po_number": "PO-BIG", "lines": [
            {"line_number": line["line_number"], "quantity": line["quantity"], "unit_price": line["unit_price"]}
            for line in po["lines"]]}
        with rt.session() as s:
            t0 = time.perf_counter()
            found = record_flow(rt, s, s.get(Document, "bench-doc"),
                                _event("invoice.received", f"big-810-{r}", invoice, "810"))
            s.flush()
            times.append((time.perf_counter() - t0) * 1000)
    print(f"record_flow, an 810 of {args.lines} lines with the three-way match: "
          f"{statistics.median(times):.1f} ms median ({len(found)} discrepancies)")


if __name__ == "__main__":
    main()
