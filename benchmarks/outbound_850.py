"""Outbound 850 benchmark: the sans-IO part of issuing a PO (map, envelope, validate).

    python benchmarks/outbound_850.py [--lines 1 100 1000] [--repeat 20]

For a PO of N lines (the BUYERCO sample's lines repeated), times each step with
``time.perf_counter`` and reports the median of ``--repeat`` runs: ``render`` (the reverse
map), ``envelope`` (ISA/GS/ST with in-memory control numbers) and ``validate`` (our X12
validator, the same check inbound documents get). The HTTP call, the database
transaction and the send are not included: they depend on the machine's disk and network.
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

from gateway.domain.partner import load_partner  # noqa: E402
from gateway.outbound.envelope import envelope  # noqa: E402
from gateway.outbound.reverse_map import load_reverse_map, render  # noqa: E402
from gateway.outbound.validation import outbound_errors  # noqa: E402


class Counter:
    def __init__(self):
        self.n = 0

    def next(self, _name: str) -> int:
        self.n += 1
        return self.n


def po_with(lines: int) -> dict:
    sample = json.loads((REPO / "maps/translate/x12-850-004010.buyerco.expected.json").read_text())[0]["payload"]
    po = copy.deepcopy(sample)
    po["lines"] = [{**sample["lines"][i % 3], "line_number": str(i + 1)} for i in range(lines)]
    po.pop("total_amount")
    return po


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, nargs="+", default=[1, 100, 1000])
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    rmap, partner = load_reverse_map("850", "004010"), load_partner(REPO / "partners/demo/partner.yaml")
    print(f"{'lines':>6} {'bytes':>8} {'render ms':>10} {'envelope ms':>12} {'validate ms':>12}")
    for n in args.lines:
        po, times = po_with(n), {"render": [], "envelope": [], "validate": []}
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            segments = render(rmap, po)
            t1 = time.perf_counter()
            data = envelope(partner, segments, set_id="850", version="004010", functional_id="PO",
                            control_numbers=Counter(), now=datetime.now(UTC)).text.encode()
            t2 = time.perf_counter()
            errors = outbound_errors(data)
            t3 = time.perf_counter()
            assert not errors, errors[:3]
            for k, v in zip(times, (t1 - t0, t2 - t1, t3 - t2), strict=True):
                times[k].append(v * 1000)
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"{n:>6} {len(data):>8} {med['render']:>10.2f} {med['envelope']:>12.2f} {med['validate']:>12.2f}")


if __name__ == "__main__":
    main()
