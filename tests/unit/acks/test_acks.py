"""997 / 999 / TA1 content for good and bad input; every 997/999 validated by pyx12."""

import sys
from datetime import datetime
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "x12")]

from pyx12_check import pyx12_errors, relaxed_map_dir  # noqa: E402
from x12_samples import CORPUS, render, replace, sample_bytes, segments  # noqa: E402

from gateway.acks import build_acknowledgments  # noqa: E402
from gateway.x12.findings import Finding  # noqa: E402
from gateway.x12.findings import FindingCode as C  # noqa: E402
from gateway.x12.reader import read_x12  # noqa: E402

NOW = datetime(2026, 11, 21, 8, 5)


class Counter:
    def __init__(self):
        self.values: dict[str, int] = {}

    def next(self, name: str) -> int:
        self.values[name] = self.values.get(name, 0) + 1
        return self.values[name] + {"interchange": 500, "group": 70, "transaction": 0}[name]


@pytest.fixture(scope="module")
def map_dir(tmp_path_factory):
    return relaxed_map_dir(str(tmp_path_factory.mktemp("pyx12")))


def acks_for(data: bytes | list[str], index: int = 0, **kw):
    result = read_x12(data if isinstance(data, bytes) else render(data))
    return build_acknowledgments(result, index, our_qualifier="ZZ", our_id="BUYERCO",
                                 control_numbers=kw.pop("control_numbers", Counter()), now=NOW,
                                 **kw)


def body(ack) -> list[str]:
    """The segments between GS and GE."""
    segs = ack.text.split(ack.text[105])[:-1]
    return segs[2:-2]


def assert_pyx12_valid(ack, map_dir):
    ok, tree = pyx12_errors(ack.text, map_dir)
    assert ok, (ack.text, tree)


def in_set(code: C, segment_id: str, position: int, element: int | None = None,
           value: str | None = None, component: int | None = None) -> Finding:
    """A finding as the structural (pyx12 map) validation would hand it in."""
    return Finding(code, "from the map", interchange_index=0, group_control_number="101",
                   transaction_control_number="0001", segment_id=segment_id,
                   segment_position=position, element_position=element,
                   component_position=component, value=value)


STRUCTURAL = [
    in_set(C.SEGMENT_NOT_IN_DEFINED_SET, "ZZZ", 5),
    in_set(C.MANDATORY_SEGMENT_MISSING, "CTT", 15),
    in_set(C.SEGMENT_NOT_IN_PROPER_SEQUENCE, "CUR", 3),
    in_set(C.LOOP_OCCURS_OVER_MAXIMUM, "PO1", 12),
    in_set(C.SEGMENT_EXCEEDS_MAXIMUM_USE, "N1", 5),
    in_set(C.ELEMENT_TOO_LONG, "BAK", 2, 3, "4500012345-THIS-IS-FAR-TOO-LONG"),
    in_set(C.ELEMENT_TOO_SHORT, "BAK", 2, 4, "2026"),
    in_set(C.INVALID_NUMERIC_VALUE, "PO1", 6, 2, "ten"),
    in_set(C.INVALID_DATE, "ACK", 8, 5, "20261341"),
    in_set(C.INVALID_TIME, "DTM", 9, 3, "2561"),
    in_set(C.INVALID_CODE_VALUE, "ACK", 8, 1, "QQ"),
    in_set(C.MANDATORY_ELEMENT_MISSING, "PID", 7, 1),
    in_set(C.INVALID_CHARACTER, "PID", 7, 5, "A*B~C", component=2),
]


def test_997_structural_errors_render_with_exact_codes(map_dir):
    (ack,) = acks_for(sample_bytes(), extra_findings=STRUCTURAL)
    assert ack.kind == "997"
    assert body(ack) == [
        "ST*997*0001", "AK1*PR*101", "AK2*855*0001",
        "AK3*BAK*2**8", "AK4*3**5*4500012345-THIS-IS-FAR-TOO-LONG", "AK4*4**4*2026",
        "AK3*CUR*3**7",
        "AK3*ZZZ*5**6",  # same position as N1 below: a different segment
        "AK3*N1*5**5",
        "AK3*PO1*6**8", "AK4*2**6*ten",
        "AK3*PID*7**8", "AK4*1**1", "AK4*5>2**6*A?B?C",
        "AK3*ACK*8**8", "AK4*5**8*20261341", "AK4*1**7*QQ",
        "AK3*DTM*9**8", "AK4*3**9*2561",
        "AK3*PO1*12**4",
        "AK3*CTT*15**3",
        "AK5*R*5", "AK9*R*1*1*0", "SE*24*0001"]
    assert_pyx12_valid(ack, map_dir)


def test_999_structural_errors(map_dir):
    (ack,) = acks_for(sample_bytes(), extra_findings=STRUCTURAL, prefer="999")
    lines = body(ack)
    assert lines[:4] == ["ST*999*0001*005010X231A1", "AK1*PR*101*004010", "AK2*855*0001",
                         "IK3*BAK*2**8"]
    assert "IK4*5>2**6*A?B?C" in lines and lines[-3:-1] == ["IK5*R*5", "AK9*R*1*1*0"]
    assert_pyx12_valid(ack, map_dir)


def two_sets(second_se: str = "SE*16*0002") -> list[str]:
    segs = segments()
    st_se = segs[2:18]
    second = [s.replace("0001", "0002") for s in st_se][:-1] + [second_se]
    return [segs[0], segs[1], *st_se, *second, "GE*2*101", "IEA*1*000000101"]


def test_structural_error_without_position_still_rejects_the_set(map_dir):
    vague = Finding(C.MANDATORY_SEGMENT_MISSING, "BAK is missing", interchange_index=0,
                    group_control_number="101", transaction_control_number="0001")
    (ack,) = acks_for(sample_bytes(), extra_findings=[vague])
    assert body(ack)[3:5] == ["AK5*R*5", "AK9*R*1*1*0"]
    assert_pyx12_valid(ack, map_dir)


def test_partially_accepted_group(map_dir):
    (ack,) = acks_for(two_sets("SE*3*0002"))
    assert body(ack)[2:] == ["AK2*855*0001", "AK5*A", "AK2*855*0002", "AK5*R*4",
                             "AK9*P*2*2*1", "SE*8*0001"]
    assert_pyx12_valid(ack, map_dir)


@pytest.mark.parametrize("segs, tail", [
    (replace(segments(), "GE", "GE*3*101"), ["AK5*A", "AK9*R*3*1*1*5"]),
    (replace(segments(), "GE", "GE*1*999"), ["AK5*A", "AK9*R*1*1*1*4"]),
    (replace(segments(), "GE", None), ["AK5*A", "AK9*R*1*1*1*3"]),
    (replace(segments(), "SE", None), ["AK5*R*2", "AK9*R*1*1*0"]),
    (replace(segments(), "SE", "SE*16*0002"), ["AK5*R*3", "AK9*R*1*1*0"]),
    (replace(segments(), "SE", "SE*15*0001"), ["AK5*R*4", "AK9*R*1*1*0"]),
])
def test_envelope_errors_in_997(segs, tail, map_dir):
    (ack,) = acks_for(segs)
    assert body(ack)[-3:-1] == tail
    assert_pyx12_valid(ack, map_dir)


def test_element_error_found_by_the_reader(map_dir):
    segs = segments()
    segs[8] = segs[8].replace("STEEL", "ST\x01EEL")
    (ack,) = acks_for(segs)
    assert "AK3*PID*7**8~AK4*5**6*ST?EEL WIDGET 100MM~AK5*R*5~AK9*R*1*1*0" in ack.text
    assert_pyx12_valid(ack, map_dir)


def test_control_numbers_come_from_the_sequences(map_dir):
    (ack,) = acks_for(two_sets())
    assert ack.interchange_control_number == 501
    assert "*00401*000000501*0*P*" in ack.text and ack.text.endswith("IEA*1*000000501~")
    assert "*71*X*004010~ST*997*0001~" in ack.text and "GE*1*71~" in ack.text
    assert ack.acknowledged_control_number == "000000101"


@pytest.mark.parametrize("segs, code", [
    (replace(segments(), "IEA", "IEA*1*000000999"), "001"),
    (replace(segments(), "IEA", "IEA*3*000000101"), "021"),
    (replace(segments(), "IEA", None), "023"),
])
def test_broken_interchange_gets_a_ta1_reject_only(segs, code):
    (ack,) = acks_for(segs)
    assert ack.kind == "TA1"
    assert ack.text.split("~")[1] == f"TA1*000000101*261120*1030*R*{code}"
    assert ack.text.split("~")[2] == f"IEA*0*{ack.interchange_control_number:09d}"
    assert ack.text.split("~")[0].split("*")[8] == "ACMESUPPLY     "  # ISA08: the partner


def test_unpadded_isa_is_rejected_with_ta1_022():
    segs = segments()
    segs[0] = "ISA*00* *00* *ZZ*ACMESUPPLY *ZZ*BUYERCO *261120*1030*U*00401*000000101*0*P*>"
    (ack,) = acks_for(segs)
    isa, ta1 = ack.text.split("~")[:2]
    assert ta1 == "TA1*000000101*261120*1030*R*022" and len(isa) == 105
    assert isa.split("*")[8] == "ACMESUPPLY     "


def test_ta1_accept_when_requested(map_dir):
    segs = segments()
    segs[0] = segs[0].replace("*0*P*>", "*1*P*>")
    ta1, fa = acks_for(segs)
    assert ta1.kind == "TA1" and "TA1*000000101*261120*1030*A*000~" in ta1.text
    assert fa.kind == "997" and ta1.interchange_control_number != fa.interchange_control_number
    assert_pyx12_valid(fa, map_dir)


def test_ta1_with_standard_delimiters_when_inbound_ones_collide():
    (ack,) = acks_for(render(segments(), element="~", terminator="~"))
    assert ack.kind == "TA1" and "~TA1*000000101*261120*1030*R*026~" in ack.text


def test_ta1_uses_inbound_delimiters():
    segs = replace(segments(), "IEA", "IEA*1*000000999")
    (ack,) = acks_for(render(segs, element="|", terminator="\x15", component="}"))
    assert ack.text.split("\x15")[1] == "TA1|000000101|261120|1030|R|001"


def test_non_x12_and_unreadable_sender_get_nothing():
    assert acks_for(b"hello") == []
    assert acks_for(sample_bytes()[:50]) == []
    assert acks_for(sample_bytes(), index=3) == []


def test_acknowledgments_are_never_acknowledged():
    fa = [segments()[0], "GS*FA*ACMESUPPLY*BUYERCO*20261120*1030*7*X*004010", "ST*997*0001",
          "AK1*PO*55", "AK2*850*0001", "AK5*A", "AK9*A*1*1*1", "SE*6*0001", "GE*1*7",
          "IEA*1*000000101"]
    assert acks_for(fa) == []
    fa[0] = fa[0].replace("*0*P*>", "*1*P*>")
    assert acks_for(fa) == []  # not even the TA1 it asks for
    ta1_only = [segments()[0], "TA1*000000077*261119*1200*A*000", "IEA*0*000000101"]
    assert acks_for(ta1_only) == []


def test_fa_group_skipped_next_to_a_po_group(map_dir):
    segs = segments()
    fa = ["GS*FA*ACMESUPPLY*BUYERCO*20261120*1030*7*X*004010", "ST*997*0001", "AK1*PO*55",
          "AK2*850*0001", "AK5*A", "AK9*A*1*1*1", "SE*6*0001", "GE*1*7"]
    (ack,) = acks_for([*segs[:-1], *fa, "IEA*2*000000101"])
    assert "AK1*PR*101" in ack.text and "AK1*FA" not in ack.text
    assert_pyx12_valid(ack, map_dir)


def test_997_and_999_for_mixed_versions(map_dir):
    segs = segments()
    g2 = [s.replace("*101*X*004010", "*102*X*005010") for s in segs[1:19]]
    g2 = [s.replace("ST*855*0001", "ST*855*0001*005010") for s in g2]
    g2[-1] = "GE*1*102"
    acks = acks_for([*segs[:-1], *g2, "IEA*2*000000101"])
    assert [a.kind for a in acks] == ["997", "999"]
    assert "AK1*PR*102*005010~AK2*855*0001*005010~IK5*A~" in acks[1].text
    for ack in acks:
        assert_pyx12_valid(ack, map_dir)


def test_ack_addressed_to_the_group_sender():
    segs = segments()
    segs[1] = segs[1].replace("GS*PR*ACMESUPPLY*BUYERCO", "GS*PR*ACME-APP*BUYER-APP")
    (ack,) = acks_for(segs)
    assert "~GS*FA*BUYER-APP*ACME-APP*20261121*0805*71*X*004010~" in ack.text


def test_duplicate_interchange_from_the_caller_gives_ta1_025():
    dup = Finding(C.DUPLICATE_INTERCHANGE_CONTROL_NUMBER, "ISA13 000000101 was already "
                  "received with other content", interchange_index=0)
    (ack,) = acks_for(sample_bytes(), extra_findings=[dup])
    assert ack.kind == "TA1" and "TA1*000000101*261120*1030*R*025~" in ack.text


def test_warning_only_gives_ta1_e_when_requested(map_dir):
    segs = segments()
    segs[0] = segs[0].replace("*00401*000000101*0*", "*00040*000000101*1*")
    ta1, fa = acks_for(segs)
    assert "TA1*000000101*261120*1030*E*017~" in ta1.text and fa.kind == "997"
    assert "*00401*" in ta1.text  # an unknown inbound version is answered in 00401
    assert_pyx12_valid(fa, map_dir)


def test_mailbag_each_interchange_answered_to_its_own_sender():
    other = [s.replace("ACMESUPPLY", "OTHERSUPPLY").replace("000000101", "000000202")
             for s in segments()]
    other[0] = other[0].replace("OTHERSUPPLY     ", "OTHERSUPPLY    ")  # ISA06 15 wide
    data = sample_bytes() + render(other, element="|", terminator="\x15", component="}")
    first = acks_for(data, 0)[0].text
    second = acks_for(data, 1)[0].text
    assert first.split("*")[8] == "ACMESUPPLY     "
    assert second.split("|")[8] == "OTHERSUPPLY    " and "AK1|PR|101\x15" in second


def _corpus_files():
    return sorted(CORPUS.glob("*/*.edi")) if CORPUS.is_dir() else []


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"real-document corpus not found at {CORPUS}")
@pytest.mark.parametrize("path", _corpus_files(), ids=lambda p: p.name)
def test_every_ack_for_the_real_corpus_validates(path, map_dir):
    result = read_x12(path.read_bytes())
    for index in range(len(result.interchanges)):
        for ack in build_acknowledgments(result, index, our_qualifier="ZZ", our_id="BUYERCO",
                                         control_numbers=Counter(), now=NOW):
            if ack.kind != "TA1":
                assert_pyx12_valid(ack, map_dir)


def test_acks_for_mutated_input_still_validate(map_dir):
    """Randomly damaged 855s: whatever we answer must still be a valid 997."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "robustness", HERE.parent / "x12" / "test_reader_robustness.py")
    robustness = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(robustness)
    checked = 0
    for data in robustness._mutations(seed=11, count=80):
        result = read_x12(data)
        for index in range(len(result.interchanges)):
            for ack in build_acknowledgments(result, index, our_qualifier="ZZ", our_id="US",
                                             control_numbers=Counter(), now=NOW):
                if ack.kind != "TA1":
                    assert_pyx12_valid(ack, map_dir)
                    checked += 1
    assert checked > 10
