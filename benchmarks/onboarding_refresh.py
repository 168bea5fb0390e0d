"""What picking up onboarded partners and map versions costs a worker, per job.

    python benchmarks/onboarding_refresh.py [--database-url URL] [--rounds 2000]

Every job first calls :func:`gateway.onboarding.directory.refresh`: one primary-key read
of the onboarding generation. Only when it moved (a partner was created, a version
activated or rolled back) does it rebuild the partners and write the active maps out.
Reports the median and p95 of both cases, and how long a dry-run of the demo 855 map
takes on its sample plus the last 20 real documents (processed here, without Redis). ``--database-url`` is a PostgreSQL
server URL (a fresh database is created and dropped); without it, SQLite in a
temporary folder.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "tests" / "integration" / "onboarding")]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    import sqlalchemy as sa
    from onboarding_support import BUYER, RENUMBERED_855_MAP, SAMPLE_855

    from gateway.bootstrap import bootstrap
    from gateway.config import load_settings
    from gateway.intake.receive import receive
    from gateway.onboarding import dry_run, map_versions
    from gateway.onboarding.directory import bump_generation, refresh
    from gateway.processing.service import process
    from gateway.store.migrate import upgrade

    home = Path(tempfile.mkdtemp(prefix="gw-onboarding-bench-"))
    url, admin, name = f"sqlite:///{home / 'gw.db'}", None, None
    if args.database_url:
        admin_url = load_settings({"DATABASE_URL": args.database_url}).database_url
        name = f"gw_bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = admin_url.rsplit("/", 1)[0] + "/" + name
    try:
        settings = load_settings({"GATEWAY_HOME": str(home / "home"), "DATABASE_URL": url, "REDIS_URL": ""})
        settings.home.mkdir(parents=True)
        upgrade(settings.database_url)
        rt = bootstrap(settings)
        refresh(rt)
        unchanged = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            refresh(rt)
            unchanged.append(time.perf_counter() - start)
        version = map_versions.upload(rt, BUYER, "demo", "acme-855.yaml", RENUMBERED_855_MAP, "bench")
        run = dry_run.run(rt, BUYER, "demo", version.id, documents=0)
        map_versions.activate(rt, BUYER, "demo", version.id, run.id, "bench")
        reloads = []
        for _ in range(max(10, args.rounds // 100)):
            with rt.session() as s:
                bump_generation(s)
            start = time.perf_counter()
            refresh(rt)
            reloads.append(time.perf_counter() - start)
        for i in range(20):
            data = SAMPLE_855.read_bytes().replace(b"000000101", f"{500000 + i:09d}".encode())
            process(rt, receive(rt, data, channel="http", filename=f"{i}.edi", partner_id="demo").document_id)
        candidate = map_versions.upload(rt, BUYER, "demo", "acme-855-b.yaml",
                                        RENUMBERED_855_MAP.replace("ITEM-200", "ITEM-200-B"), "bench")
        start = time.perf_counter()
        result = dry_run.run(rt, BUYER, "demo", candidate.id, documents=20)
        took = time.perf_counter() - start
        backend = "PostgreSQL" if args.database_url else "SQLite"
        print(f"{backend}: refresh, nothing changed: median {statistics.median(unchanged) * 1e3:.3f} ms, "
              f"p95 {pct(unchanged, 95) * 1e3:.3f} ms ({len(unchanged)} calls)")
        print(f"{backend}: refresh after a change (partners rebuilt, maps written): median "
              f"{statistics.median(reloads) * 1e3:.1f} ms, p95 {pct(reloads, 95) * 1e3:.1f} ms ({len(reloads)} calls)")
        print(f"{backend}: dry-run of the demo 855 map on {result.summary['documents']} documents: {took:.2f} s")
    finally:
        if admin is not None:
            from gateway.store.db import dispose_all

            dispose_all()
            with admin.connect() as c:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
