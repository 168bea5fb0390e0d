"""Delivery benchmark: intake -> processing -> ERP POST, with real worker processes.

    python benchmarks/delivery_bench.py [--database-url URL] [--workers 2]
        [--burst 500] [--rate 5 --duration 60] [--interchange 10000] [--backlog 10000]

Starts a private redis-server, W `gateway worker` processes (critical queues), an HTTP
receiver standing in for the ERP, and receives sample 855s (each with its own ISA13)
through :func:`gateway.intake.receive.receive` in this process -- exactly what SFTP
close, AS2 and the HTTP upload call once the bytes are stored. Reports:

1. sustained throughput: ``--burst`` documents submitted at once; transaction sets per
   second from the first intake to the last ERP POST;
2. latency at a fixed offered load: ``--rate`` documents/s for ``--duration`` s;
   p50/p95/p99 of (ERP POST received) - (intake returned);
3. one big interchange: ``--interchange`` 856 and 810 transaction sets (half each, two
   functional groups) in ONE file, from intake until its 997s are sent and every event
   is posted, with the worker's peak memory (RSS) before and after;
4. backlog drain: with the ERP down (500, one try each) ``--backlog`` documents are
   received and processed, all dead-lettered; then the ERP comes back, the operator runs
   ``gateway replay dead-letters erp_http`` and we time until every one is delivered.

After each phase: CPU seconds per transaction set for each role (intake in this process,
the workers, their sweepers, PostgreSQL's backends for the benchmark database, Redis),
measured from /proc, so the cost compares across machines however busy this one is; and
the guarantees checked: every event POSTed exactly once per Idempotency-Key, every
document's acks sent. Wall-clock numbers depend on the load: note ``uptime`` beside them.

``--database-url`` is a PostgreSQL server URL (a fresh database is created on it and
dropped afterwards); without it, SQLite in a temporary folder. Phases with 0 are skipped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "tests" / "faults")]
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
from faultkit import Processes, Receiver, RedisServer, gateway_env, make_855, make_big_interchange  # noqa: E402


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> float:
    """utime + stime of ``pid`` in seconds (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def children_of(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            pass
    return out


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


class CpuMeter:
    """CPU seconds spent by each role between ``start()`` and ``stop()``."""

    def __init__(self, workers: list[int], redis_pid: int, database_url: str):
        self.workers, self.redis_pid, self.db = workers, redis_pid, database_url
        self.intake = 0.0  # thread CPU of the submitting thread, added by Bench.submit

    def _backends(self) -> list[int]:
        if not self.db.startswith("postgresql"):
            return []
        import sqlalchemy as sa

        name = self.db.rsplit("/", 1)[1]
        with sa.create_engine(self.db.rsplit("/", 1)[0] + "/postgres", poolclass=sa.pool.NullPool).connect() as c:
            return [r[0] for r in c.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                                            {"d": name})]

    def _sample(self) -> dict[str, dict[int, float]]:
        sweepers = [c for w in self.workers for c in children_of(w)]
        return {"workers": {p: proc_cpu(p) for p in self.workers},
                "sweepers": {p: proc_cpu(p) for p in sweepers},
                "postgres": {p: proc_cpu(p) for p in self._backends()},
                "redis": {self.redis_pid: proc_cpu(self.redis_pid)}}

    def start(self) -> None:
        self.intake = 0.0
        self.before = self._sample()

    def stop(self) -> dict[str, float]:
        after = self._sample()
        out = {"intake": self.intake}
        for role, pids in after.items():
            # A PostgreSQL backend started during the phase counts whole; one that ended is lost (rare: pooled).
            out[role] = sum(cpu - self.before[role].get(pid, 0.0) for pid, cpu in pids.items())
        return out

    @staticmethod
    def report(cpu: dict[str, float], sets: int) -> str:
        total = sum(cpu.values())
        parts = ", ".join(f"{role} {1000 * sec / sets:.2f}" for role, sec in cpu.items())
        return (f"  CPU ms per transaction set: {parts}; total {1000 * total / sets:.2f} ms "
                f"= {sets / total if total else 0:.0f} sets per CPU-second")


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
    def __init__(self, rt, erp: Receiver, cpu: CpuMeter):
        self.rt, self.erp, self.cpu = rt, erp, cpu
        self.sent: dict[str, float] = {}  # ISA13 -> when intake returned
        self.docs: list[str] = []
        self.next = 1

    def submit(self, data: bytes | None = None) -> None:
        from gateway.intake.receive import receive

        n, self.next = self.next, self.next + 1
        t0 = time.thread_time()
        receipt = receive(self.rt, data or make_855(n, f"PO-{n}"), channel="sftp", filename=f"{n}.edi", partner_id="demo")
        self.cpu.intake += time.thread_time() - t0
        self.sent[f"{n:09d}"] = time.time()
        self.docs.append(receipt.document_id)

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

    def wait_for(self, check, timeout: float, what: str) -> None:
        deadline = time.time() + timeout
        while not check():
            if time.time() > deadline:
                raise SystemExit(f"timed out waiting for {what}")
            time.sleep(0.2)

    def acks_unsent(self) -> int:
        from sqlalchemy import func, select

        from gateway.store.models import AckRecord

        with self.rt.session() as s:
            return s.scalar(select(func.count()).where(AckRecord.status != "sent"))

    def undelivered(self) -> int:
        from sqlalchemy import func, select

        from gateway.store.models import DeliveryRecord

        with self.rt.session() as s:
            return s.scalar(select(func.count()).where(DeliveryRecord.status != "delivered"))

    def deliveries(self) -> int:
        from sqlalchemy import func, select

        from gateway.store.models import DeliveryRecord

        with self.rt.session() as s:
            return s.scalar(select(func.count()).select_from(DeliveryRecord))

    def check_guarantees(self) -> str:
        """Every delivery row delivered, the ERP took each key exactly once, every ack sent."""
        from sqlalchemy import func, select

        from gateway.store.models import AckRecord, DeliveryRecord, Document, TransactionSetRecord

        self.wait_for(lambda: self.acks_unsent() == 0, 600, "every ack to be sent")
        with self.rt.session() as s:
            statuses = dict(s.execute(select(Document.status, func.count()).group_by(Document.status)).all())
            pending = s.scalar(select(func.count()).where(DeliveryRecord.status != "delivered"))
            deliveries = s.scalar(select(func.count()).select_from(DeliveryRecord))
            sets = s.scalar(select(func.count()).where(TransactionSetRecord.status == "accepted"))
            acks = s.scalar(select(func.count()).select_from(AckRecord))
        per_key = self.erp.committed()
        twice = [k for k, n in per_key.items() if n != 1]
        problems = []
        if set(statuses) != {"accepted"}:
            problems.append(f"documents {statuses}")
        if pending or len(per_key) != deliveries:
            problems.append(f"{pending} deliveries not delivered; {len(per_key)} keys posted for {deliveries} rows")
        if twice:
            problems.append(f"{len(twice)} keys posted more than once")
        verdict = "OK" if not problems else "BROKEN: " + "; ".join(problems)
        return (f"  guarantees: {sets} sets accepted, {acks} acks sent, {deliveries} deliveries, "
                f"{len(per_key)} keys each posted once -> {verdict}")


def phase_burst(b: Bench, count: int) -> None:
    b.cpu.start()
    start = time.time()
    icns = set()
    for _ in range(count):
        b.submit()
        icns.add(f"{b.next - 1:09d}")
    intake_s = time.time() - start
    got = b.wait_posted(icns, 3600)
    span = max(got[i] for i in icns) - start
    b.wait_for(lambda: b.acks_unsent() == 0, 600, "every ack to be sent")
    cpu = b.cpu.stop()
    print(f"throughput: {count} transaction sets, intake {count / intake_s:.0f}/s, "
          f"intake->last ERP POST {span:.1f}s = {count / span:.1f} sets/s sustained")
    print(CpuMeter.report(cpu, count))
    print(b.check_guarantees())


def phase_latency(b: Bench, rate: float, duration: float) -> None:
    b.cpu.start()
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
    b.wait_for(lambda: b.acks_unsent() == 0, 600, "every ack to be sent")
    cpu = b.cpu.stop()
    lat = [got[i] - b.sent[i] for i in icns]
    print(f"latency at {rate:g} docs/s for {duration:g}s ({len(lat)} docs): p50 {pct(lat, 50) * 1000:.0f} ms, "
          f"p95 {pct(lat, 95) * 1000:.0f} ms, p99 {pct(lat, 99) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms, "
          f"mean {statistics.mean(lat) * 1000:.0f} ms")
    print(CpuMeter.report(cpu, len(lat)))
    print(b.check_guarantees())


def phase_interchange(b: Bench, sets: int, workers: list[int]) -> None:
    data = make_big_interchange(b.next, sets)
    rss_before = max(peak_rss_mb(p) for p in workers)
    b.cpu.start()
    start = time.time()
    icn = f"{b.next:09d}"
    b.submit(data)
    doc_id = b.docs[-1]

    def posted_for_icn() -> int:
        with b.erp.lock:
            return len({p["key"] for p in b.erp.posts if p["committed"]
                        and p["body"]["source"]["interchange_control_number"] == icn})

    def status() -> str:
        from gateway.store.models import Document

        with b.rt.session() as s:
            return s.get(Document, doc_id).status

    b.wait_for(lambda: status() != "received", 3600, "the interchange to be processed")
    processed = time.time() - start
    b.wait_for(lambda: b.acks_unsent() == 0, 600, "its acks to be sent")
    acked = time.time() - start
    b.wait_for(lambda: posted_for_icn() >= sets, 3600, "every set's event to be posted")
    sets_posted = time.time() - start
    # and the events derived from them (an 810 matched against the PO's ASNs, flow alerts)
    b.wait_for(lambda: b.undelivered() == 0, 3600, "every derived event to be posted")
    done = time.time() - start
    cpu = b.cpu.stop()
    with b.erp.lock:
        first = min(p["at"] for p in b.erp.posts if p["body"]["source"]["interchange_control_number"] == icn)
    print(f"interchange: {sets} sets ({len(data) // 1024} KB) in one file: status {status()} after {processed:.1f}s, "
          f"acks sent after {acked:.1f}s, all {sets} sets' events posted after {sets_posted:.1f}s, "
          f"every delivery ({b.deliveries()}) after {done:.1f}s "
          f"(first POST after {first - start:.1f}s); worker peak RSS "
          f"{rss_before:.0f} MB before, {max(peak_rss_mb(p) for p in workers):.0f} MB after")
    print(CpuMeter.report(cpu, sets))
    print(b.check_guarantees())


def phase_backlog(b: Bench, count: int) -> None:
    from sqlalchemy import func, select

    from gateway.routing.replay import replay_dead_letters
    from gateway.store.models import DeliveryRecord

    def dead() -> int:
        with b.rt.session() as s:
            return s.scalar(select(func.count()).where(DeliveryRecord.status == "dead_lettered"))

    b.erp.fail_until = time.time() + 10 ** 6  # the outage
    start, icns = time.time(), set()
    first = b.next
    for _ in range(count):
        b.submit()
    icns = {f"{n:09d}" for n in range(first, first + count)}
    while dead() < count:
        time.sleep(1)
    print(f"backlog: {count} documents received and processed during the outage in {time.time() - start:.0f}s")
    b.erp.fail_until = 0  # the ERP is back
    b.cpu.start()
    recovered = time.time()
    report = replay_dead_letters(b.rt, "erp_http")
    queued = time.time() - recovered
    got = b.wait_posted(icns, 7200)
    end = max(got[i] for i in icns)
    cpu = b.cpu.stop()
    print(f"backlog drain: `replay dead-letters` queued {len(report.requeued)} in {queued:.1f}s; "
          f"all {count} delivered {end - recovered:.1f}s after recovery = {count / (end - recovered):.0f} deliveries/s")
    print(CpuMeter.report(cpu, count))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database-url", help="PostgreSQL server URL (a fresh database is made); default SQLite")
    ap.add_argument("--workers", type=int, default=2, help="`gateway worker` processes (measure 1, 2, 4)")
    ap.add_argument("--burst", type=int, default=500)
    ap.add_argument("--rate", type=float, default=5.0)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--interchange", type=int, default=0, help="transaction sets in one big interchange")
    ap.add_argument("--backlog", type=int, default=10000)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="gw-delivery-bench-"))
    drop = None
    url = f"sqlite:///{tmp / 'gateway.db'}"
    if args.database_url:
        url, drop = fresh_postgres(args.database_url)
    redis = RedisServer(tmp).start()
    erp = Receiver()
    # one try per delivery during the outage (phase 4 dead-letters them, then replays)
    env = gateway_env(tmp, url, redis.url, GATEWAY_ERP_URL=erp.url, GATEWAY_DELIVERY_MAX_ATTEMPTS="1")
    os.environ.update({k: v for k, v in env.items() if k.startswith("GATEWAY_") or k in ("DATABASE_URL",
                                                                                          "REDIS_URL")})
    from gateway.bootstrap import bootstrap
    from gateway.store.migrate import upgrade

    upgrade(url)
    rt = bootstrap()
    procs = Processes(env, tmp)
    try:
        workers = [procs.gateway("worker", "--queues", "erp,process,acks,bulk", name="worker").pid
                   for _ in range(args.workers)]
        print(f"database {url.split('@')[-1]}, {args.workers} workers, {os.cpu_count()} CPUs, "
              f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        b = Bench(rt, erp, CpuMeter(workers, redis.proc.pid, url))
        b.submit()  # warm-up: imports and connections in the workers
        b.wait_posted({"000000001"}, 120)
        if args.burst:
            phase_burst(b, args.burst)
        if args.rate and args.duration:
            phase_latency(b, args.rate, args.duration)
        if args.interchange:
            phase_interchange(b, args.interchange, workers)
        if args.backlog:
            phase_backlog(b, args.backlog)
        print(f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        procs.stop_all()
        erp.stop()
        redis.stop()
        if drop:
            drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
