"""The segment loop of one interchange: split, decode, check characters, hand on.

Fast path: every complete segment already buffered is split at once with
``bytes.split`` (C speed); a segment that runs past the buffer goes through
``ByteSource.next_segment``, which also bounds oversized segments. Offsets stay exact,
and the loop stops at IEA or at a new ISA (which may bring other delimiters), giving
back the unread bytes to the reader.
"""

from __future__ import annotations

from gateway.x12.characters import allowed_bytes, describe, element_problems, looks_binary
from gateway.x12.envelope import TAG, InterchangeBuilder
from gateway.x12.findings import FindingCode as C
from gateway.x12.findings import Severity
from gateway.x12.model import Segment
from gateway.x12.tokenizer import CHUNK, WHITESPACE, ByteSource, RawSegment


def _starts_isa(data: bytes) -> bool:
    return data[:3] == b"ISA" and (len(data) < 4 or not data[3:4].isalnum())


class SegmentLoop:
    def __init__(self, src: ByteSource, b: InterchangeBuilder, max_segment: int):
        self.src, self.b, self.max_segment = src, b, max_segment
        d = b.ic.delimiters
        self.term, self.sep = d.segment.encode("latin-1"), d.element
        self.skippable = bytes(c for c in WHITESPACE if chr(c) not in (d.segment, d.element,
                                                                        d.component))
        self.allowed = allowed_bytes(d)
        self.crlf = self.term == b"\n"
        self.in_binary = False

    def run(self) -> None:
        """Feed segments to the builder until IEA, a new ISA or the end of the data."""
        src, b = self.src, self.b
        while not b.closed:
            if src.available() < CHUNK:
                src.fill()
            last = src.buf.rfind(self.term, src.pos)
            if last >= 0:
                if self._block(last):
                    return
                continue
            src.skip_bytes(self.skippable)
            if _starts_isa(src.peek(4)):
                b.end_of_data(src.tell(), "another ISA starts here")
                return
            raw = src.next_segment(self.term, self.max_segment, self.skippable)
            if raw is None:
                b.end_of_data(src.tell(), "the data ends before it")
                return
            self.segment(raw)

    def _block(self, last: int) -> bool:
        """Handle all segments up to buffer index ``last``; True when the loop must stop."""
        src, b = self.src, self.b
        start = src.pos
        base = src.base + start
        block = bytes(src.buf[start:last])
        src.pos = last + 1
        rel = 0
        for piece in block.split(self.term):
            data = piece.lstrip(self.skippable)
            at = rel + len(piece) - len(data)
            if _starts_isa(data):
                src.pos = start + at  # give the new ISA back: it may bring other delimiters
                b.end_of_data(base + at, "another ISA starts here")
                return True
            rel += len(piece) + 1
            if len(data) > self.max_segment:
                self.segment(RawSegment(data[:64], base + at, len(data)))
            else:
                self.segment(RawSegment(data, base + at, len(data)))
            if b.closed:
                src.pos = start + rel  # what follows IEA belongs to the reader
                return True
        return False

    def segment(self, raw: RawSegment) -> None:
        b, data = self.b, raw.data
        if self.crlf and data.endswith(b"\r"):
            data = data[:-1]  # CRLF line ends with a LF terminator
        if raw.oversized:
            tag = data.split(self.sep.encode("latin-1"), 1)[0][:3].decode("latin-1")
            tag = tag if TAG.fullmatch(tag) else "???"
            seg = Segment(tag, [], b.next_position(tag), raw.offset)
            b.finding(C.SEGMENT_TOO_LONG, f"segment {tag} at byte {raw.offset} is {raw.length} "
                      f"bytes long; the limit is {self.max_segment} (is a terminator "
                      f"{b.ic.delimiters.segment!r} missing?)", seg=seg)
            return
        if not data:
            if self.term in (b"\r", b"\n"):  # a blank line where lines are segments: cosmetic
                b.finding(C.EMPTY_SEGMENT, f"blank line at byte {raw.offset} ignored (an empty "
                          "segment)", offset=raw.offset, severity=Severity.WARNING)
            else:
                b.finding(C.EMPTY_SEGMENT, f"empty segment at byte {raw.offset} (two terminators "
                          "in a row)", offset=raw.offset)
            return
        bad = data.translate(None, self.allowed)
        if bad and looks_binary(data, bad):
            if not self.in_binary:  # one finding per run of junk, not one per fragment
                b.finding(C.BINARY_CONTENT, f"binary data at byte {raw.offset} ({describe(bad[0])} "
                          "and others): this part of the file is not X12 text", offset=raw.offset)
            self.in_binary = True
            return
        self.in_binary = False
        elements = data.decode("latin-1").split(self.sep)
        seg = Segment(elements[0], elements[1:], 0, raw.offset)
        b.add(seg)
        in_set = b.tset is not None and seg.position > 0
        if in_set and not TAG.fullmatch(seg.tag):
            b.finding(C.UNRECOGNIZED_SEGMENT_ID, f"{seg.tag[:20]!r} at byte {raw.offset} is not "
                      "a segment identifier", seg=seg)
        if bad:
            self._bad_characters(seg, in_set)

    def _bad_characters(self, seg: Segment, in_set: bool) -> None:
        b = self.b
        for n, byte in element_problems(seg.elements, b.ic.delimiters):
            value = seg.elements[n - 1]
            if in_set:
                code = C.NON_ASCII_CHARACTER if byte >= 0x80 else C.INVALID_CHARACTER
                b.finding(code, f"{b.locate(seg)}, element {seg.tag}{n:02d}: {describe(byte)} "
                          "is not allowed in X12 data", seg=seg, element=n, value=value)
            else:
                code = C.NON_ASCII_BYTE if byte >= 0x80 else C.INVALID_INTERCHANGE_CONTENT
                b.finding(code, f"{seg.tag} at byte {seg.offset}, element {seg.tag}{n:02d}: "
                          f"{describe(byte)} is not allowed in X12 data", seg=seg, value=value,
                          in_set=False)
