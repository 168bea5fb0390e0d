"""Path expressions that address X12 data by loop, segment, qualifier and element.

Grammar (XPath-like, over the loop tree of :mod:`gateway.mapping.tree`)::

    BAK03                  element 03 of the BAK in the current loop
    REF[01=IA]02           REF whose REF01 is IA
    DTM[01=002|010]02      ... whose DTM01 is 002 or 010; ``!=`` negates
    N1[01=ST]/N301         in the child N1 loop whose N101 is ST, N301
    /DTM[01=002]02         absolute: from the transaction set's root
    //HL[03=I]             every HL loop anywhere (descendants of the root)
    .//MAN[01=CP]02        every matching MAN below the current loop
    PO1{06:BP|IN}          the id that follows qualifier BP or IN in the pairs from PO106
    MEA04-2                component 2 of MEA04
    #                      the 1-based position of the current list item
    .                      the current loop itself (``each: "."``)

A path is parsed once when its map is loaded (syntax errors fail the map) and
evaluated many times; evaluation never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.mapping.tree import Node
from gateway.x12.model import Segment

_STEP = re.compile(
    r"^(?P<tag>[A-Z][A-Z0-9]{1,2}?)"
    r"(?:\[(?P<quals>[^\]]*)\])?"
    r"(?:(?P<elem>\d{2})(?:-(?P<comp>\d{1,2}))?|\{(?P<pstart>\d{2}):(?P<pquals>[^}]+)\})?$"
)
_QUAL = re.compile(r"^(?P<idx>\d{2})(?P<op>!?=)(?P<vals>.*)$")


class PathSyntaxError(ValueError):
    """The text is not a valid path; the message says what is wrong."""


@dataclass(frozen=True)
class Qualifier:
    index: int
    values: frozenset[str]
    negate: bool = False

    def matches(self, seg: Segment) -> bool:
        return (seg.get(self.index) in self.values) != self.negate


@dataclass(frozen=True)
class Step:
    tag: str
    qualifiers: tuple[Qualifier, ...] = ()
    descendant: bool = False

    def matches(self, seg: Segment | None) -> bool:
        return seg is not None and seg.tag == self.tag and all(q.matches(seg) for q in self.qualifiers)


@dataclass(frozen=True)
class Element:
    index: int
    component: int | None = None
    pair_start: int | None = None  # ``{06:BP}``: the id after the qualifier in pairs from 06
    pair_qualifiers: frozenset[str] = frozenset()

    def read(self, seg: Segment, component_separator: str) -> str:
        if self.pair_start is not None:
            els = seg.elements
            for i in range(self.pair_start - 1, len(els) - 1, 2):
                if els[i] in self.pair_qualifiers and els[i + 1]:
                    return els[i + 1]
            return ""
        if self.component is not None:
            return seg.component(self.index, self.component, component_separator)
        return seg.get(self.index)


@dataclass(frozen=True)
class Path:
    text: str
    steps: tuple[Step, ...]
    element: Element | None
    absolute: bool = False
    ordinal: bool = False  # the ``#`` path
    itself: bool = False  # the ``.`` path


def parse_path(text: str) -> Path:
    """Parse ``text``; raise :class:`PathSyntaxError` naming the faulty part."""
    if not isinstance(text, str) or not text.strip():
        raise PathSyntaxError("a path must be a non-empty string")
    text = text.strip()
    if text == "#":
        return Path(text, (), None, ordinal=True)
    if text == ".":
        return Path(text, (), None, itself=True)
    rest, absolute, descendant = text, False, False
    if rest.startswith(".//"):
        rest, descendant = rest[3:], True
    elif rest.startswith("//"):
        rest, absolute, descendant = rest[2:], True, True
    elif rest.startswith("/"):
        rest, absolute = rest[1:], True
    steps: list[Step] = []
    element: Element | None = None
    parts = re.split(r"(//|/)", rest)
    for i in range(0, len(parts), 2):
        raw = parts[i]
        if i > 0:
            descendant = parts[i - 1] == "//"
        m = _STEP.match(raw)
        if not m:
            raise PathSyntaxError(f"{text!r}: cannot read {raw!r} (expected e.g. REF[01=IA]02)")
        last = i == len(parts) - 1
        if not last and (m["elem"] or m["pstart"]):
            raise PathSyntaxError(f"{text!r}: only the last step may name an element ({raw!r})")
        steps.append(Step(m["tag"], _qualifiers(text, m["quals"]), descendant))
        if m["elem"]:
            comp = int(m["comp"]) if m["comp"] else None
            element = Element(int(m["elem"]), comp)
        elif m["pstart"]:
            quals = frozenset(v.strip() for v in m["pquals"].split("|") if v.strip())
            element = Element(0, pair_start=int(m["pstart"]), pair_qualifiers=quals)
    return Path(text, tuple(steps), element, absolute)


def _qualifiers(text: str, raw: str | None) -> tuple[Qualifier, ...]:
    if raw is None:
        return ()
    out = []
    for part in raw.split(","):
        m = _QUAL.match(part.strip())
        if not m:
            raise PathSyntaxError(f"{text!r}: bad qualifier {part!r} (expected e.g. 01=ST or 03=O|P)")
        values = frozenset(v.strip() for v in m["vals"].split("|"))
        out.append(Qualifier(int(m["idx"]), values, m["op"] == "!="))
    return tuple(out)


@dataclass
class Scope:
    """Where a path is evaluated: a loop node, the root, and the list position."""

    node: Node
    root: Node
    ordinal: int = 0
    component_separator: str = ">"


def select_nodes(path: Path, scope: Scope) -> list[Node]:
    """The loops (or, for a segment tag, one-segment pseudo-loops) the path's steps select."""
    current = [scope.root if path.absolute else scope.node]
    if path.itself:
        return current
    for step in path.steps:
        found: list[Node] = []
        for node in current:
            pool = node.descendants() if step.descendant else node.children
            loops = [n for n in pool if n.tag == step.tag and step.matches(n.start)]
            if loops:
                found.extend(loops)
                continue
            for seg in _segments(node, step.descendant):
                if step.matches(seg):
                    found.append(Node(seg.tag, [seg], parent=node))
        current = found
    return current


def values(path: Path, scope: Scope) -> list[str]:
    """Every non-empty value the path addresses, in document order."""
    if path.ordinal:
        return [str(scope.ordinal)] if scope.ordinal else []
    if path.element is None:
        return []
    out = []
    for node in select_nodes(path, scope):
        value = path.element.read(node.start, scope.component_separator)
        if value.strip():
            out.append(value.strip())
    return out


def _segments(node: Node, descendant: bool):
    yield from node.segments
    if descendant:
        for child in node.descendants():
            yield from child.segments


class X12Dialect:
    """The X12 path language, as the evaluator sees any path language."""

    name = "x12"
    parse = staticmethod(parse_path)
    values = staticmethod(values)
    select = staticmethod(select_nodes)

    @staticmethod
    def where(node: Node) -> str:
        seg = node.start
        return f"in the {seg.tag} loop at segment {seg.position}" if seg is not None and node.tag else ""


X12 = X12Dialect()
