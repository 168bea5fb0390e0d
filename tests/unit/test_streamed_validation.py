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
