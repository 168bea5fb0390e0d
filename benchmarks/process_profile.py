"""Where one document's processing job spends its CPU, in this process (no RQ worker).

    python benchmarks/process_profile.py [--database-url URL] [--docs 300] [--cprofile 30]
    python benchmarks/process_profile.py [--database-url URL] --interchange 2000

Receives ``--docs`` sample 855s (one transaction set each, each for its own PO), then
runs the processing job's function (:func:`gateway.queue.process_document`: validate,
acknowledge, translate, record, then the inline ERP POST and the 997) on each in turn,
against a private redis-server and a local HTTP receiver standing in for the ERP.
Reports thread CPU per document and every SQL statement the job sent, grouped by kind
and table, so a change to the hot path shows its cost in statements and milliseconds
without the noise of a multi-process run (``delivery_bench.py`` measures that).

``--interchange N`` instead receives one file of N 856/810 transaction sets (the delivery
benchmark's big interchange, all against one PO) and reports the same per transaction set;
its events are left pending for ``deliver_batch`` jobs, as a worker would, and not posted.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import os
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "tests" / "faults"), str(REPO / "benchmarks")]
from delivery_bench import fresh_postgres  # noqa: E402
from faultkit import Receiver, RedisServer, gateway_env, make_855, make_big_interchange  # noqa: E402


def statement_kind(sql: str) -> str:
    """``VERB table``: the table an UPDATE or INSERT writes, else the first one read from."""
    words = sql.split()
    verb = words[0].upper() if words else "?"
    keys = {"UPDATE": ("UPDATE",), "INSERT": ("INTO",)}.get(verb, ("FROM", "INTO", "UPDATE"))
    table = None
    for key in keys:
        m = re.search(rf"\b{key}\s+\"?(\w+)", sql, re.I)
        if m:
            table = m.group(1)
            break
    return f"{verb} {table or ''}".strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database-url", help="PostgreSQL server URL (a fresh database is made); default SQLite")
    ap.add_argument("--docs", type=int, default=300)
    ap.add_argument("--interchange", type=int, default=0, help="one file of this many 856/810 sets instead")
    ap.add_argument("--cprofile", type=int, default=0, help="print the top N functions by own time")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="gw-process-profile-"))
    drop = None
    url = f"sqlite:///{tmp / 'gateway.db'}"
    if args.database_url:
        url, drop = fresh_postgres(args.database_url)
    redis = RedisServer(tmp).start()
    erp = Receiver()
    env = gateway_env(tmp, url, redis.url, GATEWAY_ERP_URL=erp.url)
    os.environ.update({k: v for k, v in env.items() if k.startswith("GATEWAY_") or k in ("DATABASE_URL", "REDIS_URL")})
    try:
        from sqlalchemy import event

        from gateway.bootstrap import bootstrap
        from gateway.intake.receive import receive
        from gateway.queue import process_document
        from gateway.store.migrate import upgrade

        upgrade(url)
        rt = bootstrap()
        docs = [receive(rt, make_855(n, f"PO-{n}"), channel="sftp", filename=f"{n}.edi", partner_id="demo").document_id
                for n in range(1, (2 if args.interchange else args.docs + 2))]
        process_document(docs[0])  # warm-up: imports, maps, connections
        if args.interchange:
            big = make_big_interchange(900000001, args.interchange)
            docs.append(receive(rt, big, channel="sftp", filename="big.edi", partner_id="demo").document_id)

        counts: collections.Counter[str] = collections.Counter()
        from gateway.store.db import engine_for

        engine = engine_for(url)

        @event.listens_for(engine, "before_cursor_execute")
        def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
            counts[statement_kind(statement)] += 1

        profile = cProfile.Profile() if args.cprofile else None
        t0, w0 = time.thread_time(), time.time()
        if profile:
            profile.enable()
        for doc in docs[1:]:
            process_document(doc)
        if profile:
            profile.disable()
        cpu, wall = time.thread_time() - t0, time.time() - w0
        n, unit = (args.interchange, "transaction set") if args.interchange else (len(docs) - 1, "document")
        print(f"{n} {unit}s: {1000 * cpu / n:.2f} ms CPU and {1000 * wall / n:.2f} ms wall per {unit} "
              f"(this process; PostgreSQL's and Redis's own CPU not counted)")
        print(f"SQL statements per {unit}: {sum(counts.values()) / n:.1f}")
        for kind, c in counts.most_common():
            print(f"  {c / n:5.2f}  {kind}")
        posted = len(erp.committed())
        if not args.interchange:
            print(f"ERP keys posted: {posted} (expected {n + 1})")
        if profile:
            pstats.Stats(profile).sort_stats("tottime").print_stats(args.cprofile)
    finally:
        erp.stop()
        redis.stop()
        if drop:
            from gateway.store.db import dispose_all

            dispose_all()
            drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
