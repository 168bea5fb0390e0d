"""Outbound cXML OrderRequest benchmark: the sans-IO part of issuing a PO to a cXML
partner (map, envelope, DTD-structure check), and the cost of reading a posted cXML
document before it is stored (hardened parse, secret redaction).

    python benchmarks/cxml_order_request.py [--lines 1 100 1000] [--repeat 20]

For a PO of N lines (the BUYERCO sample's lines repeated), times each step with
``time.perf_counter`` and reports the median of ``--repeat`` runs: ``render`` (the cXML
reverse map), ``envelope`` (the <cXML> Header and payloadID), ``check`` (what the DTD
requires, on bytes read back hardened) and ``inbound`` (parse + redaction of the same
document as /cxml does before storing it). HTTP, the database and the pipeline are not
included: they depend on the machine's disk and network.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gateway.domain.partner import CxmlSettings, SharedSecretRef  # noqa: E402
from gateway.outbound.cxml_check import cxml_errors  # noqa: E402
from gateway.outbound.cxml_envelope import envelope, payload_id, with_secret  # noqa: E402
from gateway.outbound.cxml_map import load_cxml_map, render_cxml  # noqa: E402
from gateway.transports.cxml_receive import _without_secret  # noqa: E402
from gateway.xml.parse import parse_document  # noqa: E402

SETTINGS = CxmlSettings(from_=("NetworkId", "BUYERCO"), to=("NetworkId", "ACMESUPPLY"),
                        sender=("NetworkId", "BUYERCO"), shared_secret=SharedSecretRef(env="UNUSED"))


def po_with(lines: int) -> dict:
    sample = json.loads((REPO / "maps/translate/x12-850-004010.buyerco.expected.json").read_text())[0]["payload"]
    po = copy.deepcopy(sample)
    po["lines"] = [{**sample["lines"][i % 3], "line_number": str(i + 1)} for i in range(lines)]
    return po


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, nargs="+", default=[1, 100, 1000])
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    cmap = load_cxml_map("OrderRequest")
    print(f"{'lines':>6} {'bytes':>8} {'render ms':>10} {'envelope ms':>12} {'check ms':>9} {'inbound ms':>11}")
    for n in args.lines:
        po, times = po_with(n), {"render": [], "envelope": [], "check": [], "inbound": []}
        for _ in range(args.repeat):
            now = datetime.now(UTC)
            t0 = time.perf_counter()
            body = render_cxml(cmap, po)
            t1 = time.perf_counter()
            data = envelope(SETTINGS, body, payload_id=payload_id(now, "out_bench", "BUYERCO"), now=now)
            t2 = time.perf_counter()
            errors = cxml_errors(data)
            t3 = time.perf_counter()
            posted = with_secret(data, "bench-secret")
            t4 = time.perf_counter()
            parse_document(posted)
            stored = _without_secret(posted)
            t5 = time.perf_counter()
            assert not errors and stored is not None, errors[:3]
            for k, v in zip(times, (t1 - t0, t2 - t1, t3 - t2, t5 - t4), strict=True):
                times[k].append(v * 1000)
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"{n:>6} {len(data):>8} {med['render']:>10.2f} {med['envelope']:>12.2f} {med['check']:>9.2f} "
              f"{med['inbound']:>11.2f}")


if __name__ == "__main__":
    main()
