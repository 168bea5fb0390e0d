"""Read X12 from bytes or a binary file: envelopes, segments and findings. Never raises.

``read_x12(source)`` streams the input once, in chunks. Memory is bounded by one
segment (``max_segment_bytes``) plus what is kept: with ``keep_segments=False`` only the
envelopes (interchange / group / set headers) and the findings stay in memory.

Handled as partners really send it: delimiters read from each ISA (control characters
and ``~`` as element separator included), CR / LF / NAK terminators, line breaks and
indentation between segments, a UTF-8 BOM, several interchanges per file (each with its
own delimiters), ISA12 00200..00801. Everything else becomes a :class:`Finding`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO

from gateway.x12.characters import bad_bytes, describe, element_problems, looks_binary
from gateway.x12.envelope import TAG, InterchangeBuilder
from gateway.x12.findings import Finding, Severity
from gateway.x12.findings import FindingCode as C
from gateway.x12.isa import ISA_LENGTH, parse_isa
from gateway.x12.model import Interchange, Segment
from gateway.x12.tokenizer import WHITESPACE, ByteSource, RawSegment

MAX_FINDINGS = 5000  # beyond this the file is clearly rejected; keep memory bounded
BOM = b"\xef\xbb\xbf"
# Bytes tolerated between interchanges: line breaks, indentation, DOS end-of-file (Ctrl-Z).
BETWEEN = WHITESPACE + b"\x1a\x00"
# Fatal for tokenizing: segments cannot be split reliably.
UNSPLITTABLE = (C.INVALID_SEGMENT_TERMINATOR,)


@dataclass
class X12ReadResult:
    """What ``read_x12`` found. ``ta1`` holds inbound TA1 segments per interchange index."""

    is_x12: bool
    interchanges: list[Interchange] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    ta1: dict[int, list[Segment]] = field(default_factory=dict)
    suppressed: int = 0  # findings beyond MAX_FINDINGS, counted but not kept

    @property
    def valid(self) -> bool:
        """True when the data is X12 and no finding is an error (warnings/notes allowed)."""
        return self.is_x12 and self.suppressed == 0 and not any(f.is_error for f in self.findings)

    def findings_for(self, interchange_index: int, group_cn: str | None = None,
                     set_cn: str | None = None) -> list[Finding]:
        """Findings of one interchange, optionally narrowed to a group and a set."""
        return [f for f in self.findings if f.interchange_index == interchange_index
                and (group_cn is None or f.group_control_number == group_cn)
                and (set_cn is None or f.transaction_control_number == set_cn)]


def read_x12(source: bytes | BinaryIO, *, keep_segments: bool = True,
             max_segment_bytes: int = 64 * 1024) -> X12ReadResult:
    """Read every interchange in ``source``; report what is wrong instead of raising."""
    return _Reader(source, keep_segments, max_segment_bytes).run()


class _Reader:
    def __init__(self, source: bytes | BinaryIO, keep: bool, max_segment: int):
        self.src = ByteSource(source)
        self.keep = keep
        self.max_segment = max(max_segment, ISA_LENGTH)
        self.result = X12ReadResult(is_x12=False)
        self._icns: set[tuple[str, str, str]] = set()
        self._in_binary = False

    def report(self, finding: Finding) -> None:
        if len(self.result.findings) < MAX_FINDINGS:
            self.result.findings.append(finding)
        else:
            self.result.suppressed += 1

    def run(self) -> X12ReadResult:
        if not self._start():
            return self.result
        self.result.is_x12 = True
        while True:
            self._interchange()
            self.src.skip_bytes(BETWEEN)
            if not self.src.ensure(1):
                return self.result
            if self.src.peek(3) != b"ISA" and not self._resync():
                return self.result

    def _start(self) -> bool:
        """Decide whether this is X12 at all (BOM, UTF-16, binary junk, leading blanks)."""
        head = self.src.peek(512)
        if head.startswith(BOM):
            self.src.skip(3)
            head = head[3:]
            self.report(Finding(C.BYTE_ORDER_MARK, "a UTF-8 byte order mark before the ISA "
                                "was ignored", offset=0))
        if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"I\x00S\x00A" in head[:64]:
            self.report(Finding(C.UTF16_ENCODING, "the file is UTF-16 encoded; X12 uses the "
                                "basic/extended character set (ASCII), so it cannot be read",
                                offset=0))
            self.report(Finding(C.NOT_X12, "not an X12 interchange", offset=0))
            return False
        self.src.skip_bytes(WHITESPACE)
        if self.src.peek(3) == b"ISA":
            return True
        start = head.lstrip(WHITESPACE)[:512]
        if start and (b"\x00" in start or sum(b < 9 or b > 126 for b in start) > len(start) // 10):
            self.report(Finding(C.BINARY_CONTENT, "the file holds binary data, not text",
                                offset=0))
        shown = start[:20].decode("latin-1").encode("unicode_escape").decode("ascii")
        self.report(Finding(C.NOT_X12, f"not an X12 interchange: the data must start with "
                            f"'ISA' but starts with '{shown}'" if start else
                            "not an X12 interchange: the file is empty", offset=0))
        return False

    def _resync(self) -> bool:
        """Skip data that is not an interchange, up to the next ISA (reported once)."""
        offset = self.src.tell()
        self.report(Finding(C.DATA_OUTSIDE_INTERCHANGE, f"data at byte {offset} is not part of "
                            "an interchange (expected ISA); skipped up to the next ISA",
                            offset=offset))
        self.src.skip(1)
        return self._skip_to_isa()

    def _skip_to_isa(self) -> bool:
        """Drop data up to (not including) the next "ISA"; False when there is none."""
        _, found = self.src.discard_until(b"ISA")
        if found:
            self.src.skip(-3)
        return found

    def _interchange(self) -> None:
        src, start = self.src, self.src.tell()
        isa = parse_isa(src.peek(512))
        if isa is None:
            self.report(Finding(C.INVALID_CONTROL_STRUCTURE, f"the ISA at byte {start} cannot be "
                                "read: it needs 16 elements followed by the component separator "
                                "and the segment terminator; the data up to the next ISA "
                                "is skipped", offset=start))
            src.skip(3)
            self._skip_to_isa()
            return
        g = isa.get
        index = len(self.result.interchanges)
        ic = Interchange(isa.delimiters, g(5), g(6).rstrip(), g(7), g(8).rstrip(), g(9), g(10),
                         g(12), g(13), g(14) == "1", g(15), start=start)
        self.result.interchanges.append(ic)
        builder = InterchangeBuilder(ic, index, self.report, self.keep)
        for code, message, severity in isa.problems:
            builder.finding(code, message, severity=severity, offset=start)
        key = (ic.sender_qualifier, ic.sender_id, ic.control_number)
        if key in self._icns:
            builder.finding(C.DUPLICATE_INTERCHANGE_CONTROL_NUMBER, f"ISA13 {ic.control_number} "
                            "was already used by an earlier interchange in this file",
                            offset=start)
        self._icns.add(key)
        src.skip(isa.length + 1)
        d = isa.delimiters
        if d.segment == d.element or any(c in UNSPLITTABLE for c, _, _ in isa.problems):
            # Segments cannot be told apart: report once, skip to the next interchange.
            self._skip_to_isa()
            ic.end = src.tell()
            return
        self._segments(builder)
        if builder.ta1:
            self.result.ta1[index] = builder.ta1
        ic.end = src.tell()

    def _segments(self, b: InterchangeBuilder) -> None:
        d = b.ic.delimiters
        term, sep = d.segment.encode("latin-1"), d.element
        skippable = bytes(c for c in WHITESPACE if chr(c) not in (d.segment, d.element, d.component))
        while not b.closed:
            self.src.skip_bytes(skippable)
            if self.src.peek(3) == b"ISA" and self.src.peek(4)[3:] not in b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789":
                b.end_of_data(self.src.tell(), "another ISA starts here")
                return
            raw = self.src.next_segment(term, self.max_segment, skippable)
            if raw is None:
                b.end_of_data(self.src.tell(), "the data ends before it")
                return
            self._segment(b, raw, term, sep)

    def _segment(self, b: InterchangeBuilder, raw: RawSegment, term: bytes, sep: str) -> None:
        data = raw.data
        if term == b"\n" and data.endswith(b"\r"):
            data = data[:-1]  # CRLF line ends with a LF terminator
        tag = data.split(sep.encode("latin-1"), 1)[0][:3].decode("latin-1")
        tag = tag if TAG.fullmatch(tag) else "???"
        if raw.oversized:
            seg = Segment(tag, [], b.next_position(tag), raw.offset)
            b.finding(C.SEGMENT_TOO_LONG, f"segment {tag} at byte {raw.offset} is {raw.length} "
                      f"bytes long; the limit is {self.max_segment} (is a terminator "
                      f"{b.ic.delimiters.segment!r} missing?)", seg=seg)
            return
        if not data:
            b.finding(C.EMPTY_SEGMENT, f"empty segment at byte {raw.offset} (two terminators in "
                      "a row)", offset=raw.offset)
            return
        d = b.ic.delimiters
        bad = bad_bytes(data, d)
        if bad and looks_binary(data, bad):
            if not self._in_binary:  # one finding per run of junk, not one per fragment
                b.finding(C.BINARY_CONTENT, f"binary data at byte {raw.offset} ({describe(bad[0])} "
                          "and others): this part of the file is not X12 text", offset=raw.offset)
            self._in_binary = True
            return
        self._in_binary = False
        elements = data.decode("latin-1").split(sep)
        seg = Segment(elements[0], elements[1:], 0, raw.offset)
        b.add(seg)
        in_set = b.tset is not None and seg.position > 0
        if not TAG.fullmatch(seg.tag) and in_set:
            b.finding(C.UNRECOGNIZED_SEGMENT_ID, f"{seg.tag[:20]!r} at byte {raw.offset} is not "
                      "a segment identifier", seg=seg)
        if bad:
            for n, byte in element_problems(seg.elements, d):
                value = seg.elements[n - 1]
                if in_set:
                    code = C.NON_ASCII_CHARACTER if byte >= 0x80 else C.INVALID_CHARACTER
                    b.finding(code, f"{b.locate(seg)}, element {seg.tag}{n:02d}: "
                              f"{describe(byte)} is not allowed in X12 data", seg=seg,
                              element=n, value=value)
                else:
                    code = C.NON_ASCII_BYTE if byte >= 0x80 else C.INVALID_INTERCHANGE_CONTENT
                    b.finding(code, f"{seg.tag} at byte {raw.offset}, element {seg.tag}{n:02d}: "
                              f"{describe(byte)} is not allowed in X12 data", seg=seg,
                              value=value, in_set=False)


__all__ = ["X12ReadResult", "read_x12", "Finding", "Severity"]
