"""Cost of compensating events: recording N acknowledgments of ONE PO, each superseding
the one before (the worst case: a partner re-sending its 855 over and over).

    python benchmarks/supersede_chain.py [--count 1000] [--database-url URL] [--off]

Records each ack in its own transaction with ``record_event`` (as processing does) and
prints the mean time per ack for the first and the last tenth: flat means the lookup of
earlier events does not grow with their number. ``--off`` skips compensation (the
baseline). No Redis or ERP is needed (nothing is queued). SQLite in a temporary folder
unless ``--database-url`` names a database to use (its tables are created).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "tests" / "faults")]
from faultkit import make_855  # noqa: E402

from gateway.bootstrap import bootstrap  # noqa: E402
from gateway.config import load_settings  # noqa: E402
from gateway.mapping import SourceContext, translate_x12  # noqa: E402
from gateway.processing.x12_interchange import record_event  # noqa: E402
from gateway.store.migrate import upgrade  # noqa: E402
from gateway.store.models import Document  # noqa: E402
from gateway.x12.reader import read_x12  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--database-url")
    parser.add_argument("--off", action="store_true", help="no compensation (the baseline)")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="gw-bench-")
    os.environ.setdefault("GATEWAY_ERP_URL", "http://127.0.0.1:9/erp")  # routed, never sent
    settings = load_settings({"GATEWAY_HOME": home, "DATABASE_URL": args.database_url or f"sqlite:///{home}/g.db"})
    upgrade(settings.database_url)
    rt = bootstrap(settings)
    if args.off:
        import gateway.routing.compensation as compensation

        compensation.compensating_events = lambda *a, **k: []
    interchange = read_x12(make_855(1)).interchanges[0]
    document_id = f"bench-{time.time_ns()}"
    with rt.session() as s:
        s.add(Document(id=document_id, channel="cli", filename="bench", sha256="0", size=1, status="accepted",
                       correlation_id="bench"))
    times = []
    for i in range(args.count):
        context = SourceContext(partner_id="demo", document_id=document_id, received_at=datetime.now(UTC),
                                correlation_id="bench")
        [body] = [e for e in translate_x12(interchange, context) if e["type"] == "purchase_order.acknowledged"]
        body["event_id"] = f"{document_id}-{i:06d}"
        started = time.perf_counter()
        with rt.session() as s:
            record_event(rt, s, s.get(Document, document_id), body)
        times.append(time.perf_counter() - started)
    tenth = max(1, args.count // 10)
    print(f"{args.count} acks of one PO ({'compensation off' if args.off else 'each supersedes the last'}): "
          f"first {tenth} {1000 * sum(times[:tenth]) / tenth:.1f} ms/ack, "
          f"last {tenth} {1000 * sum(times[-tenth:]) / tenth:.1f} ms/ack")


if __name__ == "__main__":
    main()
