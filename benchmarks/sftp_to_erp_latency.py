"""Time from SFTP close to ERP POST, through a real `gateway up` and OpenSSH's sftp.

    python benchmarks/sftp_to_erp_latency.py [--files 30] [--database-url URL]

Starts the gateway with embedded Redis (SQLite unless --database-url), an HTTP receiver
standing in for the ERP, authorizes a fresh key for the demo partner, then uploads the
sample 855 N times, one at a time, each with its own ISA13, and reports the latency
from the moment `sftp put` returned (the close was answered) to the moment the
receiver got the POST: p50 / p95 / max, and the first one separately (cold worker).
"""

from __future__ import annotations

import argparse
import statistics
import time

from gateway_up import REPO, GatewayUp

SAMPLE = REPO / "sample_docs" / "855" / "855_004010_acme_accepted_with_changes.edi"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=30)
    ap.add_argument("--database-url")
    args = ap.parse_args()
    with GatewayUp(args.database_url) as gw:
        receiver, work = gw.receiver, gw.work
        template = SAMPLE.read_text()
        latencies, from_start = [], []
        for i in range(args.files):
            doc = work / f"855-{i}.edi"
            icn = f"{200000 + i:09d}"
            doc.write_text(template.replace("000000101", icn))
            seen = len(receiver.posts)
            started = time.time()
            closed = gw.put(doc)
            deadline = closed + 30
            while len(receiver.posts) == seen and time.time() < deadline:
                time.sleep(0.002)
            if len(receiver.posts) == seen:
                raise SystemExit(f"file {i}: no POST within 30 s")
            latencies.append((receiver.posts[seen]["at"] - closed) * 1000)
            from_start.append((receiver.posts[seen]["at"] - started) * 1000)
        warm = sorted(latencies[1:])
        print(f"files: {args.files}, database: {args.database_url or 'SQLite (embedded default)'}")
        print(f"first (cold worker): {latencies[0]:.0f} ms")
        print(f"sftp exit -> ERP POST, warm: p50 {statistics.median(warm):.0f} ms, "
              f"p95 {warm[int(len(warm) * 0.95) - 1]:.0f} ms, max {warm[-1]:.0f} ms (negative: the POST came first)")
        whole = sorted(from_start[1:])
        print(f"sftp start (connect, auth, put, close) -> ERP POST, warm: p50 {statistics.median(whole):.0f} ms, "
              f"p95 {whole[int(len(whole) * 0.95) - 1]:.0f} ms, max {whole[-1]:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
