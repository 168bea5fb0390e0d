"""Envelope bookkeeping for one interchange: ISA/IEA, GS/GE, ST/SE, counts and control
numbers, trailers missing, duplicates inside the interchange.

``InterchangeBuilder`` receives decoded segments in order and reports findings through
the ``report`` callback; it never sees bytes. The reader owns tokenizing.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable

from gateway.x12.findings import Finding, Severity
from gateway.x12.findings import FindingCode as C
from gateway.x12.model import FunctionalGroup, Interchange, Segment, TransactionSet

Report = Callable[[Finding], None]
TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}")
ENVELOPE_TAGS = frozenset(("ST", "SE", "GS", "GE", "IEA"))


def where(tag: str, position: int, occurrence: int) -> str:
    """How a supplier finds the segment again: ``PO1 #3 (segment 8)``."""
    return f"{tag} #{occurrence} (segment {position})"


class InterchangeBuilder:
    """Builds one :class:`Interchange` from its segments and checks its envelopes."""

    def __init__(self, ic: Interchange, index: int, report: Report, keep_segments: bool,
                 observer=None):
        self.ic = ic
        # told of every group, set and in-set segment (the validation engine,
        # gateway.x12.validator); None when only envelopes are read
        self.observer = observer
        self.index = index
        self._report = report
        self.keep = keep_segments
        self.ta1: list[Segment] = []
        self.group: FunctionalGroup | None = None
        self.tset: TransactionSet | None = None
        self.position = 0  # of the last segment in the open set
        self._tag_counts: dict[str, int] = {}
        self._group_cns: set[str] = set()
        self._set_cns: set[str] = set()
        self._outside = False  # inside a run of segments found outside any ST..SE
        self.closed = False

    # -- reporting helpers: every finding carries the pointers the ack builders need --
    def finding(self, code: C, message: str, *, seg: Segment | None = None,
                element: int | None = None, value: str | None = None,
                severity: Severity | None = None, in_set: bool = True, offset: int | None = None,
                component: int | None = None) -> None:
        g, s = self.group, self.tset if in_set else None
        self._report(Finding(
            code, message, interchange_index=self.index,
            group_control_number=g.control_number if g else None,
            transaction_control_number=s.control_number if s else None,
            segment_id=seg.tag if seg else None,
            segment_position=seg.position or None if seg and s else None,
            element_position=element, component_position=component, value=value,
            offset=seg.offset if seg else offset, severity=severity,
            group_index=len(self.ic.groups) - 1 if g else None,
            set_index=len(g.transactions) - 1 if g and s else None,
        ))

    def locate(self, seg: Segment) -> str:
        if self.tset is not None and seg.position:
            return where(seg.tag, seg.position, self._tag_counts.get(seg.tag, 1))
        return f"{seg.tag} at byte {seg.offset}"

    # -- the segment stream --
    def next_position(self, tag: str) -> int:
        """Count a segment of the open set (also for segments that could not be decoded)."""
        if self.tset is None:
            return 0
        self.position += 1
        self._tag_counts[tag] = self._tag_counts.get(tag, 0) + 1
        return self.position

    def add(self, seg: Segment) -> None:
        tag = seg.tag
        if self.tset is not None and tag not in ENVELOPE_TAGS:  # the common case first
            self.position += 1
            self._tag_counts[tag] = self._tag_counts.get(tag, 0) + 1
            seg.position = self.position
            if self.keep:
                self.tset.segments.append(seg)
            if self.observer is not None:
                self.observer.segment(seg)
            return
        handler = _HANDLERS.get(tag)
        if tag == "TA1" and self.group is None:
            self.ta1.append(seg)
        elif handler is not None:
            handler(self, seg)
        elif self.tset is not None:
            seg.position = self.next_position(seg.tag)
            if self.keep:
                self.tset.segments.append(seg)
            if self.observer is not None:
                self.observer.segment(seg)
        else:
            self._outside_set(seg)

    def _outside_set(self, seg: Segment) -> None:
        if not self._outside:  # one finding per run, not one per segment
            self._outside = True
            self.finding(C.INVALID_INTERCHANGE_CONTENT, f"{seg.tag} at byte {seg.offset} is "
                         "outside any transaction set (no ST before it); it and the segments "
                         "after it up to the next ST, GS or IEA are ignored", seg=seg)

    def _st(self, seg: Segment) -> None:
        if self.tset is not None:
            self._close_set_missing(seg.offset)
        if self.group is None:
            self._outside_set(seg)
            return
        self._outside = False
        st01, st02 = seg.get(1), seg.get(2)
        # interned: a file of many small sets keeps one copy of "850", not thousands
        self.tset = TransactionSet(sys.intern(st01), st02, sys.intern(seg.get(3)), start=seg.offset)
        self.group.transactions.append(self.tset)
        self.position, self._tag_counts = 0, {}
        seg.position = self.next_position("ST")
        if self.keep:
            self.tset.segments.append(seg)
        if not re.fullmatch(r"[A-Z0-9]{3}", st01):
            self.finding(C.INVALID_TRANSACTION_SET_IDENTIFIER,
                         f"ST01 {st01!r} is not a transaction set identifier", seg=seg,
                         element=1, value=st01)
        if not re.fullmatch(r"[A-Za-z0-9]{4,9}", st02):
            self.finding(C.INVALID_TRANSACTION_SET_CONTROL_NUMBER,
                         f"ST02 {st02!r} must be 4 to 9 letters or digits", seg=seg,
                         element=2, value=st02)
        elif st02 in self._set_cns:
            self.finding(C.DUPLICATE_TRANSACTION_CONTROL_NUMBER, f"ST02 {st02!r} is used by "
                         "an earlier transaction set of the same group", seg=seg, element=2,
                         value=st02)
        self._set_cns.add(st02)
        if self.observer is not None:
            self.observer.start_set(self.tset, len(self.group.transactions) - 1, self._tag_counts)

    def _se(self, seg: Segment) -> None:
        if self.tset is None:
            self._outside_set(seg)
            return
        seg.position = self.next_position("SE")
        if self.keep:
            self.tset.segments.append(seg)
        se01, se02 = seg.get(1), seg.get(2)
        if not (se01.isdigit() and int(se01) == seg.position):
            self.finding(C.SEGMENT_COUNT_MISMATCH, f"SE01 says {se01 or 'nothing'!s} segments "
                         f"but set {self.tset.control_number} has {seg.position} (ST to SE "
                         "inclusive)", seg=seg, element=1, value=se01)
        if se02 != self.tset.control_number:
            self.finding(C.SET_CONTROL_NUMBER_MISMATCH, f"SE02 {se02!r} does not match ST02 "
                         f"{self.tset.control_number!r}", seg=seg, element=2, value=se02)
        if self.observer is not None:
            self.observer.end_set(seg)
        self.tset = None
        self._outside = False

    def _gs(self, seg: Segment) -> None:
        if self.group is not None:
            self._close_group_missing(seg.offset)
        self._outside = False
        gs = FunctionalGroup(*(seg.get(n) for n in range(1, 9)))
        self.ic.groups.append(gs)
        self.group, self._set_cns = gs, set()
        if not re.fullmatch(r"[A-Z0-9]{2}", gs.functional_id):
            self.finding(C.FUNCTIONAL_GROUP_NOT_SUPPORTED, f"GS01 {gs.functional_id!r} is not a "
                         "functional identifier code", seg=seg, element=1, value=gs.functional_id)
        if not gs.version.strip():
            self.finding(C.FUNCTIONAL_GROUP_VERSION_NOT_SUPPORTED, "GS08 (version) is empty",
                         seg=seg, element=8)
        if not re.fullmatch(r"\d{1,9}", gs.control_number):
            self.finding(C.INVALID_GROUP_CONTROL_NUMBER, f"GS06 {gs.control_number!r} must be "
                         "1 to 9 digits", seg=seg, element=6, value=gs.control_number)
        elif gs.control_number in self._group_cns:
            self.finding(C.DUPLICATE_GROUP_CONTROL_NUMBER, f"GS06 {gs.control_number!r} is "
                         "used by an earlier group of this interchange", seg=seg, element=6,
                         value=gs.control_number)
        self._group_cns.add(gs.control_number)
        if self.observer is not None:
            self.observer.start_group(gs, len(self.ic.groups) - 1)

    def _ge(self, seg: Segment) -> None:
        if self.group is None:
            self._outside_set(seg)
            return
        if self.tset is not None:
            self._close_set_missing(seg.offset)
        ge01, ge02, gs = seg.get(1), seg.get(2), self.group
        if not ge01.isdigit() or int(ge01) != len(gs.transactions):
            self.finding(C.TRANSACTION_SET_COUNT_MISMATCH, f"GE01 says {ge01 or 'nothing'} "
                         f"transaction sets but group {gs.control_number} has "
                         f"{len(gs.transactions)}", seg=seg, element=1, value=ge01)
        if ge02 != gs.control_number:
            self.finding(C.GROUP_CONTROL_NUMBER_MISMATCH, f"GE02 {ge02!r} does not match GS06 "
                         f"{gs.control_number!r}", seg=seg, element=2, value=ge02)
        self.group = None
        self._outside = False

    def _iea(self, seg: Segment) -> None:
        if self.group is not None:
            self._close_group_missing(seg.offset)
        iea01, iea02, n = seg.get(1), seg.get(2), len(self.ic.groups)
        counted = iea01.isdigit() and int(iea01) == n
        if not counted and n == 0 and self.ta1 and iea01.isdigit() and int(iea01) == len(self.ta1):
            # Some senders count the TA1s of an acknowledgment-only interchange.
            self.finding(C.INVALID_GROUP_COUNT, f"IEA01 {iea01!r} counts TA1 segments; an "
                         "interchange without groups should say 0", seg=seg,
                         severity=Severity.WARNING)
        elif not counted:
            self.finding(C.INVALID_GROUP_COUNT, f"IEA01 says {iea01 or 'nothing'} functional "
                         f"groups but the interchange has {n}", seg=seg, value=iea01)
        if iea02 != self.ic.control_number:
            self.finding(C.INTERCHANGE_CONTROL_NUMBER_MISMATCH, f"IEA02 {iea02!r} does not match "
                         f"ISA13 {self.ic.control_number!r}", seg=seg, value=iea02)
        self.closed = True

    # -- trailers that never came --
    def _close_set_missing(self, offset: int) -> None:
        s = self.tset
        self.finding(C.SET_TRAILER_MISSING, f"transaction set {s.set_id} {s.control_number} has "
                     "no SE trailer", offset=offset)
        if self.observer is not None:
            self.observer.end_set(None)
        self.tset = None

    def _close_group_missing(self, offset: int) -> None:
        if self.tset is not None:
            self._close_set_missing(offset)
        self.finding(C.GROUP_TRAILER_MISSING, f"functional group {self.group.control_number} has "
                     "no GE trailer", offset=offset)
        self.group = None

    def end_of_data(self, offset: int, why: str) -> None:
        """The interchange stopped without IEA (end of file, or another ISA began)."""
        if self.group is not None:
            self._close_group_missing(offset)
        self.finding(C.INTERCHANGE_TRAILER_MISSING, f"interchange {self.ic.control_number} has "
                     f"no IEA trailer: {why}", offset=offset)
        self.closed = True


_HANDLERS = {"ST": InterchangeBuilder._st, "SE": InterchangeBuilder._se,
             "GS": InterchangeBuilder._gs, "GE": InterchangeBuilder._ge,
             "IEA": InterchangeBuilder._iea}
