"""Validation throughput and peak memory: `gateway validate` against pyx12 alone.

    python benchmarks/validation_throughput.py [--sizes 1,20,200] [--kind valid|all-wrong]
                                               [--tools gateway,pyx12] [--workdir DIR]

For each size (MB) a 004010 850 file is generated (one interchange, one group, 850s of
1,000 PO1 lines each, `~` terminators, no line breaks); ``--kind all-wrong`` makes every
PO1 and PID wrong (a letter in PO102, an invalid PID01 code), to show time linear in
the number of errors. Each tool runs in a fresh process, which reports its own time
(after imports and map/table loading) and peak RSS:

- gateway: ``gateway.processing.validate.validate_path`` -- what `gateway validate` does:
  our engine (``gateway.x12.validator``) fed by the streaming reader, one pass (the
  worker does the same). ``GATEWAY_X12_VALIDATOR=pyx12`` in the environment makes it
  the old pyx12 path instead.
- pyx12: ``pyx12.x12n_document.x12n_document`` with the map directory built from the
  same tables, reading the same file, no 997 -- the reference.

Reports segments/s, MB/s, peak RSS, the time ratio gateway / pyx12 and its inverse
(how many times faster). pyx12 on 200 MB takes ~7-20 minutes on a shared 2-core box:
``--tools gateway`` for that size, and compare segments/s with the 1 and 20 MB rows.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, sys, time
tool, path = sys.argv[1], sys.argv[2]
if tool == "gateway":
    from gateway.processing.validate import validate_path
    from gateway.x12.schema import compiled
    from gateway.x12.structure import map_dir
    map_dir("004010")  # built once, outside the timing (only GATEWAY_X12_VALIDATOR=pyx12 uses it)
    compiled("004010", "850")  # the engine's tables, compiled once per process
    t = time.perf_counter()
    report = validate_path(path)
    ok = report["valid"]
else:
    import io, logging, pyx12.params, pyx12.x12n_document
    from gateway.x12.structure import map_dir
    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    maps = str(map_dir("004010"))
    t = time.perf_counter()
    with open(path, encoding="ascii", newline="") as fh:
        ok = pyx12.x12n_document.x12n_document(pyx12.params.params(), fh, fd_997=None, fd_html=None,
                                               fd_json=io.StringIO(), map_path=maps)
elapsed = time.perf_counter() - t
# VmHWM (this process image's peak), not ru_maxrss: the latter inherits the parent's peak
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"seconds": elapsed, "valid": bool(ok), "peak_rss_mb": hwm / 1024}))
"""


def generate(path: Path, megabytes: float, kind: str = "valid") -> int:
    """Write an 850 file of about ``megabytes``; return its segment count. ``kind``
    ``all-wrong``: every PO1 and PID line carries an element error."""
    wrong = kind == "all-wrong"
    isa = ("ISA*00*" + " " * 10 + "*00*" + " " * 10 + "*ZZ*" + "BUYERCO".ljust(15) + "*ZZ*" + "ACMESUPPLY".ljust(15)
           + "*261120*1030*U*00401*000000901*0*P*>~")
    target = int(megabytes * 1024 * 1024)
    segments = 2
    with open(path, "w", encoding="ascii", newline="") as fh:
        fh.write(isa + "GS*PO*BUYERCO*ACMESUPPLY*20261120*1030*901*X*004010~")
        written, n = len(isa) + 53, 0
        while written < target:
            n += 1
            body = [f"ST*850*{n:04d}", f"BEG*00*SA*PO{n:08d}**20261120", "REF*DP*042", "PER*BD*JANE BUYER*TE*5551234",
                    "DTM*002*20261215", "N1*ST*BUYERCO PLANT 1*92*PLANT01", "N3*100 MAIN ST",
                    "N4*SPRINGFIELD*IL*62701*US"]
            for line in range(1, 1001):
                qty = "TEN" if wrong else str(line % 90 + 10)
                body.append(f"PO1*{line}*{qty}*EA*12.50**BP*WIDGET-{line:05d}*VP*AC-{line:05d}")
                body.append(f"PID*{'Q' if wrong else 'F'}****STEEL WIDGET {line}")
            body.append("CTT*1000")
            body.append(f"SE*{len(body) + 1}*{n:04d}")
            text = "~".join(body) + "~"
            fh.write(text)
            written += len(text)
            segments += len(body)
        fh.write(f"GE*{n}*901~IEA*1*000000901~")
    return segments + 2


def run(tool: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, tool, str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,20,200")
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--kind", default="valid", choices=("valid", "all-wrong"))
    ap.add_argument("--tools", default="gateway,pyx12",
                    help="which to run (run one per process to use both cores on big files)")
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="gw-validate-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print("| file | segments | MB | tool | seconds | segments/s | MB/s | peak RSS MB | valid |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---|")
    for size in (float(s) for s in args.sizes.split(",")):
        path = work / f"850-{size:g}MB{'-all-wrong' if args.kind == 'all-wrong' else ''}.x12"
        segments = generate(path, size, args.kind)
        mb = path.stat().st_size / 1024 / 1024
        results = {tool: run(tool, path) for tool in args.tools.split(",")}
        for tool, r in results.items():
            print(f"| {path.name} | {segments:,} | {mb:.1f} | {tool} | {r['seconds']:.1f} | "
                  f"{segments / r['seconds']:,.0f} | {mb / r['seconds']:.2f} | {r['peak_rss_mb']:.0f} | {r['valid']} |",
                  flush=True)
        if {"gateway", "pyx12"} <= results.keys():
            ratio = results["gateway"]["seconds"] / results["pyx12"]["seconds"]
            print(f"| {path.name} | | | gateway / pyx12 | {ratio:.3f}x | {1 / ratio:.1f}x faster | | | |",
                  flush=True)
        path.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
