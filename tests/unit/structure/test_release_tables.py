"""The pyx12 reference maps follow each release's table: a 005010 purchase order carries its
notes in MTX (which replaced MSG), a 004010 one in MSG (issue #9)."""

from __future__ import annotations

import pytest

from gateway.x12.structure import validate_structure

ISA = {
    "004010": "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *250101*1200*U*00401*000000001*0*T*>~",
    "005010": "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *250101*1200*^*00501*000000001*0*T*>~",
}


def purchase_order(version: str, note: str) -> bytes:
    body = [
        "ST*850*0001",
        "BEG*00*SA*PO-1**20250101",
        "N9*L1*NOTES",
        note,
        "PO1*1*2*EA*9.5**VP*WIDGET",
        "CTT*1",
    ]
    body.append(f"SE*{len(body) + 1}*0001")
    return (
        ISA[version]
        + f"GS*PO*SENDER*RECEIVER*20250101*1200*1*X*{version}~"
        + "~".join(body)
        + "~GE*1*1~IEA*1*000000001~"
    ).encode()


@pytest.mark.parametrize(
    ("version", "note", "valid"),
    [
        ("005010", "MTX**PLEASE DELIVER TO DOCK 4", True),
        ("005010", "MSG*PLEASE DELIVER TO DOCK 4", False),
        ("004010", "MSG*PLEASE DELIVER TO DOCK 4", True),
        ("004010", "MTX**PLEASE DELIVER TO DOCK 4", False),
    ],
)
def test_n9_note_segment_follows_the_release(version, note, valid, map_dirs):
    report = validate_structure(purchase_order(version, note))
    assert report.valid is valid, report.errors
    if not valid:
        assert any(e.get("segment_id") == note[:3] for e in report.errors), report.errors


def test_a_long_004010_identification_code_is_accepted(map_dirs):
    """Element 67 is AN 2/80 in 004010 (our table said 2/20): a 40-character N104 is valid."""
    doc = (
        purchase_order("004010", "MSG*X")
        .replace(b"N9*L1*NOTES~", b"N9*L1*NOTES~MSG*X~N1*ST*DOCK*92*" + b"9" * 40 + b"~", 1)
        .replace(b"MSG*X~PO1", b"PO1", 1)
        .replace(b"SE*7*", b"SE*8*", 1)
    )
    report = validate_structure(doc)
    assert report.valid, report.errors
