"""The findings enum renders only to codes the X12 code lists (as in pyx12's maps) allow."""

import re
from pathlib import Path

import pytest
import pyx12

from gateway.x12.findings import Finding, Level, Severity
from gateway.x12.findings import FindingCode as C

MAPS = Path(pyx12.__file__).parent / "map"
ELEMENT_OF = {("997", Level.GROUP): "AK905", ("997", Level.SET): "AK502",
              ("997", Level.SEGMENT): "AK304", ("997", Level.ELEMENT): "AK403",
              ("999", Level.GROUP): "AK905", ("999", Level.SET): "IK502",
              ("999", Level.SEGMENT): "IK304", ("999", Level.ELEMENT): "IK403"}
MAP_FILE = {"997": "997.4010.xml", "999": "999.5010X231.A1.xml"}


def code_list(kind: str, xid: str) -> set[str]:
    text = (MAPS / MAP_FILE[kind]).read_text(encoding="utf-8")
    block = re.search(rf'<element xid="{xid}">.*?</valid_codes>', text, re.S).group(0)
    return set(re.findall(r"<code>([^<]+)</code>", block))


@pytest.mark.parametrize("kind", ["997", "999"])
def test_every_functional_code_is_in_the_ack_code_lists(kind):
    for member in C:
        if member.level in (Level.GROUP, Level.SET, Level.SEGMENT, Level.ELEMENT):
            allowed = code_list(kind, ELEMENT_OF[kind, member.level])
            assert member.x12_code(kind) in allowed, (kind, member.name)


def test_every_interchange_code_is_a_ta105_code():
    allowed = code_list("997", "TA105")  # the 997 map carries the envelope's TA1
    for member in C:
        if member.level is Level.INTERCHANGE or (member.level is Level.FILE and member.code):
            assert member.code in allowed, member.name


def test_finding_helpers():
    f = Finding(C.INVALID_NUMERIC_VALUE, "PO1 #3 (segment 8), element PO102: 'ten' is not a "
                "number", interchange_index=0, segment_id="PO1", segment_position=8,
                element_position=2, value="ten")
    assert f.is_error and f.level is Level.ELEMENT and f.element_ref == "PO102"
    assert f.to_dict() == {"code": "INVALID_NUMERIC_VALUE", "message": f.message,
                           "segment_id": "PO1", "segment_index": 8, "element": "PO102"}
    composite = Finding(C.INVALID_CODE_VALUE, "m", segment_id="PO1", element_position=6,
                        component_position=2)
    assert composite.element_ref == "PO106-02"
    assert not Finding(C.BYTE_ORDER_MARK, "m").is_error
    assert not Finding(C.SEGMENT_COUNT_MISMATCH, "m", severity=Severity.WARNING).is_error
