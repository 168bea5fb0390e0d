"""Specific defects give the X12 codes pyx12 reports (AK3 segment / AK4 element codes)."""

from __future__ import annotations

import pytest

from gateway.x12.structure import validate_structure

GOOD_850 = """ISA*00*          *00*          *ZZ*SENDER         *12*RECEIVER       *240101*1200*U*00401*000000001*0*T*>~
GS*PO*SENDER*RECEIVER*20240101*1200*1*X*004010~
ST*850*0001~
BEG*00*SA*PO123**20240101~
REF*DP*038~
DTM*002*20240115~
N1*ST*SHIP TO*92*001~
N3*1 MAIN ST~
N4*CITY*NY*10001*US~
PO1*1*10*EA*9.99**UP*012345678905*VN*ABC~
PID*F****WIDGET~
CTT*1*10~
SE*11*0001~
GE*1*1~
IEA*1*000000001~
"""

KEYS = {
    "level",
    "group_control_number",
    "transaction_control_number",
    "segment_id",
    "segment_position",
    "loop_id",
    "element_position",
    "component_position",
    "code",
    "message",
    "value",
}


def _mutate(old: str, new: str, doc: str = GOOD_850) -> str:
    assert old in doc
    return doc.replace(old, new, 1)


def _summary(report):
    return {
        (e["level"], e["segment_id"], e["segment_position"], e["element_position"], e["code"])
        for e in report.errors
    }


def test_good_document_is_valid():
    report = validate_structure(GOOD_850.encode())
    assert report.valid and report.errors == []
    assert report.map_version == "004010"


CASES = [
    ("unknown segment", "N3*1 MAIN ST~", "ZZZ*1~\nN3*1 MAIN ST~", ("segment", "ZZZ", 6, None, "1")),
    (
        "mandatory segment missing",
        "BEG*00*SA*PO123**20240101~\n",
        "",
        ("segment", "BEG", 7, None, "3"),
    ),
    (
        "out of order",
        "REF*DP*038~\nDTM*002*20240115~",
        "DTM*002*20240115~\nREF*DP*038~",
        ("segment", "REF", 4, None, "1"),
    ),
    (
        "too many repeats",
        "REF*DP*038~",
        "REF*DP*038~\n" + "PER*BD*A~\n" * 4,
        ("segment", "PER", 7, None, "5"),
    ),
    ("element too long", "REF*DP*038", "REF*DP*" + "X" * 31, ("element", "REF", 3, 2, "5")),
    ("element too short", "*EA*9.99", "*E*9.99", ("element", "PO1", 8, 3, "4")),
    ("bad number", "PO1*1*10", "PO1*1*ten", ("element", "PO1", 8, 2, "6")),
    ("bad date", "DTM*002*20240115", "DTM*002*20241315", ("element", "DTM", 4, 2, "8")),
    ("bad time", "DTM*002*20240115", "DTM*002*20240115*2561", ("element", "DTM", 4, 3, "9")),
    ("bad code", "PID*F", "PID*Q", ("element", "PID", 9, 1, "7")),
    (
        "paired elements (syntax P0304)",
        "N1*ST*SHIP TO*92*001",
        "N1*ST*SHIP TO*92",
        ("segment", "N1", 5, None, "8"),
    ),
]


@pytest.mark.parametrize(("label", "old", "new", "expected"), CASES, ids=[c[0] for c in CASES])
def test_defect_gives_expected_code(label, old, new, expected):
    report = validate_structure(_mutate(old, new).encode())
    assert not report.valid
    assert expected in _summary(report)
    for err in report.errors:
        assert set(err) == KEYS
        assert err["group_control_number"] == "1"
        assert err["transaction_control_number"] == "0001"


def test_element_error_carries_value_and_loop():
    report = validate_structure(_mutate("PID*F", "PID*Q").encode())
    (err,) = [e for e in report.errors if e["level"] == "element"]
    assert err["value"] == "Q"
    assert err["loop_id"] == "PID_LOOP"
    assert "Item Description Type" in err["message"]


def test_length_limits_follow_the_version():
    long_ref = "REF*DP*" + "X" * 40  # 1/30 in 004010, 1/50 in 005010
    doc_4010 = _mutate("REF*DP*038", long_ref)
    assert ("element", "REF", 3, 2, "5") in _summary(validate_structure(doc_4010.encode()))
    doc_5010 = doc_4010.replace("*00401*", "*00501*").replace("*X*004010~", "*X*005010~")
    report = validate_structure(doc_5010.encode())
    assert report.map_version == "005010"
    assert report.valid, report.errors


def test_group_without_a_map_is_an_engine_error_not_an_exception():
    report = validate_structure(_mutate("*X*004010~", "*X*004020~").encode())
    assert not report.valid
    (err,) = report.errors
    assert err["level"] == "interchange" and err["code"] == "engine"
    assert "Map not found" in err["message"]


def test_non_ascii_is_reported_not_raised():
    report = validate_structure(_mutate("SHIP TO", "SHÏP TO").encode("utf-8"))
    assert not report.valid and report.errors[0]["code"] == "engine"


def test_not_x12_is_reported():
    report = validate_structure(b"hello world")
    assert not report.valid and report.errors


def test_se_count_is_a_transaction_error():
    report = validate_structure(_mutate("SE*11*0001", "SE*12*0001").encode())
    assert ("transaction", None, None, None, "4") in _summary(report)


def test_pyx12_logging_is_quiet(capfd):
    validate_structure(_mutate("PID*F", "PID*Q").encode())
    out, err = capfd.readouterr()
    assert out == "" and err == ""


ASN = """ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*U*00401*000000002*0*T*>~
GS*SH*SENDER*RECEIVER*20240101*1200*2*X*004010~
ST*856*0001~
BSN*00*ASN1*20240101*1200~
HL*1**S~
TD5*B*2*UPSN~
HL*2*1*O~
PRF*PO123~
HL*3*2*P~
MAN*GM*00012345678901234567~
HL*4*3*I~
LIN**UP*012345678905~
SN1**10*EA~
HL*5*2*I~
LIN**UP*012345678912~
SN1**20*EA~
CTT*5~
SE*16*0001~
GE*1*2~
IEA*1*000000002~
"""


def test_856_hierarchy_validates_and_names_the_level():
    assert validate_structure(ASN.encode()).valid
    report = validate_structure(ASN.replace("SN1**20*EA", "SN1**X1*EA").encode())
    (err,) = report.errors
    assert (err["segment_id"], err["segment_position"], err["element_position"]) == ("SN1", 14, 2)
    assert err["loop_id"] == "HL_ITEM"


ACK_855 = """ISA*00*          *00*          *ZZ*SUPPLIER       *ZZ*BUYER          *240102*0900*U*00401*000000003*0*T*>~
GS*PR*SUPPLIER*BUYER*20240102*0900*3*X*004010~
ST*855*0001~
BAK*00*AC*PO123*20240102~
DTM*002*20240115~
N1*ST*SHIP TO*92*001~
PO1*1*10*EA*9.99**UP*012345678905~
PID*F****WIDGET~
REF*VN*SO-1~
ACK*IA*10*EA*068*20240110~
DTM*067*20240112~
PO1*2*5*EA*1.50**UP*012345678912~
ACK*IB*5*EA~
CTT*2~
SE*13*0001~
GE*1*3~
IEA*1*000000003~
"""


def test_typical_855_with_line_acks_validates():
    report = validate_structure(ACK_855.encode())
    assert report.valid, report.errors
    bad = validate_structure(ACK_855.replace("ACK*IA*10*EA", "ACK*XX*10*EA").encode())
    assert ("element", "ACK", 8, 1, "7") in _summary(bad)
