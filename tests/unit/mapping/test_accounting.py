"""Issue #10 item 1: every line of the source reaches the event, or the translation is a
rejection with its reason. The 856 whose HLs leave HL02 empty is the case that was lost
silently (a ``shipment.noticed`` with 0 lines); the guard is general and map-driven."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.mapping import (
    MapFileError,
    SourceContext,
    TranslationIncomplete,
    load_map,
    translate_bytes,
    translate_x12,
)
from gateway.mapping.loader import BASE_MAPS_DIR
from gateway.mapping.tree import LoopDef, build_tree
from gateway.x12.model import Segment

REPO = Path(__file__).resolve().parents[3]
ASN = REPO / "sample_docs/856/856_004010_acme_asn_sh-77001.edi"
ASN_NO_HL02 = REPO / "sample_docs/856/856_004010_acme_asn_sh-77005_no-hl02.edi"
ACK_855 = REPO / "sample_docs/855/855_004010_acme_accepted_with_changes.edi"
UBL_INVOICE = REPO / "sample_docs/ubl/Invoice_acme_inv-88070.xml"
CTX = SourceContext("demo", "doc-856", datetime(2026, 12, 1, 14, 16, tzinfo=UTC), "corr-856")
HL = LoopDef("", None, children={"HL": LoopDef("HL", None, hierarchical=True)})


def _hl_tree(levels: str):
    """``"1::S 2::O 3:2:I"``: HL01:HL02:HL03 triples, each HL followed by one LIN."""
    segs = [Segment("ST", ["856", "1"], 1)]
    for triple in levels.split():
        hl01, hl02, hl03 = triple.split(":")
        segs += [Segment("HL", [hl01, hl02, hl03], len(segs) + 1), Segment("LIN", [hl01], len(segs) + 2)]
    return build_tree(segs, HL)


def _shape(node, depth: int = 0) -> list[str]:
    out = []
    for child in node.children:
        out.append("  " * depth + child.start.get(1) + child.start.get(3))
        out.extend(_shape(child, depth + 1))
    return out


def _lines(event: dict) -> list[tuple[str, str]]:
    return [(o["po_number"], line["line_number"]) for o in event["payload"]["orders"] for line in o["lines"]]


def test_without_hl02_the_level_codes_and_order_build_the_hierarchy():
    tree = _hl_tree("1::S 2::O 3::P 4::I 5::P 6::I 7::O 8::I")
    assert _shape(tree) == ["1S", "  2O", "    3P", "      4I", "    5P", "      6I", "  7O", "    8I"]
    # a level code outside S/O/T/P/I is left where it is and is no one's parent
    assert _shape(_hl_tree("1::S 2::O 3::X 4::I")) == ["1S", "  2O", "    4I", "3X"]


def test_a_stated_hl02_always_wins_over_the_level_order():
    # item 5 names the shipment although order 4 precedes it; item 6 has no HL02, so it
    # goes under the nearest preceding higher level, order 4 (item 5 is not higher)
    tree = _hl_tree("1::S 2:1:O 3::I 4:1:O 5:1:I 6::I")
    assert _shape(tree) == ["1S", "  2O", "    3I", "  4O", "    6I", "  5I"]


def test_an_856_without_hl02_delivers_every_item(x12_reader):
    [ic] = x12_reader(ASN_NO_HL02.read_bytes())
    [event] = translate_x12(ic, CTX)
    assert _lines(event) == [("4500012345", "1"), ("4500012345", "3")]
    # the same lines as the sender that states HL02
    [stated] = translate_x12(x12_reader(ASN.read_bytes())[0], CTX)
    assert event["payload"]["orders"] == stated["payload"]["orders"]


def test_an_item_under_no_order_is_a_rejection_that_says_which(x12_reader):
    # item HL 6 names the shipment as its parent: it is in no order, so no line would carry it
    text = ASN.read_text().replace("HL*6*5*I~", "HL*6*1*I~")
    [ic] = x12_reader(text.encode())
    with pytest.raises(TranslationIncomplete) as err:
        translate_x12(ic, CTX)
    message = str(err.value)
    assert "856 ST02=0001" in message and "has 2 line(s)" in message and "would carry 1" in message
    assert "LIN at segment 21; LIN at segment 27" in message


def test_an_855_line_with_several_acks_is_one_line(x12_reader):
    # line 1: 95 accepted, 5 backordered (two ACKs in one PO1 loop)
    text = ACK_855.read_text().replace("ACK*IA*100*EA*068*20261201~", "ACK*IA*95*EA*068*20261201~ACK*IB*5*EA~", 1)
    text = text.replace("SE*16*0001~", "SE*17*0001~")
    [ic] = x12_reader(text.encode())
    [event] = translate_x12(ic, CTX)
    assert [line["line_number"] for line in event["payload"]["lines"]] == ["1", "2", "3"]


def test_a_partner_map_that_misses_lines_cannot_deliver_them(tmp_path):
    """The guard is the map's declaration, not a per-set rule: an XML map whose ``each``
    reaches only the first line is refused too."""
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "ubl-Invoice.yaml").write_text(
        "inherits: ubl-Invoice\npayload:\n  lines:\n    each: cac:InvoiceLine[1]\n")
    data = UBL_INVOICE.read_bytes()
    assert len(translate_bytes(data, CTX)[0]["payload"]["lines"]) == 2
    with pytest.raises(TranslationIncomplete) as err:
        translate_bytes(data, CTX, partner_maps_dir=maps)
    assert "/Invoice/cac:InvoiceLine[2] (line " in str(err.value) and "would carry 1" in str(err.value)


def test_a_map_for_an_event_with_lines_must_name_its_source_lines(tmp_path):
    text = (BASE_MAPS_DIR / "x12-850-004010.yaml").read_text()
    (tmp_path / "x12-850-004010.yaml").write_text(text.replace("source_lines: [PO1]", "# (none)"))
    with pytest.raises(MapFileError) as err:
        load_map(tmp_path / "x12-850-004010.yaml", tmp_path)
    assert "source_lines: required" in str(err.value)
    (tmp_path / "x12-850-004010.yaml").write_text(text.replace("source_lines: [PO1]", "source_lines: [po1]"))
    with pytest.raises(MapFileError, match="X12 segment tags expected"):
        load_map(tmp_path / "x12-850-004010.yaml", tmp_path)
