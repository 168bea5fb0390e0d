"""Group a transaction set's flat segments into the loops a map declares.

A loop starts at its start segment and holds the following segments its
definition accepts; a segment it doesn't accept closes it and is offered to the
enclosing loop, up to the root, which takes anything. ``hierarchical`` loops
(the 856 HL) are then re-parented by HL01/HL02, because an HL's place in the
hierarchy is stated by its ids, not by segment order. Some senders leave HL02
empty: such an HL hangs under the nearest preceding HL of a higher level code
(HL03, :data:`LEVEL_ORDER`), which is what their segment order means. A stated
HL02 always wins.

Sans-IO: segments in, a tree of :class:`Node` out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.x12.model import Segment

ROOT_ONLY = frozenset({"ST", "SE"})
# HL03 hierarchical level codes from the top down: shipment, order, tare, pack, item.
LEVEL_ORDER = ("S", "O", "T", "P", "I")
_RANK = {code: rank for rank, code in enumerate(LEVEL_ORDER)}


@dataclass(frozen=True)
class LoopDef:
    """How one loop is recognised. ``members=None`` accepts any tag not in ``excluded``."""

    tag: str
    members: frozenset[str] | None = frozenset()
    excluded: frozenset[str] = frozenset()
    children: dict[str, LoopDef] = field(default_factory=dict)
    hierarchical: bool = False

    def accepts(self, tag: str) -> bool:
        if tag in ROOT_ONLY or tag in self.excluded:
            return False
        return self.members is None or tag in self.members


@dataclass(eq=False)
class Node:
    """One loop instance (or the root, tag ``""``): its own segments and its child loops."""

    tag: str
    segments: list[Segment]
    children: list[Node] = field(default_factory=list)
    parent: Node | None = None

    @property
    def start(self) -> Segment | None:
        return self.segments[0] if self.segments else None

    def descendants(self):
        """Every loop below this one, depth first, in document order."""
        for child in self.children:
            yield child
            yield from child.descendants()

    def position(self) -> int:
        """The segment position (ST = 1) where this loop starts, for error messages."""
        return self.start.position if self.start else 0


def build_tree(segments: list[Segment], root: LoopDef, header: list[Segment] = ()) -> Node:
    """Return the root node; ``header`` (virtual ISA/GS segments) goes first in the root."""
    top = Node("", list(header))
    stack: list[tuple[Node, LoopDef]] = [(top, root)]
    for seg in segments:
        while True:
            node, spec = stack[-1]
            child = spec.children.get(seg.tag)
            if child is not None and seg.tag not in ROOT_ONLY:
                opened = Node(seg.tag, [seg], parent=node)
                node.children.append(opened)
                stack.append((opened, child))
                break
            if len(stack) == 1:
                node.segments.append(seg)
                break
            if seg.tag != spec.tag and spec.accepts(seg.tag):
                node.segments.append(seg)
                break
            stack.pop()  # closes the loop; the enclosing one gets the segment
    _nest_hierarchies(top, root)
    return top


def _nest_hierarchies(node: Node, spec: LoopDef) -> None:
    for tag, child_spec in spec.children.items():
        if child_spec.hierarchical:
            _nest_by_ids(node, tag)
    for child in node.children:
        child_spec = spec.children.get(child.tag)
        if child_spec is not None:
            _nest_hierarchies(child, child_spec)


def _nest_by_ids(node: Node, tag: str) -> None:
    """Move each ``tag`` loop under the loop whose HL01 equals its HL02.

    Without an HL02 the parent is the nearest preceding loop whose HL03 ranks
    higher in :data:`LEVEL_ORDER`; a top level (S) or an unknown code stays put.
    """
    by_id = {c.start.get(1): c for c in node.children if c.tag == tag}
    latest: dict[int, tuple[int, Node]] = {}  # rank -> (order, the last loop seen at that rank)
    kept: list[Node] = []
    for order, child in enumerate(node.children):
        parent = None
        if child.tag == tag:
            stated = child.start.get(2)
            rank = _RANK.get(child.start.get(3).strip())
            if stated.strip():
                parent = by_id.get(stated)
            elif rank is not None:
                parent = _nearest_higher(latest, rank)
            if rank is not None:
                latest[rank] = (order, child)
        if parent is not None and parent is not child and not _is_below(parent, child):
            child.parent = parent
            parent.children.append(child)
        else:
            kept.append(child)
    node.children = kept


def _nearest_higher(latest: dict[int, tuple[int, Node]], rank: int) -> Node | None:
    """The most recent loop seen at a level above ``rank``, if any."""
    above = [seen for r, seen in latest.items() if r < rank]
    return max(above, key=lambda seen: seen[0])[1] if above else None


def _is_below(candidate: Node, ancestor: Node) -> bool:
    """True when ``candidate`` already hangs under ``ancestor`` (guards against HL cycles)."""
    while candidate is not None:
        if candidate is ancestor:
            return True
        candidate = candidate.parent
    return False
