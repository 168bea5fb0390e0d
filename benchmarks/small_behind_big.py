"""Small documents while a big one is processed: do they wait? Through a real `gateway up`.

    python benchmarks/small_behind_big.py [--big-mb 2] [--files 10] [--database-url URL]

Starts the gateway (embedded Redis, SQLite unless --database-url, an HTTP receiver as
the ERP), uploads over SFTP one big 855 (one set of N PO1 lines, --big-mb megabytes),
then, while it is being processed, the sample 855 --files times, one at a time. Reports
each small file's latency from `sftp put` returning to the ERP POST (p50 / max) and the
big one's own upload-to-POST time. With big documents on their own `bulk` worker the
small ones do not wait for it; with one worker for both, the first small one waits
until the big one is done (its latency is then about the big one's time).
"""

from __future__ import annotations

import argparse
import statistics
import time

from gateway_up import REPO, GatewayUp

SAMPLE = (REPO / "sample_docs" / "855" / "855_004010_acme_accepted_with_changes.edi").read_text()
LOOP = "PO1*{n}*100*EA*12.50**BP*WIDGET-{n}*VP*AC-W{n}~\nPID*F****STEEL WIDGET~\nACK*IA*100*EA*068*20261201~\n"


def big_855(megabytes: float) -> str:
    head, _, _ = SAMPLE.partition("PO1*1*")
    lines, n, size = [], 0, len(head)
    while size < megabytes * 1024 * 1024:
        n += 1
        lines.append(LOOP.format(n=n))
        size += len(lines[-1])
    segments = head.count("~") - 2 + 3 * n + 2  # from ST: ST..N1 lines, the loops, CTT and SE
    body = "".join(lines) + f"CTT*{n}~\nSE*{segments}*0001~\nGE*1*101~\nIEA*1*000000101~\n"
    return (head + body).replace("000000101", "000900000")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--big-mb", type=float, default=2.0)
    ap.add_argument("--files", type=int, default=10)
    ap.add_argument("--database-url")
    args = ap.parse_args()
    with GatewayUp(args.database_url) as gw:
        def put(name: str, text: str) -> float:
            (gw.work / name).write_text(text)
            return gw.put(gw.work / name)

        def posted(icn: str, deadline: float) -> float | None:
            while time.time() < deadline:
                for p in list(gw.receiver.posts):
                    if p["body"]["source"]["interchange_control_number"] == icn:
                        return p["at"]
                time.sleep(0.01)
            return None

        big = big_855(args.big_mb)
        big_put = put("big.edi", big)
        latencies = []
        for i in range(args.files):
            icn = f"{300000 + i:09d}"
            closed = put(f"small-{i}.edi", SAMPLE.replace("000000101", icn))
            at = posted(icn, closed + 120)
            if at is None:
                raise SystemExit(f"small file {i}: no POST within 120 s")
            latencies.append((at - closed) * 1000)
        big_at = posted("000900000", time.time() + 3600)
        print(f"big 855: {len(big) / 1024 / 1024:.1f} MB, {big.count('~')} segments; "
              f"upload -> ERP POST {big_at - big_put:.1f} s" if big_at else "big 855: no POST within an hour")
        print(f"small 855 x {args.files} while it was processed: sftp exit -> ERP POST p50 "
              f"{statistics.median(latencies):.0f} ms, max {max(latencies):.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
