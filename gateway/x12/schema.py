"""One (release, transaction set) compiled from the tables into flat, fast checks.

Contract
--------
``compiled(release, set_id) -> SetSchema | None`` (cached per process): None when we
hold no table for ``set_id``. A :class:`SetSchema` holds

* ``root``: the set's table as nested :class:`LoopTable`s (the HEADER/DETAIL/SUMMARY
  areas flattened into one sequence; each loop a tuple of children with their tag,
  requirement and maximum use, plus ``index``: tag -> child positions, so finding the
  next place for a segment is a dict lookup and a short scan);
* ``segments``: tag -> :class:`SegmentRule`, each element precompiled (requirement,
  type, min/max length of this release, code list as a frozenset, composite parts) and
  the syntax notes parsed.

``check_value(rule, value)`` is the per-element check: None, or (finding code, problem
in words). It never raises; the caller formats the finding.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from gateway.x12 import syntax
from gateway.x12.dictionary import Tables, tables
from gateway.x12.findings import FindingCode as C

UNBOUNDED = 1 << 40  # ">1": no limit
ROOT = "ST"  # the set itself: the outermost loop
_INT = re.compile(r"-?[0-9]+\Z").match
_DEC = re.compile(r"-?[0-9]*(?:\.[0-9]+)?\Z").match  # X12 R: sign, digits, decimal point
_lock = threading.Lock()
_cache: dict[tuple[str, str], SetSchema | None] = {}


@dataclass(eq=False)
class ElementRule:
    position: int
    ref: str  # "PO102", "REF04-01"
    num: str  # data element number (AK402), or Cnnn
    name: str
    mandatory: bool
    kind: str  # AN ID N R DT TM B, or "C" for a composite
    lo: int = 0
    hi: int = 0
    codes: frozenset[str] | None = None
    codeset: str = ""
    parts: tuple[ElementRule, ...] = ()  # composite components
    notes: tuple[syntax.Note, ...] = ()  # composite syntax notes


@dataclass(eq=False)
class SegmentRule:
    tag: str
    name: str
    elements: tuple[ElementRule, ...]
    notes: tuple[syntax.Note, ...]
    last_mandatory: int  # highest position of a mandatory element (0: none)
    # (first position, note) for notes that can fail only when an element is present;
    # R notes (at least one required) are checked always
    optional_notes: tuple[tuple[int, syntax.Note], ...] = ()
    required_notes: tuple[syntax.Note, ...] = ()
    # fast(values, component separator) -> True when the segment is certainly sound;
    # False means "look closer" (the detailed checks then find what is wrong, if anything)
    fast: Callable[[list[str], str], bool] = lambda values, comp: False


@dataclass(eq=False)
class LoopTable:
    id: str
    tags: tuple[str, ...]  # per child: the segment's tag, or the loop's first tag
    subs: tuple[LoopTable | None, ...]  # per child: the loop, or None for a segment
    mandatory: tuple[bool, ...]
    limit: tuple[int, ...]  # max use (segment) or repeat (loop)
    index: dict[str, tuple[int, ...]] = field(default_factory=dict)
    required: tuple[int, ...] = ()  # positions of the mandatory children
    # ahead[cur + 1][tag]: the first child at or after ``cur`` that ``tag`` can be (a loop
    # frame's own first segment excluded: it starts a new iteration one level up)
    ahead: tuple[dict[str, int], ...] = ()
    # next_required[k]: the first mandatory child at or after k (len(tags) when none)
    next_required: tuple[int, ...] = ()


@dataclass(eq=False)
class SetSchema:
    release: str
    set_id: str
    root: LoopTable
    segments: dict[str, SegmentRule]
    known_tags: frozenset[str]  # every segment of the release's dictionary
    has_hl: bool


# --------------------------------------------------------------------------- values


def _valid_date(v: str) -> bool:
    if len(v) == 6:
        v = ("20" if int(v[:2]) < 50 else "19") + v
    elif len(v) != 8:
        return False
    year, month, day = int(v[:4]), int(v[4:6]), int(v[6:8])
    if year < 1800 or not 1 <= month <= 12 or day < 1:
        return False
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return day <= (29 if leap else 28)
    return day <= (30 if month in (4, 6, 9, 11) else 31)


def _valid_time(v: str) -> bool:
    if len(v) not in (4, 6, 7, 8):
        return False
    if not (int(v[:2]) < 24 and int(v[2:4]) < 60):
        return False
    return len(v) == 4 or int(v[4:6]) < 60


_dates: dict[str, bool] = {}


def check_value(rule: ElementRule, v: str) -> tuple[C, str] | None:
    """Check one non-empty simple value against ``rule`` (type, length, code list)."""
    kind = rule.kind
    if kind == "N" or kind == "R":
        if not (v.isascii() and (_INT(v) if kind == "N" else _DEC(v))):
            return C.INVALID_NUMERIC_VALUE, ("is not a whole number" if kind == "N" else "is not a number")
        size = len(v) - v.count("-") - v.count(".")  # sign and decimal point do not count
    elif kind == "DT":
        ok = _dates.get(v)
        if ok is None:
            ok = v.isascii() and v.isdigit() and _valid_date(v)
            if len(_dates) < 4096:  # real files repeat a handful of dates
                _dates[v] = ok
        if not ok:
            return C.INVALID_DATE, "is not a valid date (CCYYMMDD)" if rule.hi >= 8 else "is not a valid date (YYMMDD)"
        size = len(v)
    elif kind == "TM":
        if not (v.isascii() and v.isdigit() and _valid_time(v)):
            return C.INVALID_TIME, "is not a valid time (HHMM[SS[d..]])"
        size = len(v)
    else:
        size = len(v)
        codes = rule.codes
        if codes is not None and v not in codes:
            return C.INVALID_CODE_VALUE, f"is not a valid code here (list {rule.codeset})"
    if size < rule.lo:
        return C.ELEMENT_TOO_SHORT, f"is too short (at least {rule.lo} characters)"
    if size > rule.hi:
        return C.ELEMENT_TOO_LONG, f"is too long (at most {rule.hi} characters)"
    return None


# --------------------------------------------------------------------------- compiling


def _kind(typ: str) -> str:
    return "N" if typ.startswith("N") else typ if typ in ("R", "DT", "TM", "ID", "B") else "AN"


def _element(t: Tables, release: str, ref, position: int, refname: str) -> ElementRule:
    mandatory = ref.req == "M"
    if ref.num.startswith("C") and ref.num in t.composites:
        comp = t.composites[ref.num]
        parts = tuple(_element(t, release, sub, i, f"{refname}-{i:02d}")
                      for i, sub in enumerate(comp.elements, 1))
        notes = tuple(n for n in map(syntax.parse, comp.syntax) if n)
        return ElementRule(position, refname, ref.num, comp.name, mandatory, "C", parts=parts, notes=notes)
    de = t.elements.get(ref.num)
    if de is None:  # a table gap: accept any value rather than refuse sound data
        return ElementRule(position, refname, ref.num, ref.num, mandatory, "B", 0, 1 << 20)
    lo, hi = t.lengths(ref.num, release)
    codes = t.codes.get(ref.codeset) if ref.codeset else None
    return ElementRule(position, refname, ref.num, de.name, mandatory, _kind(de.type), lo, hi,
                       codes, ref.codeset or "")


def _segment_rule(t: Tables, release: str, seg) -> SegmentRule:
    elements = tuple(_element(t, release, ref, i, f"{seg.tag}{i:02d}")
                     for i, ref in enumerate(seg.elements, 1))
    notes = tuple(n for n in map(syntax.parse, seg.syntax) if n)
    last = max((e.position for e in elements if e.mandatory), default=0)
    return SegmentRule(seg.tag, seg.name, elements, notes, last,
                       tuple((n.first, n) for n in notes if n.kind != "R"),
                       tuple(n for n in notes if n.kind == "R"), _fast_check(seg.tag, elements, notes))


# --------------------------------------------------------------------------- fast path


def _value_test(r: ElementRule, x: str, env: dict) -> str:
    """A Python expression that is True only if value ``x`` certainly passes ``r``."""
    i = r.position
    if r.kind == "C":
        return "False"  # composites are rare: the detailed check handles them
    if r.kind == "ID" and r.codes is not None:
        env[f"codes{i}"] = r.codes
        test = f"{x} in codes{i}"
    elif r.kind == "N":
        test = f"{x}.isdigit() and {r.lo} <= len({x}) <= {r.hi}"
    elif r.kind == "R":
        test = f"{r.lo} <= len({x}) <= {r.hi} and dec({x}) is not None"
    elif r.kind == "DT":
        test = f"dates.get({x}) is True and {r.lo} <= len({x}) <= {r.hi}"
    elif r.kind == "TM":
        test = f"{x}.isdigit() and {r.lo} <= len({x}) <= {r.hi} and valid_time({x})"
    else:
        test = f"{r.lo} <= len({x}) <= {r.hi}"
    if r.kind in ("AN", "ID", "B"):
        test += f" and comp not in {x}"
    return test


def _note_test(note: syntax.Note) -> str:
    """An expression that is True when ``note`` is violated (``v`` padded: no length checks)."""
    have = [f"v[{p - 1}]" for p in note.positions]
    if note.kind == "P":
        return f"(({' or '.join(have)}) and not ({' and '.join(have)}))"
    if note.kind == "R":
        return f"not ({' or '.join(have)})"
    if note.kind == "E":
        return f"(({' + '.join(f'(not not {h})' for h in have)}) > 1)"
    rest = have[1:]
    need = f"({' and '.join(rest)})" if note.kind == "C" else f"({' or '.join(rest)})"
    return f"({have[0]} and not {need})"


def _fast_check(tag: str, elements: tuple[ElementRule, ...], notes: tuple[syntax.Note, ...]):
    """Generate one straight-line function per segment: no loop over rules, no
    attribute lookups, one comparison per element in the common case. The values are
    padded to the defined count first, so no check needs the length."""
    defined = len(elements)
    env: dict = {"dec": _DEC, "dates": _dates, "valid_time": _valid_time,
                 "pad": [[""] * (defined - n) for n in range(defined + 1)]}
    lines = ["def fast(v, comp):", "    n = len(v)", f"    if n > {defined}:",
             f"        if any(v[{defined}:]): return False",
             f"    elif n < {defined}:", "        v = v + pad[n]"]
    if not any(r.mandatory for r in elements):
        lines.append("    if not any(v): return False")  # a segment must carry some data
    for r in elements:
        i = r.position - 1
        x = f"x{i}"
        lines.append(f"    {x} = v[{i}]")
        lines.append(f"    if {x}:")
        lines.append(f"        if not ({_value_test(r, x, env)}): return False")
        if r.mandatory:
            lines.append("    else: return False")
    for note in notes:
        lines.append(f"    if {_note_test(note)}: return False")
    lines.append("    return True")
    code = "\n".join(lines)
    exec(compile(code, f"<x12 segment {tag}>", "exec"), env)  # generated from our own tables
    return env["fast"]


def _limit(text: str) -> int:
    return int(text) if text.isdigit() else UNBOUNDED


def _loop(node_id: str, children: list) -> LoopTable:
    tags, subs, mandatory, limit = [], [], [], []
    for child in children:
        if child.kind == "loop":
            sub = _loop(child.id, child.children)
            if sub.subs[0] is not None:
                raise ValueError(f"loop {child.id} must start with a segment")
            tags.append(sub.tags[0])
            subs.append(sub)
        else:
            tags.append(child.id)
            subs.append(None)
        mandatory.append(child.req == "M")
        limit.append(_limit(child.repeat))
    index: dict[str, list[int]] = {}
    for i, tag in enumerate(tags):
        index.setdefault(tag, []).append(i)
    table = LoopTable(node_id, tuple(tags), tuple(subs), tuple(mandatory), tuple(limit),
                      {k: tuple(v) for k, v in index.items()},
                      tuple(i for i, m in enumerate(mandatory) if m))
    ahead = []
    for cur in range(-1, len(tags)):
        first = {}
        for i in range(max(cur, 0 if node_id == ROOT else 1), len(tags)):
            first.setdefault(tags[i], i)
        ahead.append(first)
    table.ahead = tuple(ahead)
    table.next_required = tuple(next((j for j in table.required if j >= k), len(tags))
                                for k in range(len(tags) + 1))
    return table


def _tags(loop: LoopTable) -> set[str]:
    out = set(loop.tags)
    for sub in loop.subs:
        if sub is not None:
            out |= _tags(sub)
    return out


def compile_set(t: Tables, release: str, set_id: str) -> SetSchema | None:
    areas = t.set_table(set_id, release)
    if not areas or release not in t.segments:
        return None
    children = [c for area in areas for c in area.children]
    root = _loop(ROOT, children)
    dictionary = t.segments[release]
    used = _tags(root)
    rules = {tag: _segment_rule(t, release, dictionary[tag]) for tag in used if tag in dictionary}
    return SetSchema(release, set_id, root, rules, frozenset(dictionary), "HL" in used)


def compiled(release: str, set_id: str) -> SetSchema | None:
    """The compiled schema for (release, set), built once per process."""
    key = (release, set_id)
    schema = _cache.get(key)
    if schema is None and key not in _cache:
        with _lock:
            if key not in _cache:
                _cache[key] = compile_set(tables(), release, set_id)
            schema = _cache[key]
    return schema
