"""X12 paths over the loop tree: qualifiers, pairs, loops, HL nesting by ids."""

from __future__ import annotations

import pytest

from gateway.mapping.paths import PathSyntaxError, Scope, parse_path, select_nodes, values
from gateway.mapping.tree import LoopDef, build_tree
from gateway.x12.model import Segment


def _segs(text: str) -> list[Segment]:
    out = []
    for i, raw in enumerate(filter(None, text.split("~")), start=1):
        tag, *els = raw.strip().split("*")
        out.append(Segment(tag, els, i))
    return out


LOOPS = LoopDef("", None, children={
    "N1": LoopDef("N1", frozenset({"N3", "N4"})),
    "PO1": LoopDef("PO1", frozenset({"PID", "DTM"}), children={"N1": LoopDef("N1", frozenset({"N3"}))}),
})
DOC = _segs(
    "ST*850*1~BEG*00*SA*PO1~DTM*002*20261201~N1*BY*BUYER~N1*ST*PLANT*92*P1~N3*1 MAIN~N4*TOWN*IL~"
    "PO1*1*5*EA*2.5**BP*B1*VP*V1~PID*F****ONE~DTM*002*20261205~N1*ST*DOCK~N3*DOCK ST~"
    "PO1*2*7*EA*3**VP*V2~CTT*2~SE*16*1~"
)


def _scope():
    root = build_tree(DOC, LOOPS)
    return root, Scope(root, root, 0, ">")


def _v(text: str, scope: Scope) -> list[str]:
    return values(parse_path(text), scope)


def test_header_paths_do_not_see_line_segments():
    _, scope = _scope()
    assert _v("BEG03", scope) == ["PO1"]
    assert _v("DTM[01=002]02", scope) == ["20261201"]  # not the line's DTM
    assert _v("N1[01=ST]/N301", scope) == ["1 MAIN"]
    assert _v("N1[01=ST|BY]02", scope) == ["BUYER", "PLANT"]
    assert _v("N1[01!=ST]02", scope) == ["BUYER"]
    assert _v("CTT01", scope) == ["2"]


def test_line_loops_pairs_and_absolute_paths():
    root, scope = _scope()
    lines = select_nodes(parse_path("PO1"), scope)
    assert len(lines) == 2
    first = Scope(lines[0], root, 1, ">")
    assert _v("PO1{06:BP}", first) == ["B1"] and _v("PO1{06:VP|VN}", first) == ["V1"]
    assert _v("PO1{06:BP}", Scope(lines[1], root, 2, ">")) == []
    assert _v("DTM[01=002]02", first) == ["20261205"]
    assert _v("/DTM[01=002]02", first) == ["20261201"]
    assert _v("N1[01=ST]/N301", first) == ["DOCK ST"]
    assert _v("#", first) == ["1"]
    assert _v("//N1[01=ST]02", scope) == ["PLANT", "DOCK"]


def test_components():
    seg = Segment("MEA", ["PD", "G", "3100", "LB>KG"], 1)
    scope = Scope(build_tree([seg], LoopDef("", None)), None, 0, ">")
    scope.root = scope.node
    assert _v("MEA04-2", scope) == ["KG"]


def test_hl_levels_nest_by_their_ids_not_their_order():
    hl = LoopDef("", None, children={"HL": LoopDef("HL", None, frozenset({"CTT"}), hierarchical=True)})
    segs = _segs("HL*1**S~TD1*CTN*2~HL*2*1*O~PRF*PO9~HL*3*2*P~HL*4*3*I~SN1**5*EA~HL*5*2*I~SN1**6*EA~"
                 "HL*6*9*I~HL*7*8*I~HL*8*7*I~CTT*8~")
    root = build_tree(segs, hl)
    scope = Scope(root, root, 0, ">")
    # the orphan (6) stays at the top; of the 7<->8 cycle, one level does, the other hangs under it
    assert [n.start.get(1) for n in root.children] == ["1", "6", "8"]
    [order] = select_nodes(parse_path("//HL[03=O]"), scope)
    items = select_nodes(parse_path(".//HL[03=I]"), Scope(order, root, 1, ">"))
    assert [n.start.get(1) for n in items] == ["4", "5"]
    assert _v("CTT01", scope) == ["8"]


@pytest.mark.parametrize("bad", ["", "bak03", "REF[1=IA]02", "REF[01=IA]", "N1[01=ST]02/N301", "PO1{6:BP}", "REF02x"])
def test_syntax_errors(bad):
    if bad == "REF[01=IA]":  # a loop or segment selector without element is valid for ``each``
        assert parse_path(bad).element is None
        return
    with pytest.raises(PathSyntaxError):
        parse_path(bad)
