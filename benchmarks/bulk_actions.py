"""Bulk action benchmark: preview and confirm over N matching rows, on a fresh SQLite
database (or ``--database-url``).

    python benchmarks/bulk_actions.py [--count 5000] [--database-url postgresql://...]

Makes N open rejections of one map version and N dead-lettered ERP deliveries, then
times (``time.perf_counter``) a preview and a confirm of each action. Queuing is left
out: no Redis is configured, so each queue call fails fast and the sweeper would queue
the documents later; what is timed is the database work and the audit row, which is
what grows with N.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gateway.actions import bulk  # noqa: E402
from gateway.bootstrap import bootstrap  # noqa: E402
from gateway.config import load_settings  # noqa: E402
from gateway.store.migrate import upgrade  # noqa: E402
from gateway.store.models import DeliveryRecord, Document, EventRecord, utcnow  # noqa: E402

VERSION = "demo/x12-855-004010@0123456789ab"


def seed(rt, n: int) -> None:
    now = utcnow()
    with rt.session() as s:
        for i in range(n):
            s.add(Document(id=f"doc_rej_{i:06d}", partner_id="demo", channel="sftp", filename=f"r{i}.edi",
                           sha256="0" * 64, size=100, format="x12", status="rejected", reason="map refused it",
                           errors=[], correlation_id=f"c{i}", received_at=now, map_version=VERSION))
            s.add(Document(id=f"doc_ok_{i:06d}", partner_id="demo", channel="sftp", filename=f"a{i}.edi",
                           sha256="0" * 64, size=100, format="x12", status="accepted", errors=[],
                           correlation_id=f"d{i}", received_at=now))
        s.flush()
        for i in range(n):
            s.add(EventRecord(event_id=f"evt-{i:06d}", type="purchase_order.acknowledged", partner_id="demo",
                              document_id=f"doc_ok_{i:06d}", body={}))
        s.flush()
        for i in range(n):
            s.add(DeliveryRecord(id=f"evt-{i:06d}-erp_http", event_id=f"evt-{i:06d}", adapter="erp_http",
                                 queue="erp", status="dead_lettered", attempts=3, next_attempt_at=now,
                                 dead_lettered_at=now, replays=0))


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    print(f"{label:<40} {time.perf_counter() - start:8.3f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # N "could not enqueue" lines: Redis is left out on purpose
    with tempfile.TemporaryDirectory() as home:
        url = args.database_url or f"sqlite:///{home}/bench.sqlite"
        settings = load_settings({"GATEWAY_HOME": home, "DATABASE_URL": url, "REDIS_URL": "",
                                  "GATEWAY_PARTNERS_DIR": str(REPO / "partners")})
        upgrade(url)
        rt = bootstrap(settings)
        timed(f"seed {args.count} + {args.count}", lambda: seed(rt, args.count))
        p = timed("preview reprocess_rejected", lambda: bulk.preview(rt, "bench", bulk.REPROCESS_REJECTED,
                                                                     {"map_version": VERSION}))
        r = timed("confirm reprocess_rejected", lambda: bulk.confirm(rt, "bench", p.token, "benchmark"))
        assert len(r.applied) == args.count, (len(r.applied), r.skipped)
        p = timed("preview replay_dead_letters", lambda: bulk.preview(rt, "bench", bulk.REPLAY_DEAD_LETTERS,
                                                                      {"adapter": "erp_http"}))
        r = timed("confirm replay_dead_letters", lambda: bulk.confirm(rt, "bench", p.token, "benchmark"))
        assert len(r.applied) == args.count, (len(r.applied), r.skipped)


if __name__ == "__main__":
    main()
