"""Reading a partner's 997/999 into per-set answers (gateway.acks.reconcile)."""

from __future__ import annotations

from gateway.acks.reconcile import read_functional_ack
from gateway.x12.reader import read_x12

ISA = "ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*BUYERCO        *261202*0900*U*00401*000000077*0*P*>~"


def _set(body: str, kind: str = "997", version: str = "004010"):
    segments = [s for s in body.split("~") if s]
    text = (ISA + f"GS*FA*ACMESUPPLY*BUYERCO*20261202*0900*77*X*{version}~ST*{kind}*0001~" + body
            + f"SE*{len(segments) + 2}*0001~GE*1*77~IEA*1*000000077~")
    return read_x12(text.encode()).interchanges[0].groups[0].transactions[0]


def test_an_accepting_997_answers_our_set():
    ack = read_functional_ack(_set("AK1*PO*12~AK2*850*0034~AK5*A~AK9*A*1*1*1~"))
    assert (ack.kind, ack.functional_id, ack.group_control_number) == ("997", "PO", "12")
    assert ack.result_for("850", "0034") == ("accepted", [])
    assert ack.result_for("850", "34") == ("accepted", [])  # ST02 zero-padded or not


def test_a_rejecting_997_carries_the_partners_error_detail():
    ack = read_functional_ack(_set("AK1*PO*12~AK2*850*0034~AK3*PO1*6**8~AK4*2*380*4*ABC~AK3*N1*9*N1*3~"
                                   "AK5*R*5~AK9*R*1*1*0~"))
    status, errors = ack.result_for("850", "0034")
    assert status == "rejected"
    assert errors == [
        {"segment_id": "PO1", "segment_position": "6", "loop": None, "code": "8", "element_position": None,
         "bad_value": None},
        {"segment_id": "PO1", "segment_position": "6", "loop": None, "element_position": "2",
         "element_reference": "380", "code": "4", "bad_value": "ABC"},
        {"segment_id": "N1", "segment_position": "9", "loop": "N1", "code": "3", "element_position": None,
         "bad_value": None},
        {"set_error_code": "5"},
    ]


def test_a_group_rejected_without_set_loops_answers_every_set_in_it():
    ack = read_functional_ack(_set("AK1*PO*12~AK9*R*2*2*0*2~"))
    assert ack.result_for("850", "0001") == ("rejected", [{"group_error_code": "2"}])


def test_a_set_not_named_and_no_ak9_is_not_answered():
    ack = read_functional_ack(_set("AK1*PO*12~AK2*850*0001~AK5*E~"))
    assert ack.result_for("850", "0001") == ("accepted_with_errors", [])
    assert ack.result_for("850", "0002") is None


def test_a_999_reads_ik_segments():
    ack = read_functional_ack(_set("AK1*PO*12*005010~AK2*850*0001~IK3*BEG*2**8~IK4*3*324*6*~IK5*R*5~AK9*R*1*1*0~",
                                   kind="999", version="005010X231A1"))
    status, errors = ack.result_for("850", "0001")
    assert (ack.kind, status) == ("999", "rejected")
    assert errors[1] == {"segment_id": "BEG", "segment_position": "2", "loop": None, "element_position": "3",
                         "element_reference": "324", "code": "6", "bad_value": None}


def test_no_ak1_names_nothing():
    assert read_functional_ack(_set("AK2*850*0001~AK5*A~")) is None
