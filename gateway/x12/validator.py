"""Our X12 validation engine: each transaction set checked against its compiled table
as the reader streams its segments. Sans-IO; never raises for any input.

Contract
--------
An :class:`InterchangeValidator` is attached to the reader's envelope builder
(``read_x12(..., observer=...)``) and told, in order: ``start_group``, ``start_set``,
``segment`` (every segment inside ST..SE), ``end_set``. It keeps, per set, only the
loop stack of where it is in the table, the counts of that stack and the HL ids seen:
never the segments. Its :class:`~gateway.x12.findings.Finding` s are in ``findings``.

Checks: the group's release (``releases.resolve``: the nearest release we hold, with a
note) and GS01 against ST01; each segment's place in the table (unknown, not in this
set, out of sequence, over its maximum use, a loop over its repeat, a mandatory
segment missing); each element (mandatory, type, length of the release, code list,
composite parts, too many elements) and the syntax notes (P/R/E/C/L, naming the rule);
the HL hierarchy. Every finding names its segment, position and element, the rule and
the data element number.

Linear in errors: at most MAX_PER_SET findings are kept per set and MAX_TOTAL per
interchange; the rest of a set's errors are counted and summarised in one finding.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.x12 import releases, syntax
from gateway.x12.dictionary import tables
from gateway.x12.envelope import TAG
from gateway.x12.findings import Finding, Severity
from gateway.x12.findings import FindingCode as C
from gateway.x12.hierarchy import Hierarchy
from gateway.x12.model import FunctionalGroup, Interchange, Segment, TransactionSet
from gateway.x12.schema import ElementRule, SegmentRule, SetSchema, check_value, compiled

MAX_PER_SET = 100
MAX_TOTAL = 5000
#: What another release's tables may allow (a segment our table lacks, other lengths,
#: codes, requirements, order). Under a substituted release these are warnings, so a
#: sound document is not refused for lack of its table; data that no release accepts
#: (a letter in a number, 20261341 as a date) stays an error.
TABLE_DEPENDENT = frozenset((
    C.UNRECOGNIZED_SEGMENT_ID, C.UNEXPECTED_SEGMENT, C.MANDATORY_SEGMENT_MISSING,
    C.LOOP_OCCURS_OVER_MAXIMUM, C.SEGMENT_EXCEEDS_MAXIMUM_USE, C.SEGMENT_NOT_IN_DEFINED_SET,
    C.SEGMENT_NOT_IN_PROPER_SEQUENCE, C.MANDATORY_ELEMENT_MISSING, C.CONDITIONAL_ELEMENT_MISSING,
    C.TOO_MANY_ELEMENTS, C.ELEMENT_TOO_SHORT, C.ELEMENT_TOO_LONG, C.INVALID_CODE_VALUE,
    C.EXCLUSION_CONDITION_VIOLATED, C.TOO_MANY_COMPONENTS, C.INVALID_CHARACTER,
))


@dataclass(frozen=True)
class Options:
    """``strict_releases``: a release we do not hold is an error, not a note (partner setting)."""

    strict_releases: bool = False


class InterchangeValidator:
    """Validates the sets of one interchange as their segments arrive (see module doc)."""

    def __init__(self, index: int, ic: Interchange, options: Options | None = None):
        self.index, self.ic, self.options = index, ic, options or Options()
        self.component = ic.delimiters.component
        self.findings: list[Finding] = []
        self.group: FunctionalGroup | None = None
        self.group_index = -1
        self.resolution: releases.Resolution | None = None
        self.allowed: frozenset[str] = frozenset()
        self.schema: SetSchema | None = None
        self.tset: TransactionSet | None = None
        self.set_index = -1
        self.tag_counts: dict[str, int] = {}
        self.stack: list[list] = []
        self.hierarchy: Hierarchy | None = None
        self.lenient = False  # the group's release is substituted: see TABLE_DEPENDENT
        self.listed = 0  # findings kept for the open set
        self.unlisted = 0  # errors beyond the caps: counted, summarised at SE
        self.unlisted_warnings = 0

    # ------------------------------------------------------------------ findings
    def _add(self, code: C, message: str, *, tag: str | None = None, position: int | None = None,
             element: int | None = None, component: int | None = None, value: str | None = None,
             rule: str | None = None, de: str | None = None, in_set: bool = True,
             severity: Severity | None = None, summary: bool = False) -> None:
        if in_set and self.tset is not None and not summary:
            if self.lenient and code in TABLE_DEPENDENT:
                severity = Severity.WARNING
                message += f" (judged by the {self.resolution.release} tables; release " \
                           f"{self.group.version} may allow it)"
            if self.listed >= MAX_PER_SET or len(self.findings) >= MAX_TOTAL:
                if severity is Severity.WARNING:
                    self.unlisted_warnings += 1
                else:
                    self.unlisted += 1
                return
            self.listed += 1
        g, s = self.group, self.tset if in_set else None
        self.findings.append(Finding(
            code, message, interchange_index=self.index,
            group_control_number=g.control_number if g else None,
            transaction_control_number=s.control_number if s else None,
            segment_id=tag, segment_position=position, element_position=element,
            component_position=component, value=value, severity=severity,
            group_index=self.group_index if g else None,
            set_index=self.set_index if s else None, rule=rule, element_reference=de))

    def _where(self, tag: str, position: int) -> str:
        return f"{tag} #{self.tag_counts.get(tag, 1)} (segment {position})"

    # ------------------------------------------------------------------ groups and sets
    def start_group(self, group: FunctionalGroup, group_index: int) -> None:
        self.group, self.group_index, self.tset = group, group_index, None
        held = tables().releases
        r = self.resolution = releases.resolve(group.version, group.functional_id, held)
        self.lenient = r.release is not None and not r.exact and not self.options.strict_releases
        self.allowed = releases.set_ids_for(group.functional_id, group.version)
        if group.functional_id == "FA":
            return  # acknowledgments: checked by the reader's envelope pass only
        if r.release is None:
            if group.version.strip():  # an empty GS08 is the reader's finding already
                self._add(C.FUNCTIONAL_GROUP_VERSION_NOT_SUPPORTED, r.note, tag="GS", element=8,
                          value=group.version, rule="GS08 release", in_set=False)
        elif r.note:
            strict = self.options.strict_releases and not r.exact
            self._add(C.FUNCTIONAL_GROUP_VERSION_NOT_SUPPORTED if strict else C.RELEASE_SUBSTITUTED,
                      f"GS08 {group.version}: {r.note}" + (" (the partner asks for exact releases)"
                                                          if strict else ""),
                      tag="GS", element=8, value=group.version, rule="GS08 release", in_set=False,
                      severity=None if strict else Severity.INFO)
        if not self.allowed and TAG.fullmatch(group.functional_id or "-"):
            self._add(C.FUNCTIONAL_GROUP_NOT_SUPPORTED, f"GS01 {group.functional_id!r} is not a "
                      "functional group we accept (PO, PR, SH, IN)", tag="GS", element=1,
                      value=group.functional_id, rule="GS01 functional identifier", in_set=False)

    def start_set(self, tset: TransactionSet, set_index: int, tag_counts: dict[str, int]) -> None:
        self.tset, self.set_index, self.tag_counts = tset, set_index, tag_counts
        self.listed = self.unlisted = self.unlisted_warnings = 0
        self.schema, self.stack, self.hierarchy = None, [], None
        g, r = self.group, self.resolution
        if g is None or r is None or r.release is None or g.functional_id == "FA":
            return
        set_id = tset.set_id
        if self.allowed and set_id not in self.allowed:
            self._add(C.TRANSACTION_SET_NOT_SUPPORTED, f"transaction set {set_id} does not belong in "
                      f"a GS01 {g.functional_id} group (it carries {', '.join(sorted(self.allowed))})",
                      tag="ST", position=1, element=1, value=set_id, rule="GS01 / ST01")
        self.schema = compiled(r.release, set_id)
        if self.schema is None:
            self._add(C.TRANSACTION_SET_NOT_SUPPORTED, f"transaction set {set_id} is not one we "
                      f"accept (we hold tables for 850, 855, 856 and 810)", tag="ST", position=1,
                      element=1, value=set_id, rule="ST01")
            return
        root = self.schema.root
        self.stack = [[root, -1, [0] * len(root.tags)]]
        self.hierarchy = Hierarchy() if self.schema.has_hl else None

    def end_set(self, se: Segment | None) -> None:
        if self.schema is not None and se is not None:
            position = se.position
            while self.stack:
                frame = self.stack.pop()
                self._missing(frame, frame[1] + 1, len(frame[0].tags), position)
        if self.unlisted or self.unlisted_warnings:
            n, w = self.unlisted, self.unlisted_warnings
            self._add(C.ERRORS_NOT_LISTED, f"{n + w} more findings ({n} errors) in transaction set "
                      f"{self.tset.set_id} {self.tset.control_number} are not listed "
                      f"(the first {MAX_PER_SET} are)", value=str(n + w),
                      severity=None if n else Severity.WARNING, summary=True)
        self.schema, self.stack, self.tset = None, [], None

    # ------------------------------------------------------------------ segments
    def segment(self, seg: Segment) -> None:
        schema = self.schema
        if schema is None:
            return
        tag = seg.tag
        if not self._walk(tag, seg.position) and not self._place(tag, seg.position):
            if TAG.fullmatch(tag):  # a malformed tag is the reader's finding
                self._unplaced(schema, tag, seg.position)
            return
        rule = schema.segments.get(tag)
        if rule is not None and not rule.fast(seg.elements, self.component):
            self._elements(seg, rule)
        if tag == "HL" and self.hierarchy is not None:
            for code, pos, value, message, why in self.hierarchy.check(seg.elements):
                self._add(code, f"{self._where(tag, seg.position)}, element HL{pos:02d}: {message}",
                          tag=tag, position=seg.position, element=pos, value=value, rule=why,
                          de=rule.elements[pos - 1].num if rule and pos <= len(rule.elements) else None)

    def _walk(self, tag: str, position: int) -> bool:
        """The common case, with table lookups only: the first place ahead for ``tag`` in
        the current loop or a loop around it, within its maximum. False: not found
        here (``_place`` then looks at every candidate)."""
        stack = self.stack
        depth = len(stack) - 1
        while depth >= 0:
            frame = stack[depth]
            loop, cur = frame[0], frame[1]
            idx = loop.ahead[cur + 1].get(tag)
            if idx is None:
                depth -= 1
                continue
            counts = frame[2]
            if idx == cur and counts[idx] >= loop.limit[idx]:
                return False
            while len(stack) - 1 > depth:
                done = stack.pop()
                if done[0].next_required[done[1] + 1] < len(done[2]):
                    self._missing(done, done[1] + 1, len(done[2]), position)
            if loop.next_required[cur + 1] < idx:
                self._missing(frame, cur + 1, idx, position)
            frame[1] = idx
            counts[idx] += 1
            sub = loop.subs[idx]
            if sub is not None:
                counts = [0] * len(sub.tags)
                counts[0] = 1
                stack.append([sub, 0, counts])
            return True
        return False

    def _place(self, tag: str, position: int) -> bool:
        """Find the table place of ``tag`` from where we are: forward in the current loop,
        then in the loops around it. False (and nothing moved) when there is none."""
        stack = self.stack
        depth = len(stack) - 1
        while depth >= 0:
            frame = stack[depth]
            loop = frame[0]
            found = loop.index.get(tag)
            if found is not None:
                cur, counts, limit = frame[1], frame[2], loop.limit
                over = -1
                for idx in found:
                    if idx < cur or (idx == 0 and depth):
                        continue  # behind us; or a loop's first segment: a new iteration above
                    if idx == cur and counts[idx] >= limit[idx]:
                        over = idx
                        continue
                    self._move(depth, idx, position, False)
                    return True
                if over >= 0:
                    self._move(depth, over, position, True)
                    return True
            depth -= 1
        return False

    def _move(self, depth: int, idx: int, position: int, over: bool) -> None:
        stack = self.stack
        while len(stack) - 1 > depth:
            frame = stack.pop()
            self._missing(frame, frame[1] + 1, len(frame[0].tags), position)
        frame = stack[depth]
        loop = frame[0]
        if idx > frame[1] + 1:
            self._missing(frame, frame[1] + 1, idx, position)
        frame[1] = idx
        frame[2][idx] += 1
        sub = loop.subs[idx]
        tag = loop.tags[idx]
        if over:
            limit = loop.limit[idx]
            if sub is not None:
                self._add(C.LOOP_OCCURS_OVER_MAXIMUM, f"{self._where(tag, position)} starts loop "
                          f"{sub.id} more than the {limit} times the standard allows", tag=tag,
                          position=position, rule=f"{sub.id} loop repeat {limit}")
            else:
                self._add(C.SEGMENT_EXCEEDS_MAXIMUM_USE, f"{self._where(tag, position)} repeats "
                          f"more than the {limit} times the standard allows here", tag=tag,
                          position=position, rule=f"{tag} max use {limit}")
        if sub is not None:
            counts = [0] * len(sub.tags)
            counts[0] = 1
            stack.append([sub, 0, counts])

    def _missing(self, frame: list, start: int, stop: int, position: int) -> None:
        loop, counts = frame[0], frame[2]
        if loop.next_required[start] >= stop:
            return
        for j in loop.required:
            if start <= j < stop and not counts[j]:
                tag = loop.tags[j]
                what = f"loop {loop.subs[j].id} (its first segment {tag})" if loop.subs[j] else tag
                self._add(C.MANDATORY_SEGMENT_MISSING, f"mandatory {what} is missing before "
                          f"segment {position}", tag=tag, position=position,
                          rule=f"{tag} mandatory in {loop.id}")

    def _unplaced(self, schema: SetSchema, tag: str, position: int) -> None:
        where = self._where(tag, position)
        if tag in schema.segments:
            self._add(C.SEGMENT_NOT_IN_PROPER_SEQUENCE, f"{where} is not in the standard's order "
                      f"(or repeats a place already passed)", tag=tag, position=position,
                      rule=f"{schema.set_id} table order")
        elif tag in schema.known_tags:
            self._add(C.SEGMENT_NOT_IN_DEFINED_SET, f"{where} is not part of the "
                      f"{schema.set_id} transaction set", tag=tag, position=position,
                      rule=f"{schema.set_id} table")
        else:
            self._add(C.UNRECOGNIZED_SEGMENT_ID, f"{where} is not a segment we know in release "
                      f"{schema.release}", tag=tag, position=position, rule="segment dictionary")

    # ------------------------------------------------------------------ elements
    def _element_error(self, seg: Segment, r: ElementRule, code: C, problem: str, value: str | None,
                       rule: str, component: int | None = None, position: int | None = None) -> None:
        if not self.lenient and (self.listed >= MAX_PER_SET or len(self.findings) >= MAX_TOTAL):
            self.unlisted += 1  # beyond the cap: counted without building the message
            return
        shown = f"{value!r} " if value else ""
        self._add(code, f"{self._where(seg.tag, seg.position)}, element {r.ref}: {shown}{problem}", tag=seg.tag, position=seg.position,
                  element=position or r.position, component=component, value=value, rule=rule,
                  de=r.num if not r.num.startswith("C") else None)

    def _elements(self, seg: Segment, rule: SegmentRule) -> None:
        values = seg.elements
        rules = rule.elements
        n, defined = len(values), len(rules)
        comp = self.component
        if not rule.last_mandatory and not any(values):  # else "mandatory missing" says it
            self._add(C.SEGMENT_HAS_ELEMENT_ERRORS, f"{self._where(seg.tag, seg.position)} carries no "
                      "data: a segment needs at least one element", tag=seg.tag,
                      position=seg.position, rule="X12.6 segment with data")
        for i in range(n if n < defined else defined):
            v = values[i]
            r = rules[i]
            if not v:
                if r.mandatory:
                    self._element_error(seg, r, C.MANDATORY_ELEMENT_MISSING, "is required but missing",
                                        None, f"{r.ref} mandatory")
                continue
            if r.kind == "C":
                self._composite(seg, r, v)
            elif comp in v:
                self._element_error(seg, r, C.INVALID_CHARACTER, "holds the component separator "
                                    f"{comp!r} but is not a composite", v, f"{r.ref} simple element")
            else:
                bad = check_value(r, v)
                if bad is not None:
                    self._element_error(seg, r, bad[0], bad[1], v, _value_rule(r))
        if n > defined and any(values[defined:]):
            extra = next(i for i in range(defined, n) if values[i])
            self._add(C.TOO_MANY_ELEMENTS, f"{self._where(seg.tag, seg.position)} has {n} elements; "
                      f"{seg.tag} has {defined}", tag=seg.tag, position=seg.position,
                      element=extra + 1, value=values[extra], rule=f"{seg.tag} has {defined} elements")
        if n < rule.last_mandatory:
            for r in rules[n:]:
                if r.mandatory:
                    self._element_error(seg, r, C.MANDATORY_ELEMENT_MISSING, "is required but missing",
                                        None, f"{r.ref} mandatory")
        broken = [note for first, note in rule.optional_notes
                  if first <= n and not syntax.holds(note, values)]
        broken += [note for note in rule.required_notes if not syntax.holds(note, values)]
        if broken:
            self._notes(seg, broken, values, lambda p: f"{seg.tag}{p:02d}", rules)

    def _notes(self, seg: Segment, notes, values: list[str], ref, rules, parent: ElementRule | None = None) -> None:
        n = len(values)

        def present(p: int) -> bool:
            return p <= n and values[p - 1] != ""

        for note in notes:
            for pos, exclusion, message in syntax.violations(note, present, ref):
                r = rules[pos - 1] if pos <= len(rules) else None
                code = C.EXCLUSION_CONDITION_VIOLATED if exclusion else C.CONDITIONAL_ELEMENT_MISSING
                value = values[pos - 1] if exclusion and pos <= n else None
                de = r.num if r is not None and not r.num.startswith("C") else None
                self._add(code, f"{self._where(seg.tag, seg.position)}: {message}", tag=seg.tag,
                          position=seg.position, element=parent.position if parent else pos,
                          component=pos if parent else None, value=value, rule=note.text, de=de)

    def _composite(self, seg: Segment, r: ElementRule, v: str) -> None:
        parts = v.split(self.component)
        defined = len(r.parts)
        if len(parts) > defined and any(parts[defined:]):
            self._element_error(seg, r, C.TOO_MANY_COMPONENTS, f"has {len(parts)} components; "
                                f"{r.num} has {defined}", v, f"{r.num} components")
        for i in range(min(len(parts), defined)):
            p, pr = parts[i], r.parts[i]
            if not p:
                if pr.mandatory:
                    self._element_error(seg, pr, C.MANDATORY_ELEMENT_MISSING, "is required but missing",
                                        None, f"{pr.ref} mandatory", component=i + 1, position=r.position)
                continue
            bad = check_value(pr, p)
            if bad is not None:
                self._element_error(seg, pr, bad[0], bad[1], p, _value_rule(pr), component=i + 1,
                                    position=r.position)
        for i in range(len(parts), defined):
            if r.parts[i].mandatory:
                pr = r.parts[i]
                self._element_error(seg, pr, C.MANDATORY_ELEMENT_MISSING, "is required but missing",
                                    None, f"{pr.ref} mandatory", component=i + 1, position=r.position)
        broken = [note for note in r.notes if not syntax.holds(note, parts)]
        if broken:
            self._notes(seg, broken, parts, lambda p: f"{r.ref}-{p:02d}", r.parts, parent=r)


def _value_rule(r: ElementRule) -> str:
    if r.codes is not None:
        return f"{r.ref} code list {r.codeset}"
    return f"{r.ref} DE {r.num} {r.kind} {r.lo}/{r.hi}"
