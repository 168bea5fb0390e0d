"""Sort findings into what a 997/999 says about each group, set, segment and element.

Pure bookkeeping shared by the 997 and 999 builders: findings are matched to the
group/set they point at (by ordinal when the reader set it, else by control number)
and grouped into AK3/AK4 (IK3/IK4) entries. Only error findings count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.x12.findings import Finding, Level
from gateway.x12.findings import FindingCode as C
from gateway.x12.model import FunctionalGroup, Interchange, TransactionSet


@dataclass
class SegmentReport:
    """One AK3/IK3: a segment, its own code (or 8 = element errors) and its AK4s."""

    segment_id: str
    position: int
    code: C | None = None
    elements: list[Finding] = field(default_factory=list)

    @property
    def segment_code(self) -> C:
        return self.code or C.SEGMENT_HAS_ELEMENT_ERRORS


@dataclass
class SetReport:
    tset: TransactionSet
    codes: list[C] = field(default_factory=list)  # AK502.. / IK502..
    segments: list[SegmentReport] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.codes and not self.segments


@dataclass
class GroupReport:
    group: FunctionalGroup
    sets: list[SetReport]
    codes: list[C] = field(default_factory=list)  # AK905..
    declared_sets: int | None = None  # GE01 when it was readable

    @property
    def received(self) -> int:
        return len(self.sets)

    @property
    def accepted(self) -> int:
        return sum(1 for s in self.sets if s.accepted)

    @property
    def status(self) -> str:
        """AK901: A all accepted, P some, R none or a group-level error."""
        if self.codes or (self.sets and self.accepted == 0):
            return "R"
        return "A" if self.accepted == self.received else "P"


def _add_unique(codes: list[C], code: C) -> None:
    if code not in codes:
        codes.append(code)


def _set_report(tset: TransactionSet, findings: list[Finding]) -> SetReport:
    report = SetReport(tset)
    by_segment: dict[tuple[int, str], SegmentReport] = {}
    for f in findings:
        if f.level is Level.SET:
            _add_unique(report.codes, f.code)
        elif f.level in (Level.SEGMENT, Level.ELEMENT) and f.segment_position:
            key = (f.segment_position, f.segment_id or "")
            seg = by_segment.setdefault(key, SegmentReport(f.segment_id or "", f.segment_position))
            if f.level is Level.SEGMENT:
                seg.code = seg.code or f.code
            elif f.element_position:
                seg.elements.append(f)
        elif f.level in (Level.SEGMENT, Level.ELEMENT):
            # No position to point an AK3 at: still never let the set pass as accepted.
            _add_unique(report.codes, C.SEGMENTS_IN_ERROR)
    report.segments = sorted(by_segment.values(), key=lambda s: s.position)
    if report.segments:
        _add_unique(report.codes, C.SEGMENTS_IN_ERROR)
    return report


def _bucket(findings: list[Finding], ordinal: str, cn: str) -> tuple[dict, dict]:
    """Findings by ordinal (``group_index`` / ``set_index``) when set, else by control number."""
    by_ordinal: dict[int, list[Finding]] = {}
    by_cn: dict[str, list[Finding]] = {}
    for f in findings:
        if getattr(f, ordinal) is not None:
            by_ordinal.setdefault(getattr(f, ordinal), []).append(f)
        elif getattr(f, cn) is not None:
            by_cn.setdefault(getattr(f, cn), []).append(f)
    return by_ordinal, by_cn


def group_reports(ic: Interchange, findings: list[Finding]) -> list[GroupReport]:
    """One report per group of ``ic`` from the error findings of that interchange.

    Findings are sorted into their group and set in one pass (by ordinal when set,
    else by control number), so the cost is linear in sets and in findings."""
    groups_by_index, groups_by_cn = _bucket([f for f in findings if f.is_error], "group_index",
                                            "group_control_number")
    reports = []
    for gi, group in enumerate(ic.groups):
        in_group = groups_by_index.get(gi, []) + groups_by_cn.get(group.control_number, [])
        sets_by_index, sets_by_cn = _bucket(in_group, "set_index", "transaction_control_number")
        sets = [_set_report(tset, sets_by_index.get(si, []) + sets_by_cn.get(tset.control_number, []))
                for si, tset in enumerate(group.transactions)]
        report = GroupReport(group, sets)
        for f in in_group:
            if f.level is Level.GROUP:
                _add_unique(report.codes, f.code)
                if f.code is C.TRANSACTION_SET_COUNT_MISMATCH and (f.value or "").isdigit():
                    report.declared_sets = int(f.value)
        reports.append(report)
    return reports
