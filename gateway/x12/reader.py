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

from gateway.x12.envelope import InterchangeBuilder
from gateway.x12.findings import Finding, Severity
from gateway.x12.findings import FindingCode as C
from gateway.x12.isa import ISA_LENGTH, parse_isa
from gateway.x12.model import Interchange, Segment
from gateway.x12.segments import SegmentLoop
from gateway.x12.tokenizer import WHITESPACE, ByteSource

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
    source: BinaryIO | None = None  # the file read as a stream (segments not kept), to read parts back
    _index: dict = field(default_factory=dict, repr=False, compare=False)
    _index_size: int = field(default=-1, repr=False, compare=False)

    @property
    def valid(self) -> bool:
        """True when the data is X12 and no finding is an error (warnings/notes allowed)."""
        return self.is_x12 and self.suppressed == 0 and not any(f.is_error for f in self.findings)

    def findings_for(self, interchange_index: int, group_cn: str | None = None,
                     set_cn: str | None = None) -> list[Finding]:
        """Findings of one interchange, optionally narrowed to a group and a set.

        Served from an index built once per state of ``findings`` (rebuilt when findings
        were added), so asking for every set of a large file stays linear."""
        if self._index_size != len(self.findings):
            index: dict[tuple, list[Finding]] = {}
            for f in self.findings:
                for key in ((f.interchange_index,), (f.interchange_index, f.group_control_number),
                            (f.interchange_index, f.group_control_number, f.transaction_control_number)):
                    index.setdefault(key, []).append(f)
            self._index, self._index_size = index, len(self.findings)
        if group_cn is None:
            found = self._index.get((interchange_index,), [])
            return [f for f in found if set_cn is None or f.transaction_control_number == set_cn]
        if set_cn is None:
            return list(self._index.get((interchange_index, group_cn), []))
        return list(self._index.get((interchange_index, group_cn, set_cn), []))


def read_x12(source: bytes | BinaryIO, *, keep_segments: bool = True,
             max_segment_bytes: int = 64 * 1024, observer=None) -> X12ReadResult:
    """Read every interchange in ``source``; report what is wrong instead of raising.

    ``observer(index, interchange)``, when given, returns the object each interchange's
    groups, sets and segments are streamed to (the validation engine), or None."""
    result = _Reader(source, keep_segments, max_segment_bytes, observer).run()
    if not isinstance(source, bytes | bytearray):
        result.source = source
    return result


class _Reader:
    def __init__(self, source: bytes | BinaryIO, keep: bool, max_segment: int, observer=None):
        self.src = ByteSource(source)
        self.observer = observer
        self.keep = keep
        self.max_segment = max(max_segment, ISA_LENGTH)
        self.result = X12ReadResult(is_x12=False)
        self._icns: set[tuple[str, str, str]] = set()

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
        builder = InterchangeBuilder(ic, index, self.report, self.keep,
                                     self.observer(index, ic) if self.observer else None)
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
        SegmentLoop(src, builder, self.max_segment).run()
        if builder.ta1:
            self.result.ta1[index] = builder.ta1
        ic.end = src.tell()


__all__ = ["X12ReadResult", "read_x12", "Finding", "Severity"]
