"""Delivery benchmark: intake -> processing -> ERP POST, with real worker processes.

    python benchmarks/delivery_bench.py [--database-url URL] [--workers 2]
        [--burst 500] [--rate 5 --duration 60] [--backlog 10000]

Starts a private redis-server, W `gateway worker` processes (critical queues), an HTTP
receiver standing in for the ERP, and receives sample 855s (each with its own ISA13)
through :func:`gateway.intake.receive.receive` in this process -- exactly what SFTP
close, AS2 and the HTTP upload call once the bytes are stored. Reports:

1. sustained throughput: ``--burst`` documents submitted at once; transaction sets per
   second from the first intake to the last ERP POST;
2. latency at a fixed offered load: ``--rate`` documents/s for ``--duration`` s;
   p50/p95/p99 of (ERP POST received) - (intake returned);
3. backlog drain: with the ERP down (503, one try each) ``--backlog`` documents are
   received and processed, all dead-lettered; then the ERP comes back, the operator runs
   ``gateway replay dead-letters erp_http`` and we time until every one is delivered.

``--database-url`` is a PostgreSQL server URL (a fresh database is created on it and
dropped afterwards); without it, SQLite in a temporary folder. Phases with 0 are skipped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "faults")]
from faultkit import Processes, Receiver, RedisServer, gateway_env, make_855  # noqa: E402


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def fresh_postgres(base: str):
    import sqlalchemy as sa

    from gateway.config import load_settings

    admin_url = load_settings({"DATABASE_URL": base}).database_url
    name = f"gw_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop():
        from gateway.store.db import dispose_all

        dispose_all()
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return admin_url.rsplit("/", 1)[0] + "/" + name, drop


class Bench:
    def __init__(self, rt, erp: Receiver):
        self.rt, self.erp = rt, erp
        self.sent: dict[str, float] = {}  # ISA13 -> when intake returned
        self.next = 1

    def submit(self) -> None:
        from gateway.intake.receive import receive

        n, self.next = self.next, self.next + 1
        receive(self.rt, make_855(n), channel="sftp", filename=f"{n}.edi", partner_id="demo")
        self.sent[f"{n:09d}"] = time.time()

    def posted(self) -> dict[str, float]:
        """ISA13 -> first 2xx POST time."""
        with self.erp.lock:
            out = {}
            for p in self.erp.posts:
                if p["committed"]:
                    out.setdefault(p["body"]["source"]["interchange_control_number"], p["at"])
            return out

    def wait_posted(self, icns: set[str], timeout: float) -> dict[str, float]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = self.posted()
            if icns <= set(got):
                return got
            time.sleep(0.2)
        raise SystemExit(f"timed out: {len(icns - set(self.posted()))} of {len(icns)} not posted")


def phase_burst(b: Bench, count: int) -> None:
    start = time.time()
    icns = set()
    for _ in range(count):
        b.submit()
        icns.add(f"{b.next - 1:09d}")
    intake_s = time.time() - start
    got = b.wait_posted(icns, 3600)
    span = max(got[i] for i in icns) - start
    print(f"throughput: {count} transaction sets, intake {count / intake_s:.0f}/s, "
          f"intake->last ERP POST {span:.1f}s = {count / span:.1f} sets/s sustained")


def phase_latency(b: Bench, rate: float, duration: float) -> None:
    icns, start = [], time.time()
    k = 0
    while time.time() - start < duration:
        due = start + k / rate
        if due > time.time():
            time.sleep(due - time.time())
        b.submit()
        icns.append(f"{b.next - 1:09d}")
        k += 1
    got = b.wait_posted(set(icns), 600)
    lat = [got[i] - b.sent[i] for i in icns]
    print(f"latency at {rate:g} docs/s for {duration:g}s ({len(lat)} docs): p50 {pct(lat, 50) * 1000:.0f} ms, "
          f"p95 {pct(lat, 95) * 1000:.0f} ms, p99 {pct(lat, 99) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms, "
          f"mean {statistics.mean(lat) * 1000:.0f} ms")


def phase_backlog(b: Bench, count: int) -> None:
    from sqlalchemy import func, select

    from gateway.routing.replay import replay_dead_letters
    from gateway.store.models import DeliveryRecord

    def dead() -> int:
        with b.rt.session() as s:
            return s.scalar(select(func.count()).where(DeliveryRecord.status == "dead_lettered"))

    b.erp.fail_until = time.time() + 10 ** 6  # the outage
    start, icns = time.time(), set()
    feeder = threading.Thread(target=lambda: [b.submit() for _ in range(count)])
    first = b.next
    feeder.start()
    feeder.join()
    icns = {f"{n:09d}" for n in range(first, first + count)}
    while dead() < count:
        time.sleep(1)
    print(f"backlog: {count} documents received and processed during the outage in {time.time() - start:.0f}s")
    b.erp.fail_until = 0  # the ERP is back
    recovered = time.time()
    report = replay_dead_letters(b.rt, "erp_http")
    queued = time.time() - recovered
    got = b.wait_posted(icns, 7200)
    end = max(got[i] for i in icns)
    print(f"backlog drain: `replay dead-letters` queued {len(report.requeued)} in {queued:.1f}s; "
          f"all {count} delivered {end - recovered:.1f}s after recovery = {count / (end - recovered):.0f} deliveries/s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database-url", help="PostgreSQL server URL (a fresh database is made); default SQLite")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--burst", type=int, default=500)
    ap.add_argument("--rate", type=float, default=5.0)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--backlog", type=int, default=10000)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="gw-delivery-bench-"))
    drop = None
    url = f"sqlite:///{tmp / 'gateway.db'}"
    if args.database_url:
        url, drop = fresh_postgres(args.database_url)
    redis = RedisServer(tmp).start()
    erp = Receiver()
    # one try per delivery during the outage (phase 3 dead-letters them, then replays)
    env = gateway_env(tmp, url, redis.url, GATEWAY_ERP_URL=erp.url, GATEWAY_DELIVERY_MAX_ATTEMPTS="1")
    os.environ.update({k: v for k, v in env.items() if k.startswith("GATEWAY_") or k in ("DATABASE_URL",
                                                                                          "REDIS_URL")})
    from gateway.bootstrap import bootstrap
    from gateway.store.migrate import upgrade

    upgrade(url)
    rt = bootstrap()
    procs = Processes(env, tmp)
    try:
        for _ in range(args.workers):
            procs.gateway("worker", "--queues", "erp,process,acks", name="worker")
        print(f"database {url.split('@')[-1]}, {args.workers} workers, {os.cpu_count()} CPUs")
        b = Bench(rt, erp)
        b.submit()  # warm-up: imports and connections in the workers
        b.wait_posted({"000000001"}, 120)
        if args.burst:
            phase_burst(b, args.burst)
        if args.rate and args.duration:
            phase_latency(b, args.rate, args.duration)
        if args.backlog:
            phase_backlog(b, args.backlog)
    finally:
        procs.stop_all()
        erp.stop()
        redis.stop()
        if drop:
            drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
