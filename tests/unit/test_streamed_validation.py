"""A file validated as a stream (large files) finds what the in-memory path finds."""

from __future__ import annotations

import io

from support import SAMPLES

from gateway.processing.normalize import NormalizedInterchange
from gateway.processing.validate import check_x12
from gateway.x12.reader import read_x12

SAMPLE_855 = SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi"


def _summary(result):
    return sorted((f.code.name, f.transaction_control_number, f.segment_id, f.segment_position, f.element_position)
                  for f in result.findings if f.is_error)


def test_streamed_and_in_memory_validation_agree_on_a_broken_mailbag():
    broken = SAMPLE_855.read_bytes().replace(b"PO1*2*50*EA", b"PO1*2*ten*EA").replace(b"*20261201~", b"*20261341~", 1)
    # two interchanges, CRLF between segments in the second, a different ISA13
    second = SAMPLE_855.read_bytes().replace(b"000000101", b"000000102").replace(b"~\n", b"~\r\n")
    data = broken + second
    in_memory = check_x12(data)
    streamed = check_x12(io.BytesIO(data))
    assert _summary(streamed) == _summary(in_memory)
    assert _summary(streamed) == [("INVALID_DATE", "0001", "ACK", 8, 5), ("INVALID_NUMERIC_VALUE", "0001", "PO1", 9, 2)]
    assert len(streamed.interchanges) == 2


def test_the_normalized_stream_is_what_pyx12_reads():
    data = b"\xef\xbb\xbf" + SAMPLE_855.read_bytes().replace(b"*00401*", b"*00400*").replace(b"~\n", b"~\r\n  ")
    result = read_x12(data, keep_segments=False)
    text = NormalizedInterchange(io.BytesIO(data), result.interchanges[0]).read()
    assert text.startswith("ISA*00*") and "*U*00401*000000101*" in text[:110]
    assert "\n" not in text and "~  " not in text
    assert text.endswith("IEA*1*000000101~")
    assert text.count("~") == SAMPLE_855.read_text().count("~")


# --------------------------------------------------------------------------- the worker

def test_the_worker_streams_an_x12_blob_and_never_reads_it_whole(rt, erp_receiver, monkeypatch):
    """Above STREAM_ABOVE the worker validates from the blob file in one pass and reads
    each accepted set back by its byte range; the result is the same as in memory."""
    from support import drain

    from gateway.intake.receive import receive
    from gateway.processing import service
    from gateway.store.models import Document
    from gateway.store.views import document_detail

    monkeypatch.setattr(service, "STREAM_ABOVE", 0)  # every X12 blob takes the streamed path

    from gateway.store.blobs import BlobStore

    def whole(self, sha256):
        raise AssertionError(f"the worker read blob {sha256} whole")

    monkeypatch.setattr(BlobStore, "get", whole)  # the worker builds its own runtime and store
    data = SAMPLE_855.read_bytes().replace(b"~\n", b"~\r\n  ")  # indentation and CRLF between segments
    receipt = receive(rt, data, channel="sftp", filename="big.edi", partner_id="demo")
    drain(rt)
    with rt.session() as s:
        doc = document_detail(s.get(Document, receipt.document_id))
    assert doc["status"] == "accepted", doc["reason"]
    [event] = doc["events"]
    assert erp_receiver.keys() == [event["event_id"]]
    body = erp_receiver.posts[0]["body"]
    assert [line["line_number"] for line in body["payload"]["lines"]] == ["1", "2", "3"]
    assert doc["ack"]["kind"] == "997"


# VmHWM, not ru_maxrss: the latter carries the parent's high-water mark across fork/exec
CHILD = r"""
import json, sys
from gateway.processing.validate import validate_path
report = validate_path(sys.argv[1])
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"valid": report["valid"], "sets": len(report["transactions"]), "peak_mb": hwm / 1024}))
"""


def test_a_large_file_is_validated_in_bounded_memory(tmp_path):
    """12 MB (~340k segments) validated in a fresh process under 100 MB peak RSS: holding
    the file's segments would take several times that."""
    import json
    import subprocess
    import sys

    sys.path.insert(0, str(SAMPLES.parent / "benchmarks"))
    from validation_throughput import generate

    path = tmp_path / "850-12MB.x12"
    generate(path, 12)
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True,
                         cwd=SAMPLES.parent, timeout=600)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["valid"] and result["sets"] > 150
    assert result["peak_mb"] < 100, result  # measured: ~30 MB
