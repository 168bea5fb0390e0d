"""Time a partner waits for its cXML Response from /cxml, and from its POST to the ERP's,
through a real `gateway up`.

    python benchmarks/cxml_intake_latency.py [--documents 30] [--database-url URL]

Starts the gateway (embedded Redis, SQLite unless --database-url) with the demo partner's
cXML secret set, an HTTP receiver standing in for the ERP, then posts the sample
ConfirmationRequest N times, one at a time, each with its own payloadID, and reports
p50 / p95 / max of: the POST answered (stored, processed, answered inside the request)
and the POST sent -> the ERP got the event; the first one separately (cold maps).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import requests

os.environ["GATEWAY_DEMO_CXML_SECRET"] = "bench-secret"
from gateway_up import REPO, GatewayUp  # noqa: E402

SAMPLE = REPO / "sample_docs" / "cxml" / "ConfirmationRequest_acme_po_4500012360.xml"


def _summary(values: list[float]) -> str:
    values = sorted(values)
    return f"p50 {statistics.median(values):.0f} ms, p95 {values[int(len(values) * 0.95) - 1]:.0f} ms, " \
           f"max {values[-1]:.0f} ms"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--documents", type=int, default=30)
    ap.add_argument("--database-url")
    args = ap.parse_args()
    template = SAMPLE.read_bytes().replace(b"not-a-real-secret", b"bench-secret")
    with GatewayUp(args.database_url) as gw:
        url = f"http://127.0.0.1:{gw.env['GATEWAY_HTTP_PORT']}/cxml"
        answered, delivered = [], []
        for i in range(args.documents):
            body = template.replace(b"C-4500012360@", f"C-{i}-bench@".encode())
            seen = len(gw.receiver.posts)
            started = time.time()
            answer = requests.post(url, data=body, headers={"Content-Type": "text/xml"}, timeout=60)
            done = time.time()
            if b'code="200"' not in answer.content:
                raise SystemExit(f"document {i}: {answer.content[:300]!r}")
            while len(gw.receiver.posts) == seen and time.time() < done + 30:
                time.sleep(0.002)
            if len(gw.receiver.posts) == seen:
                raise SystemExit(f"document {i}: no ERP POST within 30 s")
            answered.append((done - started) * 1000)
            delivered.append((gw.receiver.posts[seen]["at"] - started) * 1000)
        print(f"documents: {args.documents}, database: {args.database_url or 'SQLite (embedded default)'}")
        print(f"first (cold): answered {answered[0]:.0f} ms, at the ERP {delivered[0]:.0f} ms")
        print(f"POST -> cXML Response, warm: {_summary(answered[1:])}")
        print(f"POST -> ERP POST, warm: {_summary(delivered[1:])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
