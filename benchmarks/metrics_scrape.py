"""How long a /metrics scrape takes as the database grows (the collector reads the
database and Redis at scrape time).

    python benchmarks/metrics_scrape.py [--documents 100000] [--database-url URL]

Fills a fresh database with ``--documents`` accepted 855 documents (one transaction set,
one event and one delivered ERP delivery each, written in bulk), then times five scrapes
of /metrics through the Flask app and prints the median. ``--database-url`` is a
PostgreSQL server URL (a fresh database is created on it and dropped afterwards);
without it, SQLite in a temporary folder. Needs a redis-server on PATH.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "tests" / "faults")]
from faultkit import RedisServer  # noqa: E402


def fill(rt, n: int) -> None:
    from sqlalchemy import insert

    from gateway.store.models import (
        DeliveryRecord,
        Document,
        EventRecord,
        TransactionSetRecord,
        utcnow,
    )

    now = utcnow()
    for start in range(0, n, 5000):
        docs, sets, events, deliveries = [], [], [], []
        for i in range(start, min(n, start + 5000)):
            doc_id, event_id = f"doc_{uuid.uuid4().hex}", str(uuid.uuid4())
            received = now - timedelta(seconds=i)
            docs.append(dict(id=doc_id, partner_id="demo", channel="sftp", filename=f"{i}.edi", sha256="0" * 64,
                             size=1000, format="x12", status="accepted", errors=[], correlation_id=f"cor_{i}",
                             received_at=received, processed_at=received + timedelta(seconds=0.05 * (i % 40))))
            sets.append(dict(document_id=doc_id, interchange_control_number="1", group_control_number="1",
                             functional_id="PR", version="004010", set_id="855", control_number="0001",
                             status="accepted", errors=[]))
            events.append(dict(event_id=event_id, type="purchase_order.acknowledged", partner_id="demo",
                               document_id=doc_id, body={}, created_at=received))
            deliveries.append(dict(id=f"{event_id}-erp_http", event_id=event_id, adapter="erp_http", queue="erp",
                                   status="delivered", attempts=1, next_attempt_at=received, replays=0,
                                   delivered_at=received + timedelta(seconds=0.2 * (i % 50)), created_at=received))
        with rt.session() as s:
            for model, rows in ((Document, docs), (TransactionSetRecord, sets), (EventRecord, events),
                                (DeliveryRecord, deliveries)):
                s.execute(insert(model), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gw-metrics-bench-"))
    redis = RedisServer(tmp).start()
    database_url, drop = f"sqlite:///{tmp / 'gw.db'}", None
    if args.database_url:
        import sqlalchemy as sa

        from gateway.config import load_settings

        admin_url = load_settings({"DATABASE_URL": args.database_url}).database_url
        name = f"gw_bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        database_url = admin_url.rsplit("/", 1)[0] + "/" + name

        def drop():
            from gateway.store.db import dispose_all

            dispose_all()
            with admin.connect() as c:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    try:
        from gateway.bootstrap import bootstrap
        from gateway.config import load_settings
        from gateway.store.migrate import upgrade
        from gateway.web.app import create_app

        settings = load_settings({"GATEWAY_HOME": str(tmp / "home"), "DATABASE_URL": database_url,
                                  "REDIS_URL": redis.url, "GATEWAY_METRICS_ACCESS": "open"})
        upgrade(settings.database_url)
        rt = bootstrap(settings.with_overrides(metrics_access="open"))
        t0 = time.perf_counter()
        fill(rt, args.documents)
        print(f"filled {args.documents} documents in {time.perf_counter() - t0:.1f} s "
              f"({'PostgreSQL' if args.database_url else 'SQLite'})")
        client = create_app(rt).test_client()
        from gateway.web.auth import create_token

        headers = {"Authorization": "Bearer " + create_token(rt, "bench", "viewer")}
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            answer = client.get("/metrics", headers=headers)
            times.append(time.perf_counter() - t0)
            assert answer.status_code == 200
        print(f"/metrics: median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
              f"over 5 scrapes ({len(answer.data)} bytes)")
    finally:
        redis.stop()
        if drop:
            drop()


if __name__ == "__main__":
    main()
